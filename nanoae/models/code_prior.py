"""A prior over the VQ-VAE's codes: a GRU that reads the grid of codes in raster order.

The VQ-VAE (``vq_vae.py``) turns an image into a grid k of h x w integers in
[0, K). Its decoder draws an image from any grid, but a grid of codes drawn
independently and uniformly decodes to noise: the codes of real images
depend on each other. Read row by row, left to right (raster order), a grid
is a sequence k_1 ... k_T of T = h w codes, and its probability factorizes
exactly:

    p(k) = p(k_1) p(k_2 | k_1) ... p(k_T | k_1 ... k_{T-1}).

This prior models every factor with one recurrent network (the PixelCNN of
van den Oord et al. 2017 does the same with masked convolutions):

    inputs = [START, k_1, ..., k_{T-1}]            (B, T); START = K, one extra row of the embedding table
    h      = GRU(Embedding(inputs))                (B, T, H): h_t has read the codes before place t
    logits = Linear(h)                             (B, T, K): p(k_t | k_<t) = softmax(logits_t)
    nll    = -1/B sum_b sum_t log p(k_bt | k_b<t)  nats per image

nll / ln 2 is the length in bits of the grid written by an entropy coder
that uses the prior, to compare with h w log2 K for the grid written plainly.

``sample(n)`` draws k_1, then k_2 given k_1, and so on, one GRU step per
place; ``VQVAE.decode_codes`` turns the grids into images. The prior trains
with ``nanoae.train.fit`` on the codes of the training images, (N, T) integers.
"""
from dataclasses import dataclass

from nanoae import backend, checks, functional as F, nn
from nanoae.autograd import Tensor, no_grad
from nanoae.models.config import config_or_default


@dataclass
class CodePriorConfig:
    codebook_size: int = 512              # K, the VQ-VAE's
    grid_shape: tuple[int, int] = (7, 7)  # (h, w), the VQ-VAE's
    embedding_dim: int = 64               # size of the vector each code is read as
    hidden_size: int = 256                # H, the GRU's state

    def __post_init__(self):
        name = type(self).__name__
        checks.positive_int(name, "codebook_size", self.codebook_size)
        self.grid_shape = checks.sizes(name, "grid_shape", self.grid_shape, example="(7, 7)")
        if len(self.grid_shape) != 2:
            raise ValueError(f"{name}: grid_shape must be (height, width), got {self.grid_shape!r}")
        checks.positive_int(name, "embedding_dim", self.embedding_dim)
        checks.positive_int(name, "hidden_size", self.hidden_size)

    @property
    def length(self):
        """T = h w, the codes per image."""
        return self.grid_shape[0] * self.grid_shape[1]


class CodePrior(nn.Module):
    """``loss(codes)`` returns ``(nll, {"nll": nll})`` in nats per image; ``sample(n)`` draws grids (n, h, w)."""

    name = "code-prior"
    config_class = CodePriorConfig
    input_kind = "codes"          # grids of integer codes, flat in raster order: (B, h*w)

    def __init__(self, config=None):
        super().__init__()
        self.config = c = config_or_default(self, config)
        self.embedding = nn.Embedding(c.codebook_size + 1, c.embedding_dim)   # row K: the start symbol
        self.gru = nn.GRU(c.embedding_dim, c.hidden_size)
        self.out = nn.Linear(c.hidden_size, c.codebook_size)

    @property
    def start(self):
        """The start symbol: the extra row K of the embedding table."""
        return self.config.codebook_size

    def logits(self, codes):
        """Codes (B, T) in raster order -> logits (B, T, K) of p(k_t | k_<t) at every place t."""
        codes = self._as_sequences(codes)
        b, t = codes.shape
        xp = backend.get_array_module(codes)
        inputs = xp.concatenate([xp.full((b, 1), self.start, dtype=codes.dtype), codes[:, :-1]], axis=1)
        states, _ = self.gru(self.embedding(inputs))                # (B, T, H)
        return self.out(states)                                     # (B, T, K)

    def loss(self, codes):
        """The negative log-likelihood of the grids, summed over places, averaged over the batch (nats)."""
        codes = self._as_sequences(codes)
        logits = self.logits(codes)
        b, t, k = logits.shape
        nll = F.cross_entropy(logits.reshape(b * t, k), codes.reshape(b * t), reduction="sum") / b
        return nll, {"nll": nll}

    def sample(self, n, temperature=1.0):
        """n grids (n, h, w) of codes, each drawn place by place from p(k_t | k_<t) (a Tensor of ints).

        ``temperature`` divides the logits: below 1 the draws keep to the likelier codes.
        """
        checks.positive("CodePrior.sample", "temperature", temperature)
        c, xp = self.config, self.out.weight.xp
        rng = backend.generator_for(xp)
        previous = xp.full(n, self.start, dtype="int64")
        h, drawn = None, []
        with no_grad():
            for _ in range(c.length):
                h = self.gru.cell(self.embedding(previous), h)                      # (n, H)
                probabilities = F.softmax(self.out(h) / temperature, axis=1).data   # (n, K)
                u = rng.random((n, 1), dtype=probabilities.dtype)
                previous = (probabilities.cumsum(axis=1) < u).sum(axis=1)          # the inverse of the CDF
                previous = xp.minimum(previous, c.codebook_size - 1)                # u above a rounded total
                drawn.append(previous)
        return Tensor(xp.stack(drawn, axis=1).reshape(n, *c.grid_shape))

    def _as_sequences(self, codes):
        """Codes as an integer array (B, T), from a Tensor or array of grids (B, h, w) or sequences (B, T)."""
        codes = codes.data if isinstance(codes, Tensor) else codes
        codes = backend.to_device(backend.asarray(codes), self.out.weight.device).reshape(len(codes), -1)
        if codes.dtype.kind not in "iu" or codes.shape[1] != self.config.length:
            raise ValueError(f"CodePrior: codes must be integer grids of {self.config.grid_shape} "
                             f"({self.config.length} per image), got {codes.dtype} of shape {codes.shape}")
        return codes
