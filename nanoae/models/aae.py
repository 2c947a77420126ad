"""The adversarial autoencoder (Makhzani, Shlens, Jaitly, Goodfellow & Frey 2015).

A deterministic autoencoder whose codes are pushed toward a chosen prior p(z)
by a GAN played on the codes. It is the plain :class:`Autoencoder` (its
encoder, decoder and reconstruction loss) with a discriminator added. A VAE pulls each image's q(z | x) toward p(z)
with a KL term; the AAE instead matches the *aggregate posterior*
q(z) = E_x[ q(z | x) ], the distribution of all codes together, to p(z).
Nothing needs a closed form: the prior only has to be something we can sample.

    z      = encoder(x)                 # (B, latent_dim), one code per image
    logits = decoder(z)                 # (B, input_dim); the image is sigmoid(logits)
    d      = discriminator(z)           # (B, 1), logit of "z was drawn from the prior"

Training alternates three phases on every batch (:meth:`AdversarialAutoencoder.train_step`):

1. reconstruction: encoder and decoder take a step on

       recon = 1/B sum_b sum_i  softplus(l_bi) - x_bi l_bi          (nats per image);

2. discriminator: with prior draws z' ~ p(z) (label 1) and codes z = encoder(x)
   (label 0, held fixed), the discriminator takes a step on

       disc = mean_b BCE(d(z'_b), 1) + mean_b BCE(d(z_b), 0)
            = mean_b softplus(-d(z'_b)) + mean_b softplus(d(z_b));

3. generator: the encoder takes a step toward fooling the discriminator, with
   the non-saturating loss of Goodfellow et al. (2014)

       gen = mean_b BCE(d(encoder(x_b)), 1) = mean_b softplus(-d(encoder(x_b))).

   (The "saturating" alternative, minimizing mean log(1 - sigmoid(d)), has a
   vanishing gradient exactly when the discriminator rejects the codes with
   confidence, which is early in training.)

Each phase has its own optimizer (:meth:`AdversarialAutoencoder.make_optimizers`),
which :func:`nanoae.train.fit` finds and uses. ``loss(x)`` computes the three
terms without updating anything, for evaluation; its total is the
reconstruction loss, the only one of the three that measures the
autoencoder: the two adversarial terms are a game, and their values say who
is winning (disc = 2 log 2 = 1.386 when the discriminator cannot tell).

The priors (``prior`` in :class:`AAEConfig`):

- ``"gaussian"``: N(0, I);
- ``"mixture"``: an equal mixture of ``num_components`` Gaussians with standard
  deviation ``mixture_std``, their means evenly spaced on a circle of radius
  ``mixture_radius`` in the plane of the first two coordinates,
  mu_k = radius (cos 2 pi k / K, sin 2 pi k / K, 0, ..., 0): a ring of
  clusters in 2-D (Makhzani et al. use ten), the same ring with
  Gaussian noise in every further coordinate when latent_dim > 2.
"""
import math
from dataclasses import dataclass

from nanoae import backend, checks, functional as F, optim
from nanoae.models.autoencoder import Autoencoder, AutoencoderConfig
from nanoae.models.mlp import mlp
from nanoae.autograd import Tensor, no_grad

PRIORS = ("gaussian", "mixture")


@dataclass
class AAEConfig(AutoencoderConfig):
    latent_dim: int = 2                # the rest of the autoencoder's fields as in AutoencoderConfig
    prior: str = "gaussian"            # "gaussian" (N(0, I)) or "mixture" (a ring of Gaussians)
    num_components: int = 10           # mixture only: number of Gaussians on the ring
    mixture_radius: float = 4.0        # mixture only: radius of the ring of means
    mixture_std: float = 0.5           # mixture only: standard deviation of each Gaussian
    disc_hidden: tuple[int, ...] = (256, 256)  # the discriminator's hidden layers (latent_dim -> ... -> 1)
    disc_lr: float | None = None       # learning rate of the discriminator (None: the training lr)
    gen_lr: float | None = None        # learning rate of the encoder's generator phase (None: the training lr)

    def __post_init__(self):
        super().__post_init__()
        checks.choice("AAEConfig", "prior", self.prior, PRIORS)
        self.disc_hidden = checks.sizes("AAEConfig", "disc_hidden", self.disc_hidden, example="(256, 256)")
        checks.positive_int("AAEConfig", "num_components", self.num_components)
        checks.positive("AAEConfig", "mixture_radius", self.mixture_radius)
        checks.positive("AAEConfig", "mixture_std", self.mixture_std)
        for name in ("disc_lr", "gen_lr"):   # None: the training lr
            if getattr(self, name) is not None:
                checks.positive("AAEConfig", name, getattr(self, name))


def mixture_means(num_components, radius, latent_dim, xp, dtype="float64"):
    """The means of the mixture prior, (K, latent_dim): evenly spaced on a circle of ``radius``
    in the first two coordinates, mu_k = radius (cos 2 pi k / K, sin 2 pi k / K, 0, ...).

    With latent_dim = 1 only the cosines remain: K points in [-radius, radius].
    """
    angle = 2 * math.pi * xp.arange(num_components) / num_components       # (K,)
    means = xp.zeros((num_components, latent_dim), dtype=dtype)
    means[:, 0] = radius * xp.cos(angle)
    if latent_dim > 1:
        means[:, 1] = radius * xp.sin(angle)
    return means


class AdversarialAutoencoder(Autoencoder):
    """A deterministic autoencoder trained in three phases per batch (module docstring).

    ``loss(x)`` returns ``(recon, {"recon": ..., "disc": ..., "gen": ...})``;
    training goes through :meth:`train_step` with the optimizers of
    :meth:`make_optimizers`.
    """

    name = "aae"
    config_class = AAEConfig

    def __init__(self, config=None):
        super().__init__(config)       # the encoder (to a linear code) and the decoder
        c = self.config
        # The discriminator ends in one logit. Leaky ReLUs are the usual choice in a GAN's
        # discriminator: no unit is ever dead, so the encoder always gets a gradient through it.
        self.discriminator = mlp([c.latent_dim, *c.disc_hidden, 1], "leaky_relu")

    # --- the discriminator (encode, decode, reconstruct and code are the Autoencoder's) ---
    def discriminate(self, z):
        """The discriminator's logit that each code was drawn from the prior: (B, latent_dim) -> (B,)."""
        return self.discriminator(z).reshape(-1)

    # --- the prior --------------------------------------------------------------------
    @property
    def prior_description(self):
        """How figures and the command line name the prior: N(0, I) or the ring of Gaussians."""
        c = self.config
        if c.prior == "gaussian":
            return "N(0, I)"
        return f"a ring of {c.num_components} Gaussians (radius {c.mixture_radius:g}, std {c.mixture_std:g})"

    @property
    def prior_span(self):
        """How far a grid over a 2-D code space should reach: None for N(0, I) (the grid follows
        its quantiles); for the ring, its radius plus two standard deviations, so it holds the ring."""
        c = self.config
        return None if c.prior == "gaussian" else c.mixture_radius + 2 * c.mixture_std

    def sample_prior(self, n):
        """n codes drawn from the prior p(z), a Tensor (n, latent_dim) where the weights are, in their dtype.

        Drawn from nanoae's seeded generator (so a run with a seed is reproducible).
        """
        c = self.config
        w = self.decoder[0].weight                                                # the dtype and device to draw in
        xp = w.xp
        rng = backend.generator_for(xp)
        z = rng.standard_normal((n, c.latent_dim), dtype=w.dtype)                 # (n, latent_dim)
        if c.prior == "mixture":
            # Which Gaussian, each with probability 1/K; from a uniform draw, as CuPy's generator has no integers().
            component = xp.minimum((rng.random(n) * c.num_components).astype("int64"), c.num_components - 1)  # (n,)
            means = mixture_means(c.num_components, c.mixture_radius, c.latent_dim, xp, w.dtype)
            z = means[component] + c.mixture_std * z
        return Tensor(z.astype(w.dtype, copy=False))

    def sample(self, n):
        """n images decoded from prior draws: (n, input_dim) probabilities. Call it under ``no_grad()``."""
        return self.decode(self.sample_prior(n))

    # --- the three losses (the first is Autoencoder.reconstruction_loss) -----------------
    def discriminator_loss(self, z_prior, z_codes):
        """mean BCE(d(z_prior), 1) + mean BCE(d(z_codes), 0): prior draws are "real", codes "fake"."""
        d_real, d_fake = self.discriminate(z_prior), self.discriminate(z_codes)   # (B,) each
        return (F.binary_cross_entropy_with_logits(d_real, d_real.xp.ones_like(d_real.data))
                + F.binary_cross_entropy_with_logits(d_fake, d_fake.xp.zeros_like(d_fake.data)))

    def generator_loss(self, z_codes):
        """mean BCE(d(z_codes), 1): small when the discriminator takes the codes for prior draws."""
        d_fake = self.discriminate(z_codes)                                        # (B,)
        return F.binary_cross_entropy_with_logits(d_fake, d_fake.xp.ones_like(d_fake.data))

    def loss(self, x):
        """The three terms on one batch, for evaluation: ``(recon, {"recon", "disc", "gen"})``.

        The disc term draws ``len(x)`` codes from the prior.
        """
        z = self.encode(x)
        recon = self.reconstruction_loss(self.decode_logits(z), x)
        disc = self.discriminator_loss(self.sample_prior(len(x)), z)
        gen = self.generator_loss(z)
        return recon, {"recon": recon, "disc": disc, "gen": gen}

    # --- training in phases -------------------------------------------------------------
    def make_optimizers(self, config):
        """One optimizer per phase, of the kind ``config.optimizer`` names (a TrainConfig):

        - ``"recon"``: encoder and decoder, learning rate ``config.lr``;
        - ``"disc"``: the discriminator, ``disc_lr`` (or ``config.lr``);
        - ``"gen"``: the encoder again, ``gen_lr`` (or ``config.lr``). It keeps
          its own Adam moments: the generator's gradients have another scale
          than the reconstruction's, and mixing them in one running average
          would let either phase set the other's step size.
        """
        c, make = self.config, optim.OPTIMIZERS[config.optimizer]
        return {
            "recon": make(self.encoder.parameters() + self.decoder.parameters(), lr=config.lr),
            "disc": make(self.discriminator.parameters(), lr=c.disc_lr or config.lr),
            "gen": make(self.encoder.parameters(), lr=c.gen_lr or config.lr),
        }

    def _step(self, loss, optimizer):
        """backward and one step of ``optimizer``, after clearing every gradient of the model,
        so that no phase ever steps on gradients left over from another."""
        self.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def reconstruction_step(self, x, optimizer):
        """Phase 1: update encoder and decoder on the reconstruction loss; returns it."""
        return self._step(self.reconstruction_loss(self.decode_logits(self.encode(x)), x), optimizer)

    def discriminator_step(self, x, optimizer):
        """Phase 2: update the discriminator on prior draws (label 1) against codes (label 0).

        The codes are computed without a graph: this phase must not move the encoder.
        """
        with no_grad():
            z_codes = self.encode(x)                                               # (B, latent_dim)
        return self._step(self.discriminator_loss(self.sample_prior(len(x)), z_codes), optimizer)

    def generator_step(self, x, optimizer):
        """Phase 3: update the encoder to fool the discriminator (the discriminator gets gradients
        here too, but its optimizer does not step: they are cleared before its next phase)."""
        return self._step(self.generator_loss(self.encode(x)), optimizer)

    def train_step(self, x, optimizers):
        """The three phases on one batch; returns ``(recon, {"recon", "disc", "gen"})``,
        each measured before its own update."""
        recon = self.reconstruction_step(x, optimizers["recon"])
        disc = self.discriminator_step(x, optimizers["disc"])
        gen = self.generator_step(x, optimizers["gen"])
        return recon, {"recon": recon, "disc": disc, "gen": gen}
