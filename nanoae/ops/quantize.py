"""Vector quantization: the nearest codebook vector, and the straight-through estimator.

A VQ-VAE (van den Oord et al. 2017) replaces each vector z_e that its
encoder outputs by the nearest of K vectors e_0 ... e_{K-1}, its codebook:

    k(z_e) = argmin_k ||z_e - e_k||^2,        z_q = e_{k(z_e)}.

The choice of k is a jump: moving z_e a little leaves z_q where it is, until
another vector becomes the nearest and z_q jumps to it. So dz_q/dz_e = 0
almost everywhere, and no gradient would ever reach the encoder.
The straight-through estimator (Bengio et al. 2013) pretends that the
quantizer is the identity on the way back: the decoder reads z_q, and the
gradient it sends to z_q is handed to z_e unchanged.

``nearest_code`` picks k; ``straight_through`` is that estimator, an op of
its own so that its backward can be read in one line. PyTorch users write
the same thing as ``z_e + (z_q - z_e).detach()``.
"""
from nanoae.autograd import Function, ShapeError, Tensor


class StraightThrough(Function):
    """y = z_q in the forward pass; in the backward pass, dL/dz_e = dL/dy and nothing for z_q.

    Inputs: z_e, the encoder's vectors, and z_q, the codebook vectors chosen
    for them, of the same shape. The output holds the values of z_q. Backward:

        dL/dz_e := dL/dy           (the gradient of the quantized vectors, passed on unchanged)
        dL/dz_q := 0               (the codebook learns from a loss term of its own, or by EMA)

    This is not the derivative of the forward pass (that would be 0 for z_e,
    whose small moves do not change z_q, and dL/dy for z_q). It is the
    derivative of the identity, y = z_e, used as a stand-in: the estimator is
    exact when z_q moves one for one with z_e, and good while z_q stays close
    to z_e, which the commitment loss sees to.
    """

    def forward(self, z_e, z_q):
        return z_q.copy()              # a new array: the output is not the codebook's own memory

    def backward(self, gy):
        return gy, None


def straight_through(z_e, z_q):
    """The values of ``z_q`` with the gradient routed to ``z_e`` (see :class:`StraightThrough`)."""
    if tuple(z_e.shape) != tuple(z_q.shape):
        raise ShapeError(f"straight_through: z_e has shape {tuple(z_e.shape)} but z_q has shape "
                         f"{tuple(z_q.shape)}; each vector needs its quantized vector")
    return StraightThrough()(z_e, z_q)


def squared_distances(z, codebook):
    """||z_n - e_k||^2 for every row z_n of z (N, D) and every row e_k of codebook (K, D): (N, K) array.

    Written as ||z_n||^2 - 2 z_n . e_k + ||e_k||^2: one matrix product instead
    of an (N, K, D) array of differences. Rounding can make a distance of 0
    come out slightly negative; the order of the distances is what matters.
    """
    z, codebook = _checked_vectors("squared_distances", z, codebook)
    distances = _distances_less_row_norms(z, codebook)
    distances += (z * z).sum(axis=1, keepdims=True)                      # + ||z_n||^2, (N, 1)
    return distances


def nearest_code(z, codebook):
    """k_n = argmin_k ||z_n - e_k||^2 for each row of z (N, D): a Tensor of N integers, no gradient.

    An index is a choice, not a number that varies smoothly, so nothing is
    recorded for backward. Ties go to the smallest k. ||z_n||^2 is the same
    for every k, so the argmin is taken without it: one pass fewer over the
    (N, K) distances, which for a VQ-VAE's batch (6,272 vectors, 512 codes)
    are the biggest array of the step.
    """
    z, codebook = _checked_vectors("nearest_code", z, codebook)
    return Tensor(_distances_less_row_norms(z, codebook).argmin(axis=1))  # (N,)


def _distances_less_row_norms(z, codebook):
    """||e_k||^2 - 2 z_n . e_k: (N, K), built in place in the matrix product's result (the -2 goes on the
    small codebook, not on the (N, K) array)."""
    distances = z @ (-2 * codebook).T                                     # (N, K)
    distances += (codebook * codebook).sum(axis=1)                        # + ||e_k||^2, (K,)
    return distances


def _checked_vectors(op, z, codebook):
    z, codebook = _data(z), _data(codebook)
    if z.ndim != 2 or codebook.ndim != 2 or z.shape[1] != codebook.shape[1]:
        raise ShapeError(f"{op}: need vectors z (N, D) and a codebook (K, D), got shapes "
                         f"{tuple(z.shape)} and {tuple(codebook.shape)}")
    return z, codebook


def _data(x):
    return x.data if isinstance(x, Tensor) else x
