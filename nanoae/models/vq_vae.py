"""The vector-quantized VAE (van den Oord, Vinyals & Kavukcuoglu 2017): an image as a grid of integers.

With the default config (28x28 images, channels (32, 64), D = 16, K = 512):

    x      (B, 784) -> (B, 1, 28, 28)
    conv 4x4, stride 2, padding 1, ReLU          -> (B, 32, 14, 14)
    conv 4x4, stride 2, padding 1, ReLU          -> (B, 64, 7, 7)
    conv 1x1                                     -> z_e (B, D, 7, 7): a vector of D numbers at each of 7x7 places
    the nearest of the K codebook vectors        -> k (B, 7, 7) integers in [0, K), z_q = e_k (B, D, 7, 7)
    conv 3x3, padding 1, ReLU                    -> (B, 64, 7, 7)
    transposed conv 4x4, stride 2, ReLU          -> (B, 32, 14, 14)
    transposed conv 4x4, stride 2                -> logits (B, 1, 28, 28) -> (B, 784)

The code of an image is the grid k: 7 x 7 = 49 integers of log2(512) = 9 bits,
441 bits per image (``bits_per_image``). The decoder reads z_q through the
straight-through estimator (``ops/quantize.py``): its gradient goes to z_e
unchanged, as if the quantizer were not there.

The loss, per image (summed over pixels and over the places of the grid,
averaged over the batch), with sg(.) the stop-gradient (``detach``):

    recon      = sum_i BCE(logits_i, x_i)                nats per image, as the other image models
    codebook   = sum ||sg(z_e) - z_q||^2                  pulls the chosen codebook vectors to the encoder's
    commitment = sum ||z_e - sg(z_q)||^2                  keeps the encoder near the codebook it chose
    total      = recon + codebook + beta * commitment

codebook and commitment have the same value; they differ in where their
gradient goes (the codebook or the encoder).

``codebook_update="ema"`` moves the codebook without gradients instead (the
paper's appendix): with n_k the number of vectors of the batch that chose
code k and s_k their sum,

    N_k <- decay N_k + (1 - decay) n_k,     m_k <- decay m_k + (1 - decay) s_k,     e_k = m_k / N_k,

N_k smoothed by (N_k + eps) / (N + K eps) N (N = sum_k N_k), so that a code
no vector chose divides by no 0. e_k is then a running mean of the vectors
that chose it. The codebook term leaves the loss; N and m are kept as
parameters without a gradient (``ema_count``, ``ema_sum``) so that
checkpoints and ``to()`` carry them.

Dead codes. A codebook vector that no encoder output is near is never
chosen, so it gets no gradient and no EMA update: it stays dead, and the
code uses fewer than K symbols. With ``restart_after = T > 0`` a code no
training vector chose for T steps is moved onto a random encoder output of
the current batch (the random restarts of Dhariwal et al. 2020's Jukebox).
The default restarts after 100 steps; ``restart_after=0`` is the paper's
algorithm, which chapter 15 shows collapsing.

``loss`` (in training mode) notes the batch's encoder outputs and codes;
``after_step``, which ``nanoae.train.fit`` calls after every update, uses
them for the EMA update, the usage clock and the restarts. The clock is not
a weight: a resumed run starts it again.
"""
import math
from dataclasses import dataclass

from nanoae import backend, checks, functional as F, nn, ops
from nanoae.autograd import Tensor
from nanoae.models.config import config_or_default

KERNEL = 4          # 4x4 kernels with stride 2 and padding 1 halve a side exactly: 28 -> 14 -> 7 -> 14 -> 28
EMA_EPSILON = 1e-5  # the smoothing of the EMA counts


@dataclass
class VQVAEConfig:
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of one image; inputs come flat, (B, C*H*W)
    channels: tuple[int, ...] = (32, 64)  # output channels of the encoder's stride-2 convolutions
    embedding_dim: int = 16       # D: numbers per codebook vector
    codebook_size: int = 512      # K: codebook vectors, the symbols of the code
    beta: float = 0.25            # weight of the commitment term
    codebook_update: str = "loss"  # "loss" (the codebook term's gradient) or "ema" (running means)
    ema_decay: float = 0.99       # the decay of the EMA update
    restart_after: int = 100      # restart a code unused for this many training steps (0: never)

    def __post_init__(self):
        name = type(self).__name__
        self.image_shape = checks.sizes(name, "image_shape", self.image_shape, example="(1, 28, 28)")
        self.channels = checks.sizes(name, "channels", self.channels, example="(32, 64)")
        if len(self.image_shape) != 3:
            raise ValueError(f"{name}: image_shape must be (channels, height, width), got {self.image_shape!r}")
        if not self.channels:
            raise ValueError(f"{name}: channels needs at least one convolution, got ()")
        factor = 2 ** len(self.channels)
        if any(side % factor for side in self.image_shape[1:]):
            raise ValueError(f"{name}: {len(self.channels)} stride-2 convolutions need a height and width "
                             f"divisible by {factor}, got {self.image_shape[1:]}")
        checks.positive_int(name, "embedding_dim", self.embedding_dim)
        checks.positive_int(name, "codebook_size", self.codebook_size)
        if self.codebook_size < 2:
            raise ValueError(f"{name}: codebook_size must be at least 2 (one code says nothing), "
                             f"got {self.codebook_size}")
        checks.non_negative(name, "beta", self.beta)
        checks.choice(name, "codebook_update", self.codebook_update, ("loss", "ema"))
        if not (isinstance(self.ema_decay, (int, float)) and 0 <= self.ema_decay < 1):
            raise ValueError(f"{name}: ema_decay must be in [0, 1), got {self.ema_decay!r}")
        checks.non_negative_int(name, "restart_after", self.restart_after)

    @property
    def input_dim(self):
        """Numbers per flat image, C * H * W (784 for MNIST)."""
        return math.prod(self.image_shape)

    @property
    def grid_shape(self):
        """(h, w) of the grid of codes: the image's sides halved once per convolution."""
        factor = 2 ** len(self.channels)
        return tuple(side // factor for side in self.image_shape[1:])


class VQVAE(nn.Module):
    """``loss(x)`` returns ``(total, {"recon", "codebook", "commitment"})``; with EMA, no "codebook" term."""

    name = "vq-vae"
    config_class = VQVAEConfig
    input_kind = "images"        # flat rows of pixels, (B, input_dim)

    def __init__(self, config=None):
        super().__init__()
        self.config = c = config_or_default(self, config)
        if c.codebook_update == "ema":
            self.ema_count = nn.Parameter(backend.default_array_module().ones(c.codebook_size, dtype="float32"),
                                          requires_grad=False)           # N_k (K,)
        self.encoder = self.build_encoder()
        self.codebook = nn.Embedding(c.codebook_size, c.embedding_dim)   # e_k: the rows of codebook.weight (K, D)
        nn.init.uniform_(self.codebook.weight, -1 / c.codebook_size, 1 / c.codebook_size)
        if c.codebook_update == "ema":
            self.ema_sum = nn.Parameter(self.codebook.weight.data.copy(), requires_grad=False)   # m_k (K, D)
        self.decoder = self.build_decoder()
        self.steps = 0                                    # training steps taken: the usage clock
        # The step at which each code was last chosen (NumPy: read on the CPU after every step).
        self.last_used = backend.array_module_for("cpu").zeros(c.codebook_size, dtype="int64")
        self._noted = None                                # (z_e rows, codes) of the last training batch

    def build_encoder(self):
        """(B, C, H, W) -> [conv 4x4 stride 2, ReLU] per entry of channels -> conv 1x1 to D channels: z_e."""
        c = self.config
        channels = [c.image_shape[0], *c.channels]              # [1, 32, 64]
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(c_in, c_out, KERNEL, stride=2, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(channels[-1], c.embedding_dim, 1))
        return nn.Sequential(*layers)

    def build_decoder(self):
        """z_q (B, D, h, w) -> conv 3x3, ReLU -> [transposed conv 4x4 stride 2, ReLU] mirrored -> logits."""
        c = self.config
        channels = [c.image_shape[0], *c.channels]
        layers = [nn.Conv2d(c.embedding_dim, channels[-1], 3, padding=1), nn.ReLU()]
        for i in reversed(range(len(c.channels))):
            layers.append(nn.ConvTranspose2d(channels[i + 1], channels[i], KERNEL, stride=2, padding=1))
            if i > 0:
                layers.append(nn.ReLU())                        # the last layer gives logits
        return nn.Sequential(*layers)

    @property
    def bits_per_image(self):
        """The length of an image's code: h * w places of log2(K) bits each."""
        return math.prod(self.config.grid_shape) * math.log2(self.config.codebook_size)

    # --- encoding and quantizing ----------------------------------------------------------
    def encode(self, x):
        """Flat images (B, C*H*W) -> z_e (B, D, h, w), the encoder's vectors before quantization."""
        if x.ndim != 2 or x.shape[1] != self.config.input_dim:
            raise ValueError(f"VQVAE: x must be flat images (B, {self.config.input_dim}) for image_shape "
                             f"{self.config.image_shape}, got shape {x.shape}")
        return self.encoder(x.reshape(len(x), *self.config.image_shape))

    def quantize(self, z_e):
        """z_e (B, D, h, w) -> (z_q (B, D, h, w), k (B, h, w)): each vector replaced by its nearest codebook vector.

        z_q is the codebook's rows, on the graph of ``codebook.weight`` when the
        codebook learns by its loss term, constants when it learns by EMA.
        The encoder's gradient is not here: it goes through ``straight_through``.
        """
        b, d, h, w = z_e.shape
        rows = z_e.transpose(0, 2, 3, 1).reshape(b * h * w, d)      # (B*h*w, D), one vector per place
        k = ops.nearest_code(rows, self.codebook.weight)             # (B*h*w,)
        return self.lookup(k.reshape(b, h, w)), k.reshape(b, h, w)

    def lookup(self, k):
        """Codes k (B, h, w) -> their codebook vectors z_q (B, D, h, w)."""
        if self.config.codebook_update == "ema":
            z_q = Tensor(self.codebook.weight.data[backend.to_device(_data(k), self.device)])
        else:
            z_q = self.codebook(k)                                    # (B, h, w, D)
        return z_q.transpose(0, 3, 1, 2)

    def codes(self, x):
        """The code of each image: k (B, h, w), integers in [0, K)."""
        return self.quantize(self.encode(x))[1]

    # --- decoding --------------------------------------------------------------------------
    def decode_logits(self, z_q):
        """Quantized vectors (B, D, h, w) -> pixel logits, flat (B, C*H*W)."""
        return self.decoder(z_q).reshape(len(z_q), self.config.input_dim)

    def decode(self, z_q):
        """Pixel probabilities sigmoid(decoder(z_q)), (B, C*H*W)."""
        return F.sigmoid(self.decode_logits(z_q))

    def decode_codes(self, k):
        """Images (B, C*H*W) drawn by the decoder from codes k (B, h, w): a prior's samples, for one."""
        return self.decode(self.lookup(k))

    def forward(self, x):
        return self.decode(self.quantize(self.encode(x))[0])

    def reconstruct(self, x):
        """decode(z_q): deterministic, as every step of the VQ-VAE is."""
        return self.forward(x)

    def code(self, x):
        """The quantized vectors, flat (B, D*h*w): the code that plots show."""
        z_q = self.quantize(self.encode(x))[0]
        return z_q.reshape(len(x), -1)

    # --- the loss ----------------------------------------------------------------------------
    def loss(self, x):
        """The three terms of the module docstring, and their weighted sum."""
        z_e = self.encode(x)                                          # (B, D, h, w)
        z_q, k = self.quantize(z_e)
        logits = self.decode_logits(ops.straight_through(z_e, z_q))   # the gradient of z_q goes to z_e
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
        commitment = ((z_e - z_q.detach()) ** 2).sum() / len(x)
        terms = {"recon": recon}
        if self.config.codebook_update == "loss":
            terms["codebook"] = ((z_e.detach() - z_q) ** 2).sum() / len(x)
        terms["commitment"] = commitment
        if self.training:
            d = self.config.embedding_dim
            self._noted = (z_e.data.transpose(0, 2, 3, 1).reshape(-1, d), k.data.reshape(-1))
        total = recon + self.config.beta * commitment
        if "codebook" in terms:
            total = total + terms["codebook"]
        return total, terms

    # --- after each training step: usage, EMA, restarts -----------------------------------------
    def after_step(self):
        """Use the batch ``loss`` noted: count usage, move the codebook by EMA, restart dead codes."""
        self.steps += 1
        if self._noted is None:
            return
        rows, k = self._noted
        self._noted = None
        self.last_used[backend.to_numpy(k)] = self.steps
        if self.config.codebook_update == "ema":
            self.update_codebook_ema(rows, k)
        if self.config.restart_after:
            self.restart_dead_codes(rows, self.dead_codes())

    def dead_codes(self):
        """The codes (a NumPy int array) no training vector chose in the last ``restart_after`` steps."""
        return (self.steps - self.last_used >= self.config.restart_after).nonzero()[0]

    def update_codebook_ema(self, rows, k):
        """One EMA step (module docstring) from encoder outputs ``rows`` (n, D) and their codes k (n,)."""
        xp, c = backend.get_array_module(rows), self.config
        one_hot = (k[:, None] == xp.arange(c.codebook_size)).astype(rows.dtype)   # (n, K)
        count, total = self.ema_count.data, self.ema_sum.data
        count *= c.ema_decay
        count += (1 - c.ema_decay) * one_hot.sum(axis=0)                # N_k
        total *= c.ema_decay
        total += (1 - c.ema_decay) * (one_hot.T @ rows)                  # m_k
        n = count.sum()
        smoothed = (count + EMA_EPSILON) / (n + c.codebook_size * EMA_EPSILON) * n
        self.codebook.weight.data[...] = total / smoothed[:, None]
        for p in (self.ema_count, self.ema_sum, self.codebook.weight):
            p._version += 1                                              # changed in place

    def restart_dead_codes(self, rows, dead):
        """Move each dead code onto a random row of ``rows`` (n, D), encoder outputs of this batch."""
        if len(dead) == 0:
            return
        picked = backend.cpu_generator().choice(len(rows), size=len(dead), replace=len(dead) > len(rows))
        dead_here = backend.to_device(dead, self.device)
        vectors = rows[backend.to_device(picked, self.device)]            # (len(dead), D)
        self.codebook.weight.data[dead_here] = vectors
        self.codebook.weight._version += 1
        if self.config.codebook_update == "ema":
            self.ema_count.data[dead_here] = 1.0                          # a running mean of one vector so far
            self.ema_sum.data[dead_here] = vectors
            self.ema_count._version += 1
            self.ema_sum._version += 1
        self.last_used[dead] = self.steps


def _data(x):
    return x.data if isinstance(x, Tensor) else x
