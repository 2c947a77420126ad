"""Every op's forward and backward, on every backend.

- Backward: each op in ``nanoae.gradcheck_cases`` passes ``nanoae.gradcheck``
  (central differences in float64, random upstream gradient), then the
  broadcasting, reducing and indexing ops do again on random shapes drawn by
  Hypothesis.
- Forward: each op against the same function written out in NumPy here.
- Kinks and ties (relu at 0, tied maxima, ...) against values worked out by hand,
  since a central difference there says nothing useful.
- Stability at +-1000 in float32, error messages, and float32 staying float32.

``pytest -k tanh`` runs every test of tanh.
"""
import numpy
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import (array_shapes, basic_indices, mutually_broadcastable_shapes,
                                    valid_tuple_axes)

import nanoae
from nanoae import Tensor, functional as F, gradcheck, ops
from nanoae.gradcheck_cases import CASES, make_inputs, sample


def leaf(xp, array, dtype=None):
    """A tensor that requires a gradient, on the backend under test."""
    return Tensor(xp.asarray(array, dtype=dtype), requires_grad=True)


def gradient(y, xs, upstream):
    """d(sum(y * upstream))/dx for each x in xs, as NumPy arrays."""
    grads = nanoae.grad(y, xs, grad_output=Tensor(y.xp.asarray(upstream, dtype=y.dtype)))
    return [g.numpy() for g in grads]


# --- every op in the catalogue passes gradcheck ---------------------------------

@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_op_passes_gradcheck(case, xp):
    inputs = [xp.asarray(a) for a in make_inputs(case)]
    assert gradcheck(case.fn, inputs)


# --- forward values against NumPy written out ----------------------------------

R, NZ, POS = "real", "nonzero", "positive"

FORWARD = [
    # (name, the op, the same function in NumPy, inputs as (shape, kind))
    ("add", ops.add, lambda a, b: a + b, [((3, 4), R), ((4,), R)]),
    ("sub", ops.sub, lambda a, b: a - b, [((3, 1), R), ((1, 4), R)]),
    ("mul", ops.mul, lambda a, b: a * b, [((2, 3, 4), R), ((3, 1), R)]),
    ("div", ops.div, lambda a, b: a / b, [((3, 4), R), ((4,), NZ)]),
    ("neg", ops.neg, lambda x: 0 - x, [((3, 4), R)]),
    ("pow (x**3)", lambda x: x ** 3, lambda x: x * x * x, [((3, 4), R)]),
    ("pow (x**-1.5)", lambda x: x ** -1.5, lambda x: 1 / (x * numpy.sqrt(x)), [((3, 4), POS)]),
    ("exp", ops.exp, numpy.exp, [((3, 4), R)]),
    ("log", ops.log, numpy.log, [((3, 4), POS)]),
    ("sqrt", ops.sqrt, lambda x: x ** 0.5, [((3, 4), POS)]),
    ("tanh", ops.tanh, lambda x: (numpy.exp(2 * x) - 1) / (numpy.exp(2 * x) + 1), [((3, 4), R)]),
    ("sigmoid", ops.sigmoid, lambda x: 1 / (1 + numpy.exp(-x)), [((3, 4), R)]),
    ("relu", ops.relu, lambda x: x * (x > 0), [((3, 4), R)]),
    ("leaky_relu", lambda x: ops.leaky_relu(x, 0.1), lambda x: numpy.where(x > 0, x, 0.1 * x),
     [((3, 4), R)]),
    ("softplus", ops.softplus, lambda x: numpy.log1p(numpy.exp(x)), [((3, 4), R)]),
    ("abs", ops.abs, lambda x: numpy.sqrt(x * x), [((3, 4), R)]),
    ("clip", lambda x: ops.clip(x, -0.5, 0.5), lambda x: numpy.minimum(numpy.maximum(x, -0.5), 0.5),
     [((3, 4), R)]),
    ("clip (high only)", lambda x: ops.clip(x, high=0.5), lambda x: numpy.minimum(x, 0.5), [((3, 4), R)]),
    ("maximum", ops.maximum, lambda a, b: numpy.where(a > b, a, b), [((3, 4), R), ((4,), R)]),
    ("where", ops.where, lambda c, a, b: c * a + (1 - c) * b, [((3, 4), "mask"), ((3, 4), R), ((4,), R)]),
    ("sum (axis=1)", lambda x: ops.sum(x, axis=1), lambda x: x[:, 0] + x[:, 1] + x[:, 2] + x[:, 3],
     [((3, 4), R)]),
    ("mean (axis=0, keepdims)", lambda x: ops.mean(x, axis=0, keepdims=True),
     lambda x: x.sum(axis=0, keepdims=True) / 3, [((3, 4), R)]),
    ("max (axis=-1)", lambda x: ops.max(x, axis=-1), lambda x: numpy.sort(x, axis=-1)[:, -1], [((3, 4), R)]),
    ("logsumexp (axis=1)", lambda x: ops.logsumexp(x, axis=1),
     lambda x: numpy.log(numpy.sum(numpy.exp(x), axis=1)), [((3, 4), R)]),
    ("matmul", ops.matmul, lambda a, b: numpy.einsum("ik,kj->ij", a, b), [((3, 4), R), ((4, 5), R)]),
    ("matmul (batched)", ops.matmul, lambda a, b: numpy.einsum("bik,kj->bij", a, b),
     [((2, 3, 4), R), ((4, 5), R)]),
    ("matmul (batched both)", ops.matmul, lambda a, b: numpy.einsum("bik,bkj->bij", a, b),
     [((2, 3, 4), R), ((2, 4, 5), R)]),
    ("linear (3-D input)", ops.linear, lambda x, w, b: numpy.einsum("bni,oi->bno", x, w) + b,
     [((2, 5, 4), R), ((3, 4), R), ((3,), R)]),
    ("reshape", lambda x: ops.reshape(x, (4, 3)), lambda x: numpy.array(x.ravel().tolist()).reshape(4, 3),
     [((3, 4), R)]),
    ("transpose", lambda x: ops.transpose(x, (1, 0, 2)), lambda x: numpy.einsum("ijk->jik", x),
     [((2, 3, 4), R)]),
    ("getitem (slices)", lambda x: x[1:, ::2], lambda x: x[[1, 2]][:, [0, 2]], [((3, 4), R)]),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1), lambda a, b: numpy.hstack([a, b]),
     [((3, 2), R), ((3, 4), R)]),
    ("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)), lambda x: x * numpy.ones((2, 3, 4)),
     [((3, 1), R)]),
    ("sum_to", lambda x: ops.sum_to(x, (3, 1)), lambda x: x.sum(axis=(0, 2))[:, None], [((2, 3, 4), R)]),
]


@pytest.mark.parametrize("name, op, reference, inputs", FORWARD, ids=[row[0] for row in FORWARD])
def test_forward_matches_numpy(name, op, reference, inputs, xp):
    rng = numpy.random.default_rng(0)
    arrays = [sample(kind, shape, rng) for shape, kind in inputs]
    y = op(*[Tensor(xp.asarray(a)) for a in arrays])
    expected = reference(*arrays)
    assert y.shape == expected.shape
    numpy.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_split_forward_cuts_into_the_given_sizes(xp):
    x = numpy.arange(12.0).reshape(3, 4)
    pieces = ops.split(Tensor(xp.asarray(x)), [1, 3], axis=1)
    assert [p.numpy().tolist() for p in pieces] == [x[:, :1].tolist(), x[:, 1:].tolist()]


def test_chunk_forward_makes_equal_pieces_and_a_smaller_last_one(xp):
    pieces = ops.chunk(Tensor(xp.asarray(numpy.arange(5.0))), 2)
    assert [p.numpy().tolist() for p in pieces] == [[0.0, 1.0, 2.0], [3.0, 4.0]]


# --- numerical stability in float32 ----------------------------------------------

def never_overflow():
    """Make NumPy raise on overflow, inf - inf and x / 0 (CuPy ignores it: only values are checked there).

    e^1000 overflows (float32 ends near e^88): a stable op never computes it.
    """
    return numpy.errstate(over="raise", invalid="raise", divide="raise")


def test_sigmoid_is_exact_at_plus_minus_1000_in_float32(xp):
    x = leaf(xp, [-1000.0, 1000.0], dtype="float32")
    with never_overflow():
        y = ops.sigmoid(x)  # not 1/(1 + e^1000)
        (gx,) = gradient(y, [x], [1.0, 1.0])
    assert y.dtype == numpy.float32
    assert y.numpy().tolist() == [0.0, 1.0]
    assert gx.tolist() == [0.0, 0.0]


def test_softplus_is_exact_at_plus_minus_1000_in_float32(xp):
    x = leaf(xp, [-1000.0, 1000.0], dtype="float32")
    with never_overflow():
        y = ops.softplus(x)  # not log1p(e^1000)
        (gx,) = gradient(y, [x], [1.0, 1.0])
    assert y.numpy().tolist() == [0.0, 1000.0]
    assert gx.tolist() == [0.0, 1.0]  # sigmoid(-1000), sigmoid(1000)


def test_logsumexp_of_two_1000s_is_1000_plus_log_2_in_float32(xp):
    x = leaf(xp, [1000.0, 1000.0], dtype="float32")
    with never_overflow():
        y = ops.logsumexp(x)  # not log(e^1000 + e^1000)
        (gx,) = gradient(y, [x], 1.0)
    assert y.dtype == numpy.float32
    numpy.testing.assert_allclose(y.item(), 1000 + numpy.log(2), rtol=1e-7)
    assert gx.tolist() == [0.5, 0.5]  # softmax of two equal numbers


def test_logsumexp_of_a_row_of_minus_infinity_is_minus_infinity(xp):
    x = Tensor(xp.asarray([[-numpy.inf, -numpy.inf], [0.0, 0.0]], dtype="float32"))
    with numpy.errstate(divide="ignore"):  # log(0) on the first row, by design
        y = ops.logsumexp(x, axis=1)
    assert y.numpy()[0] == -numpy.inf  # log(e^-inf + e^-inf) = log(0), not -inf - -inf = nan
    assert y.numpy()[1] == pytest.approx(numpy.log(2))


def test_binary_cross_entropy_with_logits_is_finite_at_plus_minus_100_in_float32(xp):
    logits = leaf(xp, [100.0, 100.0, -100.0, -100.0], dtype="float32")
    target = Tensor(xp.asarray([0.0, 1.0, 0.0, 1.0], dtype="float32"))
    with never_overflow():
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        (g,) = gradient(loss, [logits], [1.0, 1.0, 1.0, 1.0])
    # -ln(1 - sigmoid(100)) = 100 + ln(1 + e^-100), -ln(sigmoid(100)) = ln(1 + e^-100), and the mirror
    numpy.testing.assert_allclose(loss.numpy(), [100.0, 0.0, 0.0, 100.0], atol=1e-5)
    assert numpy.isfinite(g).all()
    numpy.testing.assert_allclose(g, [1.0, 0.0, 0.0, -1.0], atol=1e-6)  # sigmoid(z) - t


# --- random shapes (Hypothesis) ---------------------------------------------------
# The xp fixture only picks the backend, so sharing it between examples is fine.
RANDOM = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
BINARY = {"add": ops.add, "sub": ops.sub, "mul": ops.mul, "div": ops.div, "maximum": ops.maximum}


@pytest.mark.parametrize("name", BINARY)
@RANDOM
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=SEEDS)
def test_binary_op_with_random_broadcast_shapes_passes_gradcheck(name, shapes, seed, xp):
    rng = numpy.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    b_kind = "nonzero" if name == "div" else "real"  # both signs, and no pole for div
    a = leaf(xp, sample("real", a_shape, rng))
    b = leaf(xp, sample(b_kind, b_shape, rng))
    y = BINARY[name](a, b)
    assert y.shape == shapes.result_shape
    ga, gb = gradient(y, [a, b], rng.standard_normal(y.shape))
    assert (ga.shape, gb.shape) == (a_shape, b_shape)
    assert gradcheck(BINARY[name], [a, b])


@RANDOM
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=SEEDS)
def test_where_with_random_broadcast_shapes_passes_gradcheck(shapes, seed, xp):
    rng = numpy.random.default_rng(seed)
    condition_shape, a_shape, b_shape = shapes.input_shapes
    condition = xp.asarray(sample("mask", condition_shape, rng))
    a, b = leaf(xp, sample("real", a_shape, rng)), leaf(xp, sample("real", b_shape, rng))
    y = ops.where(condition, a, b)
    assert y.shape == shapes.result_shape
    ga, gb = gradient(y, [a, b], rng.standard_normal(y.shape))
    assert (ga.shape, gb.shape) == (a_shape, b_shape)
    assert gradcheck(lambda a, b: ops.where(condition, a, b), [a, b])


def numpy_logsumexp(x, axis, keepdims):
    return numpy.log(numpy.sum(numpy.exp(x), axis=axis, keepdims=keepdims))


REDUCTIONS = {"sum": (ops.sum, numpy.sum), "mean": (ops.mean, numpy.mean), "max": (ops.max, numpy.max),
              "logsumexp": (ops.logsumexp, numpy_logsumexp)}


@st.composite
def shapes_and_axes(draw):
    """A shape and an axis argument for it: None, an int (maybe negative) or a tuple."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, max_side=4))
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1), valid_tuple_axes(ndim)))
    return shape, axis


@pytest.mark.parametrize("name", REDUCTIONS)
@RANDOM
@given(shape_and_axis=shapes_and_axes(), keepdims=st.booleans(), seed=SEEDS)
def test_reduction_over_random_axes_matches_numpy_and_passes_gradcheck(name, shape_and_axis, keepdims,
                                                                      seed, xp):
    shape, axis = shape_and_axis
    op, reference = REDUCTIONS[name]
    x = sample("real", shape, numpy.random.default_rng(seed))
    y = op(Tensor(xp.asarray(x)), axis=axis, keepdims=keepdims)
    numpy.testing.assert_allclose(y.numpy(), reference(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert gradcheck(lambda x: op(x, axis=axis, keepdims=keepdims), [xp.asarray(x)])


@RANDOM
@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=3), data=st.data())
def test_transpose_with_a_random_permutation_passes_gradcheck(shape, data, xp):
    axes = data.draw(st.permutations(range(len(shape))))
    x = sample("real", shape, numpy.random.default_rng(0))
    y = ops.transpose(Tensor(xp.asarray(x)), axes)
    assert y.numpy().tolist() == numpy.transpose(x, axes).tolist()
    assert gradcheck(lambda x: ops.transpose(x, axes), [xp.asarray(x)])


@RANDOM
@given(shape=array_shapes(min_dims=1, max_dims=4, max_side=3), data=st.data())
def test_reshape_to_a_random_shape_passes_gradcheck(shape, data, xp):
    new_shape = list(data.draw(st.permutations(shape)))
    if data.draw(st.booleans()):
        new_shape[0] = -1  # "whatever is left"
    x = sample("real", shape, numpy.random.default_rng(0))
    assert ops.reshape(Tensor(xp.asarray(x)), new_shape).numpy().tolist() == x.reshape(new_shape).tolist()
    assert gradcheck(lambda x: ops.reshape(x, new_shape), [xp.asarray(x)])


@RANDOM
@given(shape=array_shapes(min_dims=2, max_dims=3, max_side=4), data=st.data())
def test_getitem_with_random_slices_passes_gradcheck(shape, data, xp):
    index = data.draw(basic_indices(shape, allow_newaxis=True))
    x = sample("real", shape, numpy.random.default_rng(0))
    assert Tensor(xp.asarray(x))[index].numpy().tolist() == x[index].tolist()
    assert gradcheck(lambda x: x[index], [xp.asarray(x)])


@RANDOM
@given(rows=st.lists(st.integers(-3, 2), min_size=1, max_size=6))
def test_getitem_with_random_integer_arrays_passes_gradcheck(rows, xp):
    x = sample("real", (3, 2), numpy.random.default_rng(0))
    index = xp.asarray(rows)
    assert Tensor(xp.asarray(x))[index].numpy().tolist() == x[rows].tolist()
    assert gradcheck(lambda x: x[index], [xp.asarray(x)])


# --- kinks and ties: values defined by convention, checked by hand -----------------

def test_relu_gradient_at_zero_is_zero(xp):
    x = leaf(xp, [-1.0, 0.0, 2.0])
    (gx,) = gradient(ops.relu(x), [x], [5.0, 5.0, 5.0])
    assert gx.tolist() == [0.0, 0.0, 5.0]


def test_abs_gradient_at_zero_is_zero(xp):
    x = leaf(xp, [-2.0, 0.0, 3.0])
    (gx,) = gradient(ops.abs(x), [x], [5.0, 5.0, 5.0])
    assert gx.tolist() == [-5.0, 0.0, 5.0]


def test_clip_gradient_is_one_at_the_bounds_and_zero_outside(xp):
    x = leaf(xp, [-2.0, -1.0, 0.0, 1.0, 2.0])
    (gx,) = gradient(ops.clip(x, -1.0, 1.0), [x], [5.0] * 5)
    assert gx.tolist() == [0.0, 5.0, 5.0, 5.0, 0.0]


def test_leaky_relu_gradient_is_the_slope_on_the_negative_side(xp):
    x = leaf(xp, [-2.0, -0.5, 0.0, 1.5])
    y = ops.leaky_relu(x, 0.25)
    assert y.numpy().tolist() == [-0.5, -0.125, 0.0, 1.5]
    (gx,) = gradient(y, [x], [4.0, 4.0, 4.0, 4.0])
    assert gx.tolist() == [1.0, 1.0, 1.0, 4.0]  # 0.25 * 4 where x <= 0, 1 * 4 where x > 0


def test_leaky_relu_default_slope_is_0_01(xp):
    x = leaf(xp, [-3.0])
    (gx,) = gradient(ops.leaky_relu(x), [x], [1.0])
    assert gx.tolist() == [0.01]


def test_maximum_at_a_tie_gives_half_to_each_input(xp):
    a, b = leaf(xp, [1.0, -2.0, 3.0]), leaf(xp, [1.0, 5.0, 3.0])  # tied at elements 0 and 2
    ga, gb = gradient(ops.maximum(a, b), [a, b], [2.0, 4.0, -6.0])
    assert ga.tolist() == [1.0, 0.0, -3.0]
    assert gb.tolist() == [1.0, 4.0, -3.0]


def test_maximum_of_a_tensor_with_itself_has_gradient_one(xp):
    a = leaf(xp, [1.0, -2.0])
    (ga,) = gradient(ops.maximum(a, a), [a], [2.0, 4.0])  # max(a, a) = a: the two halves add up
    assert ga.tolist() == [2.0, 4.0]


def test_max_with_k_tied_maxima_gives_1_over_k_to_each(xp):
    x = leaf(xp, [[3.0, 1.0, 3.0, 3.0],
                  [0.0, 5.0, 2.0, 5.0]])
    (gx,) = gradient(ops.max(x, axis=1), [x], [6.0, -4.0])
    assert gx.tolist() == [[2.0, 0.0, 2.0, 2.0],  # 3 tied: 6 / 3 each
                           [0.0, -2.0, 0.0, -2.0]]  # 2 tied: -4 / 2 each


def test_max_over_all_axes_with_ties_gives_1_over_k_to_each(xp):
    x = leaf(xp, [[5.0, 1.0], [5.0, 5.0]])
    (gx,) = gradient(ops.max(x), [x], 3.0)
    assert gx.tolist() == [[1.0, 0.0], [1.0, 1.0]]


# --- matrix products -----------------------------------------------------------------

MATMUL_GRADIENTS = {
    # name: (A's shape, B's shape, dA = einsum(g, B), dB = einsum(A, g)), i.e. dA = g B^T, dB = A^T g
    "2-D": ((3, 4), (4, 2), "ij,kj->ik", "ik,ij->kj"),
    "(B,n,k)@(k,m)": ((2, 3, 4), (4, 2), "bij,kj->bik", "bik,bij->kj"),  # B is shared: dB sums over b
    "(B,n,k)@(B,k,m)": ((2, 3, 4), (2, 4, 2), "bij,bkj->bik", "bik,bij->bkj"),
}


@pytest.mark.parametrize("name", MATMUL_GRADIENTS)
def test_matmul_gradients_match_einsum(name, xp):
    a_shape, b_shape, da_formula, db_formula = MATMUL_GRADIENTS[name]
    rng = numpy.random.default_rng(0)
    a_np, b_np = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    a, b = leaf(xp, a_np), leaf(xp, b_np)
    y = ops.matmul(a, b)
    g = rng.standard_normal(y.shape)
    ga, gb = gradient(y, [a, b], g)
    numpy.testing.assert_allclose(ga, numpy.einsum(da_formula, g, b_np))
    numpy.testing.assert_allclose(gb, numpy.einsum(db_formula, a_np, g))
    assert gradcheck(ops.matmul, [a, b])


def test_linear_with_3d_input_has_gradients_summed_over_both_batch_axes(xp):
    rng = numpy.random.default_rng(0)
    x_np, w_np, b_np = rng.standard_normal((2, 5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    x, w, b = leaf(xp, x_np), leaf(xp, w_np), leaf(xp, b_np)
    y = ops.linear(x, w, b)  # (2, 5, 3)
    g = rng.standard_normal(y.shape)
    gx, gw, gb = gradient(y, [x, w, b], g)
    numpy.testing.assert_allclose(gx, numpy.einsum("bno,oi->bni", g, w_np))
    numpy.testing.assert_allclose(gw, numpy.einsum("bno,bni->oi", g, x_np))
    numpy.testing.assert_allclose(gb, g.sum(axis=(0, 1)))
    assert gradcheck(ops.linear, [x, w, b])


def test_linear_with_a_row_vector_bias_gets_its_gradient_in_its_own_shape(xp):
    rng = numpy.random.default_rng(0)
    x, w = leaf(xp, rng.standard_normal((5, 4))), leaf(xp, rng.standard_normal((3, 4)))
    b = leaf(xp, numpy.ones((1, 3)))  # broadcast over the batch like a (3,) bias
    (gb,) = gradient(ops.linear(x, w, b), [b], numpy.ones((5, 3)))
    assert gb.tolist() == [[5.0, 5.0, 5.0]]
    assert gradcheck(ops.linear, [x, w, b])


# --- moving elements around: unused pieces, masks, repeated indices -----------------

def test_split_with_unused_pieces_gives_them_zero_gradient(xp):
    x = leaf(xp, numpy.ones((2, 5)))
    first, middle, last = ops.split(x, [1, 2, 2], axis=1)
    loss = (first * 2).sum() + last.sum()  # the middle piece is not used
    (gx,) = gradient(loss, [x], 1.0)
    assert gx.tolist() == [[2.0, 0.0, 0.0, 1.0, 1.0]] * 2
    assert gradcheck(lambda x: ops.split(x, [1, 2, 2], axis=1)[2] * 3, [x])


def test_chunk_with_only_the_first_piece_used(xp):
    x = leaf(xp, numpy.arange(6.0))
    first, _, _ = ops.chunk(x, 3)
    (gx,) = gradient(first, [x], [7.0, 8.0])
    assert gx.tolist() == [7.0, 8.0, 0.0, 0.0, 0.0, 0.0]


def test_getitem_with_a_boolean_mask_puts_the_gradient_back_where_the_mask_is_true(xp):
    x = leaf(xp, [[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    mask = xp.asarray([[True, False, True], [False, True, False]])
    y = x[mask]
    assert y.numpy().tolist() == [1.0, 3.0, 5.0]
    (gx,) = gradient(y, [x], [10.0, 20.0, 30.0])
    assert gx.tolist() == [[10.0, 0.0, 20.0], [0.0, 30.0, 0.0]]


def test_getitem_with_repeated_integer_indices_adds_their_gradients(xp):
    x = leaf(xp, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = x[xp.asarray([0, 2, 0, 0])]  # row 0 picked three times
    (gx,) = gradient(y, [x], [[1.0, 2.0], [3.0, 4.0], [10.0, 20.0], [100.0, 200.0]])
    assert gx.tolist() == [[111.0, 222.0], [0.0, 0.0], [3.0, 4.0]]


def test_getitem_with_repeated_index_pairs_adds_their_gradients(xp):
    x = leaf(xp, numpy.zeros((2, 3)))
    y = x[xp.asarray([1, 1, 0]), xp.asarray([2, 2, 0])]  # element (1, 2) twice
    (gx,) = gradient(y, [x], [1.0, 2.0, 4.0])
    assert gx.tolist() == [[4.0, 0.0, 0.0], [0.0, 0.0, 3.0]]


# --- errors ----------------------------------------------------------------------------

def test_matmul_shape_mismatch_raises_shape_error_naming_matmul_and_both_shapes(xp):
    a, b = Tensor(xp.ones((3, 4))), Tensor(xp.ones((5, 2)))
    with pytest.raises(nanoae.ShapeError) as error:
        ops.matmul(a, b)
    message = str(error.value)
    assert "MatMul" in message and "(3, 4)" in message and "(5, 2)" in message


def test_matmul_of_a_1d_input_raises(xp):
    with pytest.raises(nanoae.ShapeError, match="at least 2 dimensions"):
        ops.matmul(Tensor(xp.ones(4)), Tensor(xp.ones((4, 2))))


@pytest.mark.parametrize("shape, target", [((2, 3), (4,)), ((3,), (2, 3)), ((2, 3), (2, 1, 3))])
def test_sum_to_an_incompatible_shape_raises(shape, target, xp):
    with pytest.raises(nanoae.ShapeError, match="sum_to"):
        ops.sum_to(Tensor(xp.ones(shape)), target)


def test_split_sizes_that_do_not_add_up_raise(xp):
    with pytest.raises(nanoae.ShapeError, match="do not add up"):
        ops.split(Tensor(xp.ones((3, 4))), [1, 2], axis=1)


def test_clip_with_no_bounds_raises():
    with pytest.raises(ValueError, match="at least one"):
        ops.clip(Tensor(numpy.ones(3)))


def test_pow_with_a_tensor_exponent_raises_type_error(xp):
    x = Tensor(xp.ones(3))
    with pytest.raises(TypeError, match="exponent"):
        x ** Tensor(xp.asarray(2.0))


def test_pow_0_has_gradient_zero_even_at_zero(xp):
    x = leaf(xp, [0.0, 2.0])
    (gx,) = gradient(x ** 0, [x], [1.0, 1.0])  # 0 * 0^-1 would be nan
    assert gx.tolist() == [0.0, 0.0]


# --- float32 stays float32 --------------------------------------------------------------

FLOAT32_OPS = {
    "add": lambda x: x + 1.5, "sub": lambda x: 1.5 - x, "mul": lambda x: x * x, "div": lambda x: 2.0 / x,
    "neg": ops.neg, "pow": lambda x: x ** -1.5, "exp": ops.exp, "log": ops.log, "sqrt": ops.sqrt,
    "tanh": ops.tanh, "sigmoid": ops.sigmoid, "relu": ops.relu, "leaky_relu": ops.leaky_relu,
    "softplus": ops.softplus, "abs": ops.abs, "clip": lambda x: ops.clip(x, 0.7, 1.2),
    "maximum": lambda x: ops.maximum(x, x * x), "where": lambda x: ops.where(x > 1, x, 0.5),
    "sum": lambda x: ops.sum(x, axis=0), "mean": ops.mean, "max": lambda x: ops.max(x, axis=1),
    "logsumexp": lambda x: ops.logsumexp(x, axis=1),
}


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_op_keeps_float32_in_forward_and_backward(name, xp):
    x = leaf(xp, numpy.random.default_rng(0).uniform(0.5, 2.0, (3, 4)), dtype="float32")
    y = FLOAT32_OPS[name](x)
    assert y.dtype == numpy.float32
    (gx,) = nanoae.grad(y, [x], grad_output=Tensor(xp.ones(y.shape, dtype="float32")))
    assert gx.dtype == numpy.float32
