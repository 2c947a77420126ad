"""The variational autoencoder (Kingma & Welling 2014), as in pytorch/examples (784-400-20, ReLU).

The encoder gives a Gaussian over codes instead of one code:

    a        = MLP(x)                       # (B, hidden[-1])
    mu       = Linear(a)                    # (B, latent_dim)
    log_var  = Linear(a)                    # (B, latent_dim), the log of the VARIANCE
    z        = mu + exp(0.5 log_var) * eps,  eps ~ N(0, I)    (reparameterization)
    logits   = decoder(z)                   # (B, input_dim); the image is sigmoid(logits)

The loss is the negative ELBO, in nats per image:

    recon = 1/B sum_b sum_i  BCE(sigmoid(logits_bi), x_bi)      (one sample z per image)
    kl    = 1/B sum_b sum_j  -1/2 (1 + log_var - mu^2 - exp(log_var))_bj
    total = recon + beta * kl

beta = 1 is the VAE; beta > 1 is the beta-VAE (Higgins et al. 2017).
pytorch/examples sums the loss over the batch instead of averaging it; the
two differ by the constant factor B, which Adam's update does not see.
"""
from dataclasses import dataclass

from nanoae import backend, checks, functional as F, nn
from nanoae.models.config import check_mlp_fields, config_or_default
from nanoae.models.mlp import mlp
from nanoae.autograd import Tensor


@dataclass
class VAEConfig:
    input_dim: int = 784
    hidden: tuple[int, ...] = (400,)  # the encoder's hidden layers; the decoder mirrors them
    latent_dim: int = 20
    activation: str = "relu"     # "relu", "tanh", "sigmoid" or "leaky_relu"
    beta: float = 1.0            # weight of the KL term

    def __post_init__(self):
        check_mlp_fields(self)
        checks.non_negative("VAEConfig", "beta", self.beta)


class VAE(nn.Module):
    """``loss(x)`` returns ``(recon + beta * kl, {"recon": ..., "kl": ...})``."""

    name = "vae"
    config_class = VAEConfig
    input_kind = "images"        # flat rows of pixels, (B, input_dim)

    def __init__(self, config=None):
        super().__init__()
        self.config = config_or_default(self, config)
        c = self.config
        if c.hidden:
            # The trunk ends with an activation too: mu and log_var read its last hidden layer.
            self.encoder = mlp([c.input_dim, *c.hidden], c.activation, last=nn.ACTIVATIONS[c.activation]())
        else:
            self.encoder = nn.Identity()  # mu and log_var read x itself
        width = c.hidden[-1] if c.hidden else c.input_dim
        self.mu = nn.Linear(width, c.latent_dim)
        self.log_var = nn.Linear(width, c.latent_dim)
        self.decoder = mlp([c.latent_dim, *reversed(c.hidden), c.input_dim], c.activation)

    def encode(self, x):
        """The Gaussian q(z | x): its mean and its log-variance, each (B, latent_dim)."""
        a = self.encoder(x)                           # (B, hidden[-1])
        return self.mu(a), self.log_var(a)

    def decode_logits(self, z):
        return self.decoder(z)                        # (B, input_dim)

    def decode(self, z):
        """Pixel probabilities sigmoid(decoder(z)), (B, input_dim)."""
        return F.sigmoid(self.decode_logits(z))

    def forward(self, x):
        """A reconstruction through one sampled code z ~ q(z | x), as in training."""
        mu, log_var = self.encode(x)
        return self.decode(F.reparameterize(mu, log_var))

    def reconstruct(self, x):
        """The deterministic reconstruction decode(mu)."""
        return self.decode(self.code(x))

    def code(self, x):
        """The mean code mu, (B, latent_dim), used for plots."""
        return self.encode(x)[0]

    def loss(self, x, eps=None):
        """The negative ELBO and its two terms (module docstring).

        ``eps`` (B, latent_dim): the standard normal draw of the reparameterization,
        drawn fresh when None; pass one to make the loss deterministic.
        """
        mu, log_var = self.encode(x)                  # (B, latent_dim) each
        z = F.reparameterize(mu, log_var, eps)        # (B, latent_dim)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="sum") / len(x)
        kl = F.gaussian_kl(mu, log_var, reduction="sum") / len(x)
        return recon + self.config.beta * kl, {"recon": recon, "kl": kl}

    prior_description = "N(0, I)"   # how figures and the command line name the prior that sample() draws from
    prior_span = None                # a Gaussian prior: a grid over the codes follows its quantiles

    def sample(self, n):
        """n images decoded from codes drawn from the prior N(0, I): (n, input_dim) probabilities.

        The codes are drawn where the weights are, in their dtype. Call it under
        ``no_grad()`` unless you mean to differentiate the samples.
        """
        w = self.mu.weight
        z = backend.generator_for(w.xp).standard_normal((n, self.config.latent_dim), dtype=w.dtype)
        return self.decode(Tensor(z))                 # (n, input_dim)

    def interpolate(self, x_a, x_b, steps=10):
        """Images decoded along the straight line from mu(x_a) to mu(x_b): (steps, input_dim).

        x_a and x_b are single images, of shape (input_dim,) or (1, input_dim);
        the first row is reconstruct(x_a), the last reconstruct(x_b).
        """
        mu_a = self.code(x_a.reshape(1, -1))          # (1, latent_dim)
        mu_b = self.code(x_b.reshape(1, -1))
        xp = mu_a.xp
        t = Tensor(xp.linspace(0, 1, steps, dtype=mu_a.dtype).reshape(steps, 1))   # (steps, 1)
        return self.decode((1 - t) * mu_a + t * mu_b)  # (steps, input_dim)
