"""The denoising autoencoder (Vincent et al. 2008): rebuild the clean x from a corrupted copy.

    x_tilde = corrupt(x)                          # fresh noise at every call
    loss    = recon( decoder(encoder(x_tilde)),  x )   # the target is the CLEAN x

An identity map no longer solves the task, so the code has to capture how
the inputs hang together. The corruption is data, not part of the model:
no gradient flows through it. Three kinds, each with strength ``noise_level`` = p:

- ``"gaussian"``: x + p * N(0, 1), clipped to [0, 1] when the outputs are pixels;
- ``"masking"``: each input set to 0 with probability p;
- ``"salt_pepper"``: each input, with probability p, set to 0 or to 1 (equally likely).

Reconstructing (``forward``, ``reconstruct``, ``code``) uses x as it is, without noise.
"""
from dataclasses import dataclass

from nanoae import backend, checks
from nanoae.models.autoencoder import Autoencoder, AutoencoderConfig
from nanoae.autograd import Tensor

NOISES = ("gaussian", "masking", "salt_pepper")


@dataclass
class DenoisingConfig(AutoencoderConfig):
    noise: str = "gaussian"      # "gaussian", "masking" or "salt_pepper"
    noise_level: float = 0.3     # the Gaussian's std, or the probability of corrupting an input

    def __post_init__(self):
        super().__post_init__()
        checks.choice("DenoisingConfig", "noise", self.noise, NOISES)
        if self.noise == "gaussian" and not self.noise_level >= 0:
            raise ValueError(f"DenoisingConfig: noise_level (the std) must be >= 0, got {self.noise_level!r}")
        if self.noise != "gaussian" and not 0 <= self.noise_level <= 1:
            raise ValueError(f"DenoisingConfig: noise_level (a probability) must be in [0, 1], "
                             f"got {self.noise_level!r}")


class DenoisingAutoencoder(Autoencoder):
    """``loss(x)`` returns ``(total, {"recon": recon})``, total = recon of the clean x from corrupt(x)."""

    name = "dae"
    config_class = DenoisingConfig

    def corrupt(self, x):
        """A corrupted copy of x (a new tensor outside the graph), noise drawn on x's device."""
        xp, rng, p = x.xp, backend.generator_for(x.xp), self.config.noise_level
        if self.config.noise == "gaussian":
            noisy = x.data + p * rng.standard_normal(x.shape, dtype=x.dtype)
            if self.config.output == "sigmoid":
                noisy = xp.clip(noisy, 0, 1)
        elif self.config.noise == "masking":
            noisy = x.data * (rng.random(x.shape, dtype=x.dtype) >= p)
        else:
            hit = rng.random(x.shape, dtype=x.dtype) < p
            salt = rng.random(x.shape, dtype=x.dtype) < 0.5
            noisy = xp.where(hit, salt, x.data)
        return Tensor(noisy.astype(x.dtype))

    def loss(self, x):
        recon = self.reconstruction_loss(self.decode_logits(self.encode(self.corrupt(x))), x)
        return recon, {"recon": recon}
