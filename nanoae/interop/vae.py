"""PyTorch mirror of the variational autoencoder, ``nanoae/models/vae.py`` ("vae").

    mu, log_var = mu(encoder(x)), log_var(encoder(x))        # log_var: the log of the VARIANCE
    z           = mu + exp(0.5 log_var) * eps,  eps ~ N(0, I)
    recon       = 1/B sum BCE(sigmoid(decoder(z)), x),   kl = 1/B sum -1/2 (1 + log_var - mu^2 - exp(log_var))

``loss(x, eps)`` and ``forward(x, eps)`` take the draw eps (B, latent_dim), as
nanoae's ``loss`` does; they draw it from torch's generator when it is None.
"""
import torch
import torch.nn.functional as F


def reparameterize(mu, log_var, eps=None):
    """z = mu + exp(0.5 log_var) * eps, a differentiable sample of N(mu, exp(log_var))."""
    eps = torch.randn_like(mu) if eps is None else eps
    return mu + torch.exp(0.5 * log_var) * eps


class VAE(torch.nn.Module):
    """The mirror of ``nanoae.models.VAE``: ``loss(x, eps=None)`` returns ``(recon + beta * kl, {"recon", "kl"})``."""

    def __init__(self, config, encoder, mu, log_var, decoder):
        super().__init__()
        self.config = config
        self.encoder, self.mu, self.log_var, self.decoder = encoder, mu, log_var, decoder

    def encode(self, x):
        a = self.encoder(x)                           # (B, hidden[-1])
        return self.mu(a), self.log_var(a)            # (B, latent_dim) each

    def decode_logits(self, z):
        return self.decoder(z)                        # (B, input_dim)

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x, eps=None):
        """A reconstruction through one sampled code, as in training."""
        return self.decode(reparameterize(*self.encode(x), eps))

    def reconstruct(self, x):
        return self.decode(self.code(x))

    def code(self, x):
        return self.encode(x)[0]                      # the mean mu

    def loss(self, x, eps=None):
        mu, log_var = self.encode(x)
        z = reparameterize(mu, log_var, eps)
        recon = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="sum") / len(x)
        kl = (0.5 * (mu * mu + torch.exp(log_var) - 1 - log_var)).sum() / len(x)
        return recon + self.config.beta * kl, {"recon": recon, "kl": kl}

    def sample(self, n):
        """n images decoded from codes drawn from the prior N(0, I)."""
        w = self.mu.weight
        return self.decode(torch.randn(n, self.config.latent_dim, dtype=w.dtype, device=w.device))
