"""Sparse autoencoders that take a trained model's activations apart (chapter 16).

A trained network's hidden layer packs many features into few units: one unit
answers to several unrelated things, and one thing is spread over several
units. A sparse autoencoder (SAE) rewrites each activation vector x (d numbers)
as a sum of a few directions picked from a dictionary much larger than d:

    z     = encode(x)                      # (B, num_latents), mostly zeros
    x_hat = b_pre + sum_j z_j d_j          # d_j: the decoder's column j, of unit length

and the hope, often borne out, is that each direction d_j means one thing.
Two ways to make z sparse:

- ``activation="topk"`` (Makhzani & Frey 2013; Gao et al. 2024): keep the k
  largest pre-activations of each row, zero the rest, then a ReLU (so an active
  latent is a positive one, as in Gao et al.'s code). The number of active
  latents is at most k by construction; the loss is the reconstruction alone.
- ``activation="relu"``: a ReLU, and an L1 penalty on z, as chapter 04's sparse
  autoencoder with ``sparsity="l1"``: total = recon + l1 * sum_j |z_j|.

The pieces, for x (B, d), z (B, L) with L = num_latents:

    pre   = (x - b_pre) W_enc^T + b_enc          # (B, L)
    z     = relu(topk(pre, k))  or  relu(pre)     # (B, L)
    x_hat = z D^T + b_pre,  D = W_dec / ||W_dec||_columns   # (B, d)
    recon = 1/B sum_b ||x_b - x_hat_b||^2        # summed over the d units, averaged over the batch

The pre-encoder bias b_pre is subtracted before encoding and added after
decoding: the SAE describes how x differs from a typical activation, not the
typical activation itself. It starts at the mean of the training activations
(``start_from_data``; Gao et al. use the geometric median, which the mean is
close to for data without far outliers).

Decoder columns of unit length. Without them the L1 penalty could be dodged
(halve z, double the column: same x_hat, half the penalty), and a latent's
size would not be comparable across latents. Gao et al. renormalise the
columns after each step and remove, before each step, the part of the
gradient along each column. Here both come from one line: the decoder uses
D = W_dec / ||W_dec|| (per column), and ``after_step`` sets W_dec to D. While
a column w has length 1, the gradient of the loss through w / ||w|| is
(I - w w^T) g: exactly g with its component along w removed (the derivative of
w / ||w|| is (I - u u^T) / ||w|| with u = w / ||w||). So the optimizer sees
Gao et al.'s projected gradient, and the step's small change of length is
undone after it.

The encoder starts as the decoder's transpose (Gao et al.: fewer latents die,
since each latent at first fires for the inputs its own column draws).
"""
from dataclasses import dataclass

from nanoae import backend, checks, functional as F, nn, ops
from nanoae.models.config import config_or_default
from nanoae.nn import Module, Parameter


@dataclass
class SAEConfig:
    input_dim: int = 64          # d: the width of the activations it reads
    num_latents: int = 1024      # L: the dictionary's size, here 16 x d
    activation: str = "topk"     # "topk" (exactly k kept) or "relu" (sparse through the L1 penalty)
    k: int = 16                  # "topk": latents kept per input
    l1: float = 0.0              # "relu": weight of the L1 penalty

    def __post_init__(self):
        checks.positive_int("SAEConfig", "input_dim", self.input_dim)
        checks.positive_int("SAEConfig", "num_latents", self.num_latents)
        checks.choice("SAEConfig", "activation", self.activation, ("topk", "relu"))
        checks.positive_int("SAEConfig", "k", self.k)
        checks.non_negative("SAEConfig", "l1", self.l1)
        if self.k > self.num_latents:
            raise ValueError(f"SAEConfig: k = {self.k} is more than num_latents = {self.num_latents}")


class SAE(Module):
    """A sparse autoencoder of activations; ``loss(x)`` returns ``(total, terms)`` as every model here.

    terms: ``recon`` (both kinds) and, for ``activation="relu"``, ``l1`` = 1/B sum |z|.
    Call ``after_step()`` after every optimizer step (``nanoae.train.fit`` does).
    """

    name = "sae"
    config_class = SAEConfig

    def __init__(self, config=None):
        super().__init__()
        self.config = c = config_or_default(self, config)
        self.b_pre = Parameter.empty((c.input_dim,), "float32", "SAE")
        self.W_dec = Parameter.empty((c.input_dim, c.num_latents), "float32", "SAE")   # (d, L): column j is d_j
        self.W_enc = Parameter.empty((c.num_latents, c.input_dim), "float32", "SAE")   # (L, d)
        self.b_enc = Parameter.empty((c.num_latents,), "float32", "SAE")
        nn.init.zeros_(self.b_pre)
        nn.init.zeros_(self.b_enc)
        nn.init.normal_(self.W_dec)
        self.after_step()                                    # unit columns
        self.W_enc.data[...] = self.W_dec.data.T             # the encoder starts as the decoder's transpose
        self.W_enc._version += 1

    # --- the three steps ---------------------------------------------------------------------
    def preactivation(self, x):
        """(x - b_pre) W_enc^T + b_enc: (B, L)."""
        return F.linear(x - self.b_pre, self.W_enc, self.b_enc)

    def encode(self, x):
        """The sparse code z (B, L), every entry >= 0 (module docstring)."""
        pre = self.preactivation(x)
        if self.config.activation == "topk":
            pre = ops.topk(pre, self.config.k)
        return F.relu(pre)

    def decoder_directions(self):
        """D = W_dec with each column divided by its length: (d, L), unit columns."""
        norms = (self.W_dec * self.W_dec).sum(axis=0, keepdims=True).sqrt()        # (1, L)
        return self.W_dec / norms

    def decode(self, z):
        """x_hat = z D^T + b_pre: (B, d)."""
        return F.linear(z, self.decoder_directions(), self.b_pre)

    def forward(self, x):
        return self.decode(self.encode(x))

    def reconstruct(self, x):
        return self.forward(x)

    # --- training ----------------------------------------------------------------------------
    def loss(self, x):
        z = self.encode(x)                                   # (B, L)
        diff = self.decode(z) - x                            # (B, d)
        recon = (diff * diff).sum() / len(x)
        if self.config.activation == "topk":
            return recon, {"recon": recon}
        l1 = z.sum() / len(x)                                # z >= 0, so |z| = z
        return recon + self.config.l1 * l1, {"recon": recon, "l1": l1}

    def start_from_data(self, x):
        """b_pre = the mean of the training activations x (N, d); ``nanoae.train.fit`` calls it."""
        self.b_pre.data[...] = backend.to_device(x.mean(axis=0), self.b_pre.device).astype(self.b_pre.dtype)
        self.b_pre._version += 1
        return self

    def after_step(self):
        """Set every decoder column back to length 1, in place (module docstring)."""
        w = self.W_dec.data
        w /= self.W_dec.xp.sqrt((w * w).sum(axis=0, keepdims=True))
        self.W_dec._version += 1
