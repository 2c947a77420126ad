"""The convolutional autoencoder: strided convolutions down, transposed convolutions up.

Like every model here it takes flat images x (B, C*H*W) and reshapes them
inside, so the data loader, the training loop and the plots need no change.
With the default config (28x28 images, channels (16, 32), kernel 3):

    x      (B, 784) -> (B, 1, 28, 28)
    conv 3x3, stride 2, padding 1, ReLU     -> (B, 16, 14, 14)
    conv 3x3, stride 2, padding 1, ReLU     -> (B, 32, 7, 7)
    flatten, Linear                         -> z (B, latent_dim), a linear code
    Linear, ReLU, unflatten                 -> (B, 32, 7, 7)
    transposed conv 3x3, stride 2, ReLU     -> (B, 16, 14, 14)
    transposed conv 3x3, stride 2           -> logits (B, 1, 28, 28) -> (B, 784)

Each encoder convolution halves the height and the width: with padding
p = k // 2 (k odd), H_out = (H + 2p - k) // 2 + 1 = ceil(H / 2). Each decoder
layer is the transposed convolution of the same shape, whose output size is
(H_in - 1) * 2 - 2p + k + output_padding; ``output_padding`` (0 or 1) picks
which of the two sizes that map to the same H_in is meant, so the decoder
ends exactly at the input's size (28 -> 14 -> 7 -> 14 -> 28, or 7 -> 4 -> 7).

The reconstruction loss is the one of :class:`nanoae.models.Autoencoder`:
the binary cross-entropy of the logits, summed over pixels and averaged over
the batch (nats per image), so the two models' losses compare directly.
"""
import math
from dataclasses import dataclass

from nanoae import checks, nn
from nanoae.models.autoencoder import Autoencoder


@dataclass
class ConvAutoencoderConfig:
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of one image; inputs come flat, (B, C*H*W)
    channels: tuple[int, ...] = (16, 32)  # output channels of the encoder's convolutions, each of stride 2
    kernel_size: int = 3                  # odd, so that padding k // 2 keeps every output centred on its input
    latent_dim: int = 32
    activation: str = "relu"              # "relu", "tanh", "sigmoid" or "leaky_relu"
    # Not settings: the decoder always gives pixel logits, scored by the binary cross-entropy,
    # which is what Autoencoder.decode and Autoencoder.reconstruction_loss read.
    output = "sigmoid"
    recon = "bce"

    def __post_init__(self):
        name = type(self).__name__
        self.image_shape = checks.sizes(name, "image_shape", self.image_shape, example="(1, 28, 28)")
        self.channels = checks.sizes(name, "channels", self.channels, example="(16, 32)")
        if len(self.image_shape) != 3:
            raise ValueError(f"{name}: image_shape must be (channels, height, width), got {self.image_shape!r}")
        if not self.channels:
            raise ValueError(f"{name}: channels needs at least one convolution, got ()")
        checks.positive_int(name, "kernel_size", self.kernel_size)
        checks.positive_int(name, "latent_dim", self.latent_dim)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"{name}: kernel_size must be odd (padding kernel_size // 2 then centres "
                             f"each window), got {self.kernel_size}")
        checks.choice(name, "activation", self.activation, tuple(nn.ACTIVATIONS))

    @property
    def input_dim(self):
        """Numbers per flat image, C * H * W (784 for MNIST)."""
        return math.prod(self.image_shape)

    def feature_map_sizes(self):
        """[(H, W) of the image, after the first convolution, ..., after the last]."""
        sizes = [self.image_shape[1:]]
        pad = self.kernel_size // 2
        for _ in self.channels:
            sizes.append(tuple((n + 2 * pad - self.kernel_size) // 2 + 1 for n in sizes[-1]))
        return sizes


class ConvAutoencoder(Autoencoder):
    """The plain :class:`nanoae.models.Autoencoder` with convolutional layers: a convolutional
    encoder and a transposed-convolution decoder. ``loss(x)``, ``decode``, ``reconstruct`` and
    ``code`` are the Autoencoder's; only the layers and the reshaping between flat images and
    (B, C, H, W) are new here."""

    name = "conv-ae"
    config_class = ConvAutoencoderConfig

    def build_encoder(self):
        """(B, C, H, W) -> [conv stride 2, activation] per entry of channels -> flatten -> Linear -> z."""
        c = self.config
        channels = [c.image_shape[0], *c.channels]              # [1, 16, 32]
        last_map = (channels[-1], *c.feature_map_sizes()[-1])   # (32, 7, 7)
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, c.kernel_size, stride=2, padding=c.kernel_size // 2),
                       nn.ACTIVATIONS[c.activation]()]
        layers += [nn.Flatten(), nn.Linear(math.prod(last_map), c.latent_dim)]
        return nn.Sequential(*layers)

    def build_decoder(self):
        """z -> Linear -> unflatten -> [transposed conv stride 2, activation] mirrored -> logits (B, C, H, W)."""
        c = self.config
        k, pad = c.kernel_size, c.kernel_size // 2
        channels = [c.image_shape[0], *c.channels]              # [1, 16, 32]
        sizes = c.feature_map_sizes()                           # [(28, 28), (14, 14), (7, 7)]
        last_map = (channels[-1], *sizes[-1])                   # (32, 7, 7)
        activation = nn.ACTIVATIONS[c.activation]
        layers = [nn.Linear(c.latent_dim, math.prod(last_map)), activation(), nn.Unflatten(1, last_map)]
        for i in reversed(range(len(c.channels))):             # mirror the encoder, last layer first
            size_in, size_out = sizes[i + 1], sizes[i]
            extra = [n_out - ((n_in - 1) * 2 - 2 * pad + k) for n_in, n_out in zip(size_in, size_out)]
            output_padding = extra[0] if extra[0] == extra[1] else tuple(extra)
            layers.append(nn.ConvTranspose2d(channels[i + 1], channels[i], k, stride=2, padding=pad,
                                             output_padding=output_padding))
            if i > 0:
                layers.append(activation())                     # the last layer gives logits
        return nn.Sequential(*layers)

    def encode(self, x):
        """Flat images (B, C*H*W) -> codes (B, latent_dim)."""
        if x.ndim != 2 or x.shape[1] != self.config.input_dim:
            raise ValueError(f"ConvAutoencoder: x must be flat images (B, {self.config.input_dim}) "
                             f"for image_shape {self.config.image_shape}, got shape {x.shape}")
        return self.encoder(x.reshape(len(x), *self.config.image_shape))      # through (B, C, H, W)

    def decode_logits(self, z):
        """Codes (B, latent_dim) -> pixel logits, flat (B, C*H*W)."""
        logits = self.decoder(z)                                               # (B, C, H, W)
        return logits.reshape(len(z), self.config.input_dim)
