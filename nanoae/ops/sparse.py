"""Sparse activations: topk keeps the k largest entries of each row and zeroes the rest.

The activation of the TopK sparse autoencoder (Makhzani & Frey's k-sparse
autoencoder, 2013; Gao et al., "Scaling and evaluating sparse autoencoders",
2024): whatever the input, exactly k entries of each row survive, so the
number of active units is set directly instead of through a penalty.

For one row x (the last axis; every other axis counts as more rows)

    y_i = x_i   if i is kept (one of the k largest entries),
    y_i = 0     otherwise.

The derivative. Which entries are kept does not change under a small enough
change of x (unless two entries tie at the threshold), so near x the op is
linear: y = x * kept, with ``kept`` a constant 0/1 mask. Hence

    dy_i/dx_j = 1 if i = j and i is kept, else 0,

and backward keeps the upstream gradient where an entry was kept and puts 0
elsewhere (``where`` rather than a product with the mask, which would write
-0 for a negative upstream gradient): the gradient flows only through the
kept entries, as in max pooling. An entry that was dropped gets no gradient,
however close it came to being kept.

Ties. When several entries equal the k-th largest value, some of them must be
dropped to keep exactly k; the ones with the lowest index along the row are
kept. Any choice gives a valid subgradient (the op is not differentiable
there, and a central difference straddling the tie would see a jump); this
one is deterministic and the same on NumPy and CuPy. A NaN in a row makes
the choice in that row meaningless, as it does for any comparison.
"""
from nanoae import checks
from nanoae.autograd import Function
from nanoae.ops.elementwise import where


class TopK(Function):
    """y = x where x is among the k largest of its row, else 0.   dy/dx = the 0/1 mask of kept entries."""

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        self.kept = kept_mask(self.xp, x, self.k)   # (..., n) bool, exactly k True per row
        return self.xp.where(self.kept, x, 0).astype(x.dtype, copy=False)

    def backward(self, gy):
        return where(self.kept, gy, 0)


def kept_mask(xp, x, k):
    """The bool mask of the k largest entries of each row of array ``x`` (ties: lowest index first).

    ``partition`` moves the k-th largest value of each row to position n - k
    without sorting the row (linear time). Every entry above it is kept; of
    the entries equal to it, the first ones along the row fill the places left.
    """
    n = x.shape[-1]
    threshold = xp.partition(x, n - k, axis=-1)[..., n - k:n - k + 1]     # (..., 1): the k-th largest value
    above = x > threshold
    tied = x == threshold
    places_left = k - above.sum(axis=-1, keepdims=True)                    # (..., 1), at least 1
    return above | (tied & (xp.cumsum(tied, axis=-1) <= places_left))


def topk(x, k):
    """Keep the ``k`` largest entries along the last axis of ``x``, zero the others (module docstring)."""
    n = x.shape[-1] if x.ndim else 0
    checks.positive_int("topk", "k", k)
    if k > n:
        raise ValueError(f"topk: k = {k} is more than the {n} entries along the last axis of x {x.shape}")
    return TopK(k)(x)
