"""A catalogue of every op and loss with sample inputs, for gradient checking.

``nanoae gradcheck`` runs each case through :func:`nanoae.gradcheck` and prints
a table; the test suite runs the same cases on every backend. To add an op,
add a case here: a name, the function to check, and its inputs' shapes and
kinds. Shapes are chosen so that broadcasting is exercised.

Input kinds say where the inputs are drawn from:

- ``real``: standard normal, both signs;
- ``nonzero``: both signs, |x| in [0.2, 2]: away from the kink of relu, abs,
  clip, from the pole of 1/x and from where a mask ``x > 0`` flips, which a
  central difference would straddle;
- ``positive``: [0.5, 2], for log and sqrt;
- ``probability``: [0.05, 0.95];
- ``mask``: random booleans (not checked, passed through).
"""
from dataclasses import dataclass

import numpy

from nanoae import functional as F, ops
from nanoae.ops.conv import Conv2dWeightGrad


@dataclass
class Case:
    name: str
    fn: object
    inputs: list  # [(shape, kind), ...]


def sample(kind, shape, rng):
    """A float64 NumPy array (bool for ``mask``) of the given kind."""
    if kind == "real":
        return rng.standard_normal(shape)
    if kind == "nonzero":
        return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "probability":
        return rng.uniform(0.05, 0.95, shape)
    if kind == "mask":
        return rng.random(shape) > 0.5
    raise ValueError(f"unknown input kind {kind!r}")


R, NZ, POS, P = "real", "nonzero", "positive", "probability"

CASES = [
    # arithmetic (broadcasting in every binary case)
    Case("add", ops.add, [((3, 4), R), ((4,), R)]),
    Case("sub", ops.sub, [((3, 1), R), ((1, 4), R)]),
    Case("mul", ops.mul, [((2, 3, 4), R), ((3, 1), R)]),
    Case("div", ops.div, [((3, 4), R), ((4,), NZ)]),
    Case("neg", ops.neg, [((3, 4), R)]),
    Case("pow (x**3)", lambda x: x ** 3, [((3, 4), R)]),
    Case("pow (x**-1.5)", lambda x: x ** -1.5, [((3, 4), POS)]),
    Case("reflected (1 - x, 2 / x)", lambda x: (1 - x) * (2 / x), [((3, 4), NZ)]),
    Case("with a number (x + 1.5, x - 2, 3 + x)", lambda x: (x + 1.5) * (x - 2) * (3 + x), [((3, 4), R)]),
    Case("with a number (x * -2.5, 3 * x, x / -4)", lambda x: (x * -2.5) + (3 * x) * (x / -4), [((3, 4), R)]),
    # matrix products
    Case("matmul", ops.matmul, [((3, 4), R), ((4, 5), R)]),
    Case("matmul (batched)", ops.matmul, [((2, 3, 4), R), ((4, 5), R)]),
    Case("matmul (batched both)", ops.matmul, [((2, 3, 4), R), ((2, 4, 5), R)]),
    Case("linear", ops.linear, [((5, 4), R), ((3, 4), R), ((3,), R)]),
    Case("linear (3-D input)", ops.linear, [((2, 5, 4), R), ((3, 4), R), ((3,), R)]),
    # element-wise
    Case("exp", ops.exp, [((3, 4), R)]),
    Case("log", ops.log, [((3, 4), POS)]),
    Case("sqrt", ops.sqrt, [((3, 4), POS)]),
    Case("tanh", ops.tanh, [((3, 4), R)]),
    Case("sigmoid", ops.sigmoid, [((3, 4), R)]),
    Case("relu", ops.relu, [((3, 4), NZ)]),
    Case("leaky_relu", lambda x: ops.leaky_relu(x, 0.1), [((3, 4), NZ)]),
    Case("softplus", ops.softplus, [((3, 4), R)]),
    Case("abs", ops.abs, [((3, 4), NZ)]),
    Case("clip", lambda x: ops.clip(x, -0.5, 0.5), [((3, 4), NZ)]),
    Case("clip (low only)", lambda x: ops.clip(x, low=-0.5), [((3, 4), NZ)]),
    Case("maximum", ops.maximum, [((3, 4), R), ((4,), R)]),
    Case("where", ops.where, [((3, 4), "mask"), ((3, 4), R), ((4,), R)]),
    # reductions
    Case("sum", ops.sum, [((3, 4), R)]),
    Case("sum (axis=1, keepdims)", lambda x: ops.sum(x, axis=1, keepdims=True), [((3, 4), R)]),
    Case("mean (axis=0)", lambda x: ops.mean(x, axis=0), [((3, 4), R)]),
    Case("max (axis=1)", lambda x: ops.max(x, axis=1), [((3, 4), R)]),
    Case("logsumexp (axis=-1)", lambda x: ops.logsumexp(x, axis=-1), [((3, 4), R)]),
    # moving elements around
    Case("reshape", lambda x: ops.reshape(x, (4, 3)), [((3, 4), R)]),
    Case("transpose", lambda x: ops.transpose(x, (1, 0, 2)), [((2, 3, 4), R)]),
    Case("getitem (slices)", lambda x: x[1:, ::2], [((3, 4), R)]),
    Case("getitem (repeated indices)", lambda x: x[[0, 2, 0]], [((3, 4), R)]),
    Case("getitem (boolean mask)", lambda x: x[x > 0], [((3, 4), NZ)]),
    Case("negative_sampling_loss", ops.negative_sampling_loss, [((3, 4), R), ((3, 1 + 2, 4), R)]),
    Case("sparse_embedding (repeated rows, gradient densified)",
         lambda w: ops.sparse_embedding(w, numpy.array([[1, 4, 1], [0, 1, 3]])), [((5, 3), R)]),
    Case("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), [((3, 2), R), ((3, 4), R)]),
    Case("split", lambda x: ops.split(x, [1, 3], axis=1), [((3, 4), R)]),
    Case("chunk (one piece unused)", lambda x: ops.chunk(x, 2, axis=0)[1], [((4, 3), R)]),
    Case("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)), [((3, 1), R)]),
    Case("sum_to", lambda x: ops.sum_to(x, (3, 1)), [((2, 3, 4), R)]),
    # convolutions and pooling, images (N, C, H, W)
    Case("conv2d (padding 1)", lambda x, w, b: ops.conv2d(x, w, b, padding=1),
         [((2, 2, 4, 4), R), ((3, 2, 3, 3), R), ((3,), R)]),
    Case("conv2d (stride 2, 3x2 kernel)", lambda x, w: ops.conv2d(x, w, stride=2),
         [((2, 2, 5, 6), R), ((3, 2, 3, 2), R)]),
    Case("conv_transpose2d (stride 2, output_padding 1)",
         lambda x, w, b: ops.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         [((2, 3, 3, 3), R), ((3, 2, 3, 3), R), ((2,), R)]),
    Case("conv2d weight gradient (its double backward)",
         lambda x, gy: Conv2dWeightGrad((3, 3), (2, 2), (1, 1))(x, gy), [((2, 2, 5, 5), R), ((2, 3, 3, 3), R)]),
    Case("max_pool2d (2x2)", lambda x: ops.max_pool2d(x, 2), [((2, 2, 4, 4), R)]),
    Case("max_pool2d (3x3, stride 2: overlapping)", lambda x: ops.max_pool2d(x, 3, stride=2), [((1, 2, 5, 5), R)]),
    Case("upsample_nearest (x2)", lambda x: ops.upsample_nearest(x, 2), [((2, 2, 3, 3), R)]),
    # the straight-through estimator, where its identity gradient is the true one: z_q cut from the
    # graph (as a codebook vector chosen by argmin is) yet moving one for one with z_e
    Case("straight_through (z_q = z_e + 0.5, detached)",
         lambda z_e: ops.straight_through(z_e, z_e.detach() + 0.5), [((4, 3), R)]),
    # keeping the k largest of each row: k = 3 of 5 keeps negative entries too (the median of 5 normals)
    Case("topk (k=3 of 5 per row)", lambda x: ops.topk(x, 3), [((4, 5), R)]),
    Case("topk (3-D input, k=1)", lambda x: ops.topk(x, 1), [((2, 3, 4), R)]),
    # losses and the VAE's pieces
    Case("mse_loss", F.mse_loss, [((4, 5), R), ((4, 5), R)]),
    Case("binary_cross_entropy", F.binary_cross_entropy, [((4, 5), P), ((4, 5), P)]),
    Case("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, [((4, 5), R), ((4, 5), P)]),
    Case("gaussian_kl", F.gaussian_kl, [((4, 3), R), ((4, 3), R)]),
    Case("reparameterize", F.reparameterize, [((4, 3), R), ((4, 3), R), ((4, 3), R)]),
    Case("kl_bernoulli", lambda rho_hat: F.kl_bernoulli(0.1, rho_hat), [((6,), P)]),
    Case("log_softmax", F.log_softmax, [((3, 5), R)]),
    Case("cross_entropy", lambda logits: F.cross_entropy(logits, numpy.array([0, 2, 1, 2])), [((4, 3), R)]),
]


def make_inputs(case, seed=0):
    """The inputs of ``case`` as NumPy arrays (move them with ``xp.asarray`` for the GPU)."""
    rng = numpy.random.default_rng(seed)
    return [sample(kind, shape, rng) for shape, kind in case.inputs]
