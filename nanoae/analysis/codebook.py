"""The health of a codebook, and the length of a code: for the VQ-VAE (``nanoae/models/vq_vae.py``).

A codebook of K vectors is healthy when the encoder uses many of them about
equally often. Three numbers say how far from that it is, from the counts
c_k of each code over a data set (``code_counts``):

- the usage p_k = c_k / sum_j c_j, a histogram over the K codes;
- the perplexity exp(H(p)) = exp(-sum_k p_k log p_k): the number of codes
  that, used equally often, would have the same entropy. It is K when every
  code is used equally, 1 when one code does everything;
- the dead codes, those with c_k = 0, and their share of the codebook.

A code of h x w places, each one of K symbols, takes h w log2(K) bits written
plainly (``bits_per_image``). A continuous code of n numbers takes n b bits once
each number is rounded to one of 2^b levels (``quantize_uniformly``): how a
plain autoencoder is given a length in bits, to compare at equal bits.
"""
import math

from nanoae import backend
from nanoae.autograd import Tensor


def code_counts(codes, codebook_size):
    """How often each of the K codes occurs in ``codes`` (integers of any shape): a NumPy array (K,)."""
    codes = backend.to_numpy(codes.data if isinstance(codes, Tensor) else codes).reshape(-1)
    if codes.size and (codes.min() < 0 or codes.max() >= codebook_size):
        raise ValueError(f"code_counts: codes must be in [0, {codebook_size}), got {codes.min()}..{codes.max()}")
    return backend.array_module_for("cpu").bincount(codes, minlength=codebook_size)


def usage(counts):
    """The share of each code, p_k = c_k / sum_j c_j (K,)."""
    total = counts.sum()
    if total == 0:
        raise ValueError("usage: no code was counted")
    return counts / total


def perplexity(counts):
    """exp(-sum_k p_k log p_k) of the usage, in [1, K]; codes never used add nothing (0 log 0 = 0)."""
    p = usage(counts)
    p = p[p > 0]
    return math.exp(-float((p * backend.get_array_module(p).log(p)).sum()))


def dead_codes(counts):
    """The codes that never occur (indices, a NumPy array)."""
    return (counts == 0).nonzero()[0]


def dead_share(counts):
    """The share of the codebook that is dead, in [0, 1]."""
    return len(dead_codes(counts)) / len(counts)


def codebook_health(counts):
    """{"perplexity", "used", "dead", "dead_share"} of a codebook from its code counts."""
    dead = len(dead_codes(counts))
    return {"perplexity": perplexity(counts), "used": len(counts) - dead, "dead": dead,
            "dead_share": dead / len(counts)}


def bits_per_image(grid_shape, codebook_size):
    """The length of a code of ``grid_shape`` places (h, w), each one of K symbols: h w log2 K bits."""
    return math.prod(grid_shape) * math.log2(codebook_size)


def quantize_uniformly(codes, bits, low, high):
    """Round each number of ``codes`` (n, d) to the nearest of 2^bits levels evenly spaced over [low, high].

    ``low`` and ``high`` (numbers, or arrays (d,) for one range per column)
    are fixed beforehand, from the training codes; values outside are clipped
    to them. Each number then takes ``bits`` bits: d * bits per code. Returns
    the rounded codes (the levels themselves, ready to decode).
    """
    if bits < 1 or int(bits) != bits:
        raise ValueError(f"quantize_uniformly: bits must be a positive integer, got {bits!r}")
    xp = backend.get_array_module(codes)
    steps = 2 ** int(bits) - 1                                       # 2^b levels, 2^b - 1 steps between them
    width = xp.maximum(xp.asarray(high) - xp.asarray(low), 1e-12)
    level = xp.rint((xp.clip(codes, low, high) - low) / width * steps)
    return (low + level / steps * width).astype(codes.dtype)
