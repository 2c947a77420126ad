"""The plain autoencoder: squeeze x through a small code z and rebuild it.

    z     = encoder(x)              # (B, latent_dim), a linear code
    x_hat = sigmoid(decoder(z))     # (B, input_dim), pixels in (0, 1)

The encoder is an MLP input_dim -> hidden... -> latent_dim, the decoder its
mirror latent_dim -> reversed(hidden) -> input_dim. The decoder gives logits;
for pixel data (``output="sigmoid"``) the reconstruction loss is the binary
cross-entropy computed from the logits,

    recon = 1/B sum_b sum_i  softplus(l_bi) - x_bi l_bi       (nats per example),

exact for any logit, or the squared error of the sigmoid outputs (``recon="mse"``).
For real-valued data (``output="linear"``) the logits are the outputs and the
loss is the squared error.

The other autoencoders subclass this one and add a term to :meth:`Autoencoder.loss`.
"""
from dataclasses import dataclass

from nanoae import checks, functional as F
from nanoae.models.config import check_mlp_fields, config_or_default
from nanoae.models.mlp import mlp
from nanoae.nn import Module


@dataclass
class AutoencoderConfig:
    input_dim: int = 784
    hidden: tuple[int, ...] = (400,)  # sizes of the encoder's hidden layers; the decoder mirrors them
    latent_dim: int = 32
    activation: str = "relu"     # "relu", "tanh", "sigmoid" or "leaky_relu"
    output: str = "sigmoid"      # "sigmoid" (pixels in [0, 1]) or "linear" (real values)
    recon: str = "bce"           # "bce" or "mse"; "linear" outputs need "mse"

    def __post_init__(self):
        check_mlp_fields(self)
        checks.choice(type(self).__name__, "output", self.output, ("sigmoid", "linear"))
        checks.choice(type(self).__name__, "recon", self.recon, ("bce", "mse"))
        if self.output == "linear" and self.recon == "bce":
            raise ValueError(f"{type(self).__name__}: recon='bce' needs output='sigmoid' (probabilities); "
                             "use recon='mse' for linear outputs")


class Autoencoder(Module):
    """An MLP autoencoder; ``loss(x)`` returns ``(total, {"recon": recon})`` with total = recon."""

    name = "ae"
    config_class = AutoencoderConfig
    input_kind = "images"        # flat rows of pixels, (B, input_dim)

    def __init__(self, config=None):
        super().__init__()
        self.config = config_or_default(self, config)
        self.encoder = self.build_encoder()
        self.decoder = self.build_decoder()

    def build_encoder(self):
        """input_dim -> hidden... -> latent_dim with a linear code (subclasses change the code layer)."""
        c = self.config
        return mlp([c.input_dim, *c.hidden, c.latent_dim], c.activation)

    def build_decoder(self):
        """latent_dim -> reversed(hidden)... -> input_dim logits, the encoder's mirror."""
        c = self.config
        return mlp([c.latent_dim, *reversed(c.hidden), c.input_dim], c.activation)

    def encode(self, x):
        return self.encoder(x)                        # (B, latent_dim)

    def decode_logits(self, z):
        return self.decoder(z)                        # (B, input_dim)

    def decode(self, z):
        """The reconstruction in pixel space: sigmoid of the logits, or the linear outputs."""
        logits = self.decode_logits(z)
        return F.sigmoid(logits) if self.config.output == "sigmoid" else logits

    def forward(self, x):
        return self.decode(self.encode(x))

    def reconstruct(self, x):
        return self.forward(x)

    def code(self, x):
        """The code shown in plots: here simply encode(x)."""
        return self.encode(x)

    def reconstruction_loss(self, logits, x):
        """Summed over features, averaged over the batch (see the module docstring)."""
        if self.config.recon == "bce":
            per_batch = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        else:
            x_hat = F.sigmoid(logits) if self.config.output == "sigmoid" else logits
            per_batch = F.mse_loss(x_hat, x, reduction="sum")
        return per_batch / len(x)

    def loss(self, x):
        recon = self.reconstruction_loss(self.decode_logits(self.encode(x)), x)
        return recon, {"recon": recon}
