"""PyTorch mirrors of the Autoencoder family: ae, dae, sparse, cae, conv-ae, aae and hash.

Each class here mirrors the nanoae class of the same name, method for method;
hold ``nanoae/models/autoencoder.py`` (and its subclasses' files) beside this
one. The layers are given, already converted (``to_torch`` builds them from
the nanoae model's own layers), so a mirror holds only what the model
computes. The config is the nanoae model's dataclass: plain data.

Where the nanoae loss draws noise, the mirror's ``loss`` takes it as an
argument (``x_tilde``, ``z_prior``, ``eps``) and draws it from torch's
generator only when it is left out.
"""
import torch
import torch.nn.functional as F

from nanoae import backend
from nanoae.models.aae import mixture_means


class Autoencoder(torch.nn.Module):
    """The mirror of ``nanoae.models.Autoencoder`` ("ae"): z = encoder(x), x_hat = sigmoid(decoder(z))."""

    def __init__(self, config, encoder, decoder):
        super().__init__()
        self.config = config
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x):
        return self.encoder(x)                        # (B, latent_dim)

    def decode_logits(self, z):
        return self.decoder(z)                        # (B, input_dim)

    def decode(self, z):
        logits = self.decode_logits(z)
        return torch.sigmoid(logits) if self.config.output == "sigmoid" else logits

    def forward(self, x):
        return self.decode(self.encode(x))

    def reconstruct(self, x):
        return self.forward(x)

    def code(self, x):
        return self.encode(x)

    def reconstruction_loss(self, logits, x):
        """Summed over features, averaged over the batch."""
        if self.config.recon == "bce":
            per_batch = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        else:
            x_hat = torch.sigmoid(logits) if self.config.output == "sigmoid" else logits
            per_batch = F.mse_loss(x_hat, x, reduction="sum")
        return per_batch / len(x)

    def loss(self, x):
        recon = self.reconstruction_loss(self.decode_logits(self.encode(x)), x)
        return recon, {"recon": recon}


class DenoisingAutoencoder(Autoencoder):
    """The mirror of ``nanoae.models.DenoisingAutoencoder`` ("dae"): rebuild the clean x from x_tilde."""

    @torch.no_grad()                                  # the corruption is data: no gradient flows through it
    def corrupt(self, x):
        p = self.config.noise_level
        if self.config.noise == "gaussian":
            noisy = x + p * torch.randn_like(x)
            return noisy.clamp(0, 1) if self.config.output == "sigmoid" else noisy
        if self.config.noise == "masking":
            return x * (torch.rand_like(x) >= p)
        hit, salt = torch.rand_like(x) < p, torch.rand_like(x) < 0.5
        return torch.where(hit, salt.to(x.dtype), x)

    def loss(self, x, x_tilde=None):
        """``x_tilde``: the corrupted x; ``corrupt(x)`` when None (nanoae's loss always corrupts afresh)."""
        x_tilde = self.corrupt(x) if x_tilde is None else x_tilde
        recon = self.reconstruction_loss(self.decode_logits(self.encode(x_tilde)), x)
        return recon, {"recon": recon}


class SparseAutoencoder(Autoencoder):
    """The mirror of ``nanoae.models.SparseAutoencoder`` ("sparse"): total = recon + beta * sparsity."""

    def sparsity_penalty(self, h):
        c = self.config
        if c.sparsity == "kl":
            rho, rho_hat = c.rho, h.mean(dim=0)       # rho_hat: (latent_dim,)
            return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
        return h.abs().sum() / len(h)

    def loss(self, x):
        h = self.encode(x)                            # (B, latent_dim)
        recon = self.reconstruction_loss(self.decode_logits(h), x)
        sparsity = self.sparsity_penalty(h)
        return recon + self.config.beta * sparsity, {"recon": recon, "sparsity": sparsity}


class ContractiveAutoencoder(Autoencoder):
    """The mirror of ``nanoae.models.ContractiveAutoencoder`` ("cae"): total = recon + lam * ||J||_F^2."""

    def jacobian_penalty(self, x, h=None):
        """1/B sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2, the closed form of nanoae's docstring."""
        h = self.encode(x) if h is None else h        # (B, latent_dim)
        w = self.encoder[0].weight                    # (latent_dim, input_dim)
        slope = h * (1 - h)
        return (slope * slope * (w * w).sum(dim=1)).sum() / len(x)

    def loss(self, x):
        h = self.encode(x)
        recon = self.reconstruction_loss(self.decode_logits(h), x)
        contractive = self.jacobian_penalty(x, h)
        return recon + self.config.lam * contractive, {"recon": recon, "contractive": contractive}


class ConvAutoencoder(Autoencoder):
    """The mirror of ``nanoae.models.ConvAutoencoder`` ("conv-ae"): flat images in and out, (B, C, H, W) inside."""

    def encode(self, x):
        return self.encoder(x.reshape(len(x), *self.config.image_shape))   # (B, C*H*W) -> (B, latent_dim)

    def decode_logits(self, z):
        return self.decoder(z).reshape(len(z), self.config.input_dim)      # (B, C, H, W) -> (B, C*H*W)


class SemanticHashingAutoencoder(Autoencoder):
    """The mirror of ``nanoae.models.SemanticHashingAutoencoder`` ("hash"): a noisy sigmoid code.

    ``steps`` is the clock of the noise ramp, as in nanoae (``to_torch`` copies it).
    """

    def __init__(self, config, encoder, decoder):
        super().__init__(config, encoder, decoder)
        self.steps = 0

    def current_noise_std(self):
        c = self.config
        return c.noise_std if c.noise_ramp_steps == 0 else c.noise_std * min(1.0, self.steps / c.noise_ramp_steps)

    def preactivation(self, x):
        return self.encoder(x)                        # (B, latent_dim)

    def encode(self, x):
        return torch.sigmoid(self.preactivation(x))

    def noisy_code(self, x, eps=None):
        """sigmoid(a + sigma_t * eps); ``eps`` (B, latent_dim) standard normal, drawn when None."""
        a = self.preactivation(x)
        std = self.current_noise_std()
        if std > 0:
            a = a + std * (torch.randn_like(a) if eps is None else eps)
        return torch.sigmoid(a)

    def loss(self, x, eps=None):
        """As nanoae's: noise only in training mode; ``eps`` is then the standard normal draw."""
        h = self.noisy_code(x, eps) if self.training else self.encode(x)
        recon = self.reconstruction_loss(self.decode_logits(h), x)
        return recon, {"recon": recon}

    def after_step(self):
        self.steps += 1


class AdversarialAutoencoder(Autoencoder):
    """The mirror of ``nanoae.models.AdversarialAutoencoder`` ("aae"): an autoencoder and a discriminator
    on its codes. ``loss`` gives the three terms; the training in phases is left to the reader's torch loop."""

    def __init__(self, config, encoder, decoder, discriminator):
        super().__init__(config, encoder, decoder)
        self.discriminator = discriminator

    def discriminate(self, z):
        return self.discriminator(z).reshape(-1)      # (B, latent_dim) -> (B,) logits

    def sample_prior(self, n):
        """n codes from the prior, (n, latent_dim), in the weights' dtype and device."""
        c, w = self.config, self.decoder[0].weight
        z = torch.randn(n, c.latent_dim, dtype=w.dtype, device=w.device)
        if c.prior == "mixture":
            # The same means as nanoae's, computed as nanoae computes them (on the CPU, in float64).
            means = mixture_means(c.num_components, c.mixture_radius, c.latent_dim, backend.array_module_for("cpu"))
            component = torch.randint(c.num_components, (n,), device=w.device)
            z = torch.as_tensor(means, dtype=w.dtype, device=w.device)[component] + c.mixture_std * z
        return z

    def sample(self, n):
        return self.decode(self.sample_prior(n))

    def discriminator_loss(self, z_prior, z_codes):
        d_real, d_fake = self.discriminate(z_prior), self.discriminate(z_codes)
        return (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))

    def generator_loss(self, z_codes):
        d_fake = self.discriminate(z_codes)
        return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))

    def loss(self, x, z_prior=None):
        """``(recon, {"recon", "disc", "gen"})``; ``z_prior`` (B, latent_dim): the prior draws, sampled when None."""
        z = self.encode(x)
        recon = self.reconstruction_loss(self.decode_logits(z), x)
        z_prior = self.sample_prior(len(x)) if z_prior is None else z_prior
        disc = self.discriminator_loss(z_prior, z)
        gen = self.generator_loss(z)
        return recon, {"recon": recon, "disc": disc, "gen": gen}
