"""The semantic hashing autoencoder (Salakhutdinov & Hinton, 2009): a code of nearly binary units.

The code layer is a layer of sigmoid units. While training, Gaussian noise is
added to their inputs (the pre-activations a) before the sigmoid:

    a     = encoder(x)                       # (B, latent_dim), pre-activations
    h     = sigmoid(a + sigma_t * eps)       # eps ~ N(0, I), drawn afresh at every step
    loss  = recon( decoder(h), x )           # as for the plain autoencoder

A unit whose |a| is small gives the decoder a random number: sigmoid(a + noise)
can land anywhere in (0, 1). Only a unit with |a| much larger than sigma_t says
reliably "on" (h near 1) or "off" (h near 0). To reconstruct well the encoder
must therefore push the pre-activations far from 0, and the codes become
nearly binary: thresholding them at 0.5 loses little.

The noise level rises during training, linearly from 0 to ``noise_std`` over
the first ``noise_ramp_steps`` training steps (then stays there):

    sigma_t = noise_std * min(1, t / noise_ramp_steps),   t = training steps taken so far.

The model counts the steps in ``steps``: :meth:`SemanticHashingAutoencoder.after_step`
adds one, and ``nanoae.train.fit`` calls it after every update (a loop of
your own should too). ``loss`` only reads the count, so computing a loss
changes nothing. Set ``noise_ramp_steps`` to a fraction of epochs x batches
per epoch.
Starting without noise lets the network first learn a useful code; the noise
then forces it to binary. The count is not a weight: a run resumed from a
checkpoint starts the ramp again.

Call ``init_output_bias(train_x)`` before training (``nanoae.train.fit`` does,
through ``start_from_data``): it starts the decoder at the mean image, so that
no code unit is recruited to draw it and stuck "on" for every image (see that
method).

Reconstructing (``forward``, ``reconstruct``, ``code``, ``encode``) never adds
noise, and neither does ``loss`` in eval mode (the test loss of ``fit``).
``code(x)`` gives the sigmoid activations in (0, 1); ``nanoae.analysis.hashing.to_bits``
thresholds them at 0.5 into the binary code.
"""
from dataclasses import dataclass

from nanoae import backend, checks, functional as F
from nanoae.models.autoencoder import Autoencoder, AutoencoderConfig
from nanoae.autograd import Tensor


@dataclass
class SemanticHashingConfig(AutoencoderConfig):
    latent_dim: int = 32           # code units = bits of the hash
    noise_std: float = 4.0         # final std of the noise added before the sigmoid
    noise_ramp_steps: int = 1000   # training steps over which the std rises from 0 to noise_std (0: from the start)

    def __post_init__(self):
        super().__post_init__()
        checks.non_negative("SemanticHashingConfig", "noise_std", self.noise_std)
        checks.non_negative_int("SemanticHashingConfig", "noise_ramp_steps", self.noise_ramp_steps)


class SemanticHashingAutoencoder(Autoencoder):
    """``loss(x)`` returns ``(recon, {"recon": recon})``, recon of x from its noisy sigmoid code."""

    name = "hash"
    config_class = SemanticHashingConfig

    def __init__(self, config=None):
        super().__init__(config)
        self.steps = 0          # training steps taken: sets the noise level (module docstring)

    def current_noise_std(self):
        """sigma_t = noise_std * min(1, steps / noise_ramp_steps)."""
        c = self.config
        if c.noise_ramp_steps == 0:
            return c.noise_std
        return c.noise_std * min(1.0, self.steps / c.noise_ramp_steps)

    def init_output_bias(self, x):
        """Start the decoder at the mean image: set its output bias to logit(mean of x) (pixels, (N, D)).

        Call before training. Otherwise, early in training, the quickest way for
        the decoder to draw the mean image is through code units switched on for
        every image; such a unit saturates, its gradient vanishes, and it stays a
        constant 1 that carries no information (a dead bit). Hinton's guide to
        training RBMs starts visible biases at log(p / (1 - p)) for the same reason.
        For linear outputs the bias is the mean itself.
        """
        xp = backend.get_array_module(x)
        mean = x.mean(axis=0)                                     # (D,)
        if self.config.output == "sigmoid":
            mean = xp.clip(mean, 1e-3, 1 - 1e-3)
            mean = xp.log(mean / (1 - mean))                      # the logit, sigmoid(logit) = mean
        bias = self.decoder[-1].bias
        bias.data[...] = backend.to_device(mean, bias.device).astype(bias.dtype)
        return self

    def start_from_data(self, x):
        """What ``nanoae.train.fit`` calls before a fresh run: :meth:`init_output_bias`."""
        return self.init_output_bias(x)

    def preactivation(self, x):
        """The code units' inputs a, before the sigmoid: (B, latent_dim)."""
        return self.encoder(x)

    def encode(self, x):
        """The deterministic code sigmoid(a) in (0, 1): (B, latent_dim)."""
        return F.sigmoid(self.preactivation(x))

    def noisy_code(self, x):
        """sigmoid(a + sigma_t * eps), the code the decoder sees while training: (B, latent_dim)."""
        a = self.preactivation(x)
        std = self.current_noise_std()
        if std > 0:
            eps = backend.generator_for(a.xp).standard_normal(a.shape, dtype=a.dtype)
            a = a + Tensor(std * eps)                   # noise is data: no gradient flows into it
        return F.sigmoid(a)

    def loss(self, x):
        h = self.noisy_code(x) if self.training else self.encode(x)
        recon = self.reconstruction_loss(self.decode_logits(h), x)
        return recon, {"recon": recon}

    def after_step(self):
        """Count one training step: the clock of the noise ramp. The training loop calls it after each update."""
        self.steps += 1
