"""The gradient checker itself: it passes correct backwards and catches wrong ones.

A checker that never fails proves nothing, so most tests below plant a bug,
one at a time, in a small op written here (a Function with a deliberately
wrong ``backward``) and check that ``gradcheck`` raises, saying where.
"""
import re

import numpy
import pytest

import nanoae
from nanoae import Function, Tensor, gradcheck, ops
from nanoae.gradcheck import GradcheckError, relative_error


def normal(xp, shape, seed=0):
    return xp.asarray(numpy.random.default_rng(seed).standard_normal(shape))


def both_signs(xp, shape, seed=0):
    """|x| in [0.2, 2] with random signs: no element near the kink of relu."""
    rng = numpy.random.default_rng(seed)
    return xp.asarray(rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape))


# --- ops with planted wrong backwards --------------------------------------------

class TanhForgetsUpstream(Function):
    """tanh whose backward returns 1 - y^2 and forgets to multiply by gy."""

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        y = self.output
        return 1 - y * y


class ReluLeaksNegative(Function):
    """relu whose backward passes gy through on the negative side too."""

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        return gy


class AddForgetsSumTo(Function):
    """a + b whose backward does not sum the gradient back to b's (broadcast) shape."""

    def forward(self, a, b):
        return a + b

    def backward(self, gz):
        return gz, gz


class MulSwapped(Function):
    """a * b whose backward gives a the gradient b should get: dz/da = a instead of b."""

    def forward(self, a, b):
        return a * b

    def backward(self, gz):
        a, b = self.inputs
        return gz * a, gz * b


class SigmoidSignError(Function):
    """sigmoid whose backward has y (y - 1) instead of y (1 - y)."""

    def forward(self, x):
        return 1 / (1 + self.xp.exp(-x))

    def backward(self, gy):
        y = self.output
        return gy * y * (y - 1)


class SumRowsBroadcastsWrongAxis(Function):
    """Sum over axis 1 of a square matrix, whose backward spreads gy along axis 0.

    The right gradient of y_i = sum_j x_ij is dx_ij = gy_i (gy as a column);
    this one uses gy as a row, dx_ij = gy_j. The shapes match (the matrix is
    square), so only the numbers can tell.
    """

    def forward(self, x):
        return x.sum(axis=1)

    def backward(self, gy):
        n = self.inputs[0].shape[0]
        return ops.broadcast_to(ops.reshape(gy, (1, n)), (n, n))


class TanhWrongAt(Function):
    """tanh whose backward is right except at one element, where it is off by 1."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        y = self.output
        error = self.xp.zeros(y.shape)
        error[self.index] = 1.0
        return gy * (1 - y * y) + Tensor(error)


class ExpGivesNan(Function):
    """exp whose backward is nan everywhere."""

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, gy):
        return gy * float("nan")


PLANTED = {
    "tanh forgets upstream": (lambda x: TanhForgetsUpstream()(x), [(3, 4)]),
    "relu leaks negative": (lambda x: ReluLeaksNegative()(x), [(3, 4)]),
    "mul swapped": (lambda a, b: MulSwapped()(a, b), [(3, 4), (3, 4)]),
    "sigmoid sign error": (lambda x: SigmoidSignError()(x), [(3, 4)]),
    "sum broadcasts wrong axis": (lambda x: SumRowsBroadcastsWrongAxis()(x), [(3, 3)]),
    "exp gives nan": (lambda x: ExpGivesNan()(x), [(3, 4)]),  # a comparison with nan is never "too far"
}


# --- correct functions pass ---------------------------------------------------------

def test_gradcheck_returns_true_for_correct_ops(xp):
    assert gradcheck(ops.tanh, [normal(xp, (3, 4))]) is True
    inputs = [normal(xp, (3, 4)), normal(xp, (4,), seed=1)]
    assert gradcheck(lambda a, b: (a * b).sum(axis=0), inputs) is True


def test_gradcheck_returns_true_on_a_large_input_checked_along_random_directions(xp):
    assert gradcheck(ops.tanh, [normal(xp, (20, 20))]) is True  # 400 elements > max_elements=256


# --- planted wrong backwards are caught ------------------------------------------------

@pytest.mark.parametrize("name", PLANTED)
def test_planted_wrong_backward_is_caught(name, xp):
    fn, shapes = PLANTED[name]
    inputs = [both_signs(xp, shape, seed=i) for i, shape in enumerate(shapes)]
    with pytest.raises(GradcheckError):
        gradcheck(fn, inputs)


def test_tanh_forgetting_upstream_is_hidden_by_an_all_ones_upstream_gradient(xp):
    x_np = numpy.random.default_rng(0).standard_normal((3, 4))
    x = Tensor(xp.asarray(x_np), requires_grad=True)
    ones = Tensor(xp.ones((3, 4)))
    (analytic,) = nanoae.grad(TanhForgetsUpstream()(x), [x], grad_output=ones)
    eps = 1e-6  # d/dx of sum(tanh(x) * 1), element by element
    numerical = (numpy.tanh(x_np + eps) - numpy.tanh(x_np - eps)) / (2 * eps)
    numpy.testing.assert_allclose(analytic.numpy(), numerical, rtol=1e-6)  # the bug goes unseen
    with pytest.raises(GradcheckError):  # gradcheck's random upstream sees it
        gradcheck(lambda x: TanhForgetsUpstream()(x), [xp.asarray(x_np)])


def test_relu_leaking_negative_is_missed_when_all_inputs_are_positive(xp):
    positive = xp.asarray(numpy.random.default_rng(0).uniform(0.2, 2.0, (3, 4)))
    assert gradcheck(lambda x: ReluLeaksNegative()(x), [positive])  # why inputs need both signs


def test_broadcast_add_without_sum_to_is_caught_by_the_engine_shape_check(xp):
    # The engine compares each gradient's shape with its input's before gradcheck
    # compares any numbers, so this bug surfaces as ShapeError, not GradcheckError.
    with pytest.raises(nanoae.ShapeError, match=r"AddForgetsSumTo.*shape"):
        gradcheck(lambda a, b: AddForgetsSumTo()(a, b), [normal(xp, (3, 4)), normal(xp, (4,))])


def test_planted_error_in_a_tuple_output_is_caught(xp):
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: (ops.tanh(x), TanhWrongAt((0, 0))(x)), [normal(xp, (2, 2))])


# --- both ways of checking catch an error at a single element --------------------------

def test_elementwise_check_catches_an_error_at_one_element(xp):
    with pytest.raises(GradcheckError, match=r"at index \(1, 2\)"):
        gradcheck(lambda x: TanhWrongAt((1, 2))(x), [normal(xp, (3, 4))])


def test_random_direction_check_catches_an_error_at_one_element_of_a_large_input(xp):
    calls = []

    def fn(x):
        calls.append(1)
        return TanhWrongAt((7, 13))(x)

    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(fn, [normal(xp, (20, 20))])
    assert len(calls) <= 1 + 2 * 20  # one pass for backward, two per direction: not 2 per element


def test_max_elements_chooses_between_the_two_checks(xp):
    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(lambda x: TanhWrongAt((1, 2))(x), [normal(xp, (3, 4))], max_elements=5)


# --- what the error message says ----------------------------------------------------------

def failure_message(fn, inputs, **kwargs):
    with pytest.raises(GradcheckError) as error:
        gradcheck(fn, inputs, **kwargs)
    return str(error.value)


def test_error_message_names_input_index_values_and_relative_error(xp):
    inputs = [normal(xp, (3, 4)), normal(xp, (3, 4), seed=1)]
    message = failure_message(lambda a, x: a + TanhWrongAt((1, 2))(x), inputs)
    assert "input 1" in message and "input 0" not in message
    assert "(shape (3, 4)) at index (1, 2)" in message
    numbers = re.search(r"analytic (\S+), numerical (\S+), relative error (\S+)", message)
    analytic, numerical, rel = (float(numbers[i]) for i in (1, 2, 3))
    assert analytic - numerical == pytest.approx(1.0, abs=1e-4)  # the planted error
    assert rel == pytest.approx(relative_error(analytic, numerical), rel=1e-2)


def test_error_message_uses_the_given_names(xp):
    inputs = [normal(xp, (2, 2)), normal(xp, (2, 2), seed=1)]
    message = failure_message(lambda w, x: w * TanhWrongAt((0, 1))(x), inputs, names=["weight", "x"])
    assert message.startswith("gradcheck failed for x (shape (2, 2)) at index (0, 1)")


# --- what gets checked, and how --------------------------------------------------------

def test_gradcheck_recomputes_in_float64_for_float32_inputs(xp):
    x32 = xp.asarray(numpy.random.default_rng(0).standard_normal((3, 4)), dtype="float32")
    original = x32.copy()
    seen = []

    def fn(x):
        seen.append(x.dtype)
        return ops.tanh(x)

    assert gradcheck(fn, [x32])
    assert set(seen) == {numpy.dtype("float64")}
    assert x32.dtype == numpy.float32 and bool((x32 == original).all())  # the caller's array is untouched
    # Why: in float32, a central difference with eps = 1e-6 is off by more than
    # gradcheck's default tolerance (rtol 1e-3) from rounding alone.
    x, eps = numpy.float32(0.3), numpy.float32(1e-6)
    float32_difference = (numpy.tanh(x + eps) - numpy.tanh(x - eps)) / (2 * eps)
    exact = 1 - numpy.tanh(0.3) ** 2
    assert abs(float32_difference - exact) > 1e-3 * exact


def test_integer_and_boolean_inputs_are_passed_through_unchecked(xp):
    seen = {}

    def fn(rows, mask, x):
        seen.update(rows=rows, mask=mask, x=x)
        return ops.where(mask, x[rows], 0.0)

    rows = xp.asarray([0, 2, 0])
    mask = xp.asarray(numpy.random.default_rng(0).random((3, 4)) > 0.5)
    assert gradcheck(fn, [rows, mask, normal(xp, (3, 4))])
    assert seen["rows"].dtype.kind == "i" and not seen["rows"].requires_grad
    assert seen["mask"].dtype == numpy.bool_ and not seen["mask"].requires_grad
    assert seen["x"].dtype == numpy.float64 and seen["x"].requires_grad


def test_output_that_does_not_depend_on_the_inputs_raises(xp):
    with pytest.raises(GradcheckError, match="does not depend"):
        gradcheck(lambda x: Tensor(xp.ones(3)), [normal(xp, (3,))])
    with pytest.raises(GradcheckError, match="does not depend"):
        gradcheck(lambda x: x.detach() * 2, [normal(xp, (3,))])


def test_fn_returning_an_array_instead_of_a_tensor_raises_type_error_naming_what_it_returned(xp):
    rule = "fn must return a Tensor (or a tuple of Tensors) built from its inputs with nanoae ops"
    with pytest.raises(TypeError, match=re.escape(rule) + r".*returned \w+\.ndarray$"):
        gradcheck(lambda x: xp.tanh(x.data), [normal(xp, (3,))])
    with pytest.raises(TypeError, match=r"returned a tuple holding numpy\.ndarray$"):
        gradcheck(lambda x: (ops.tanh(x), x.numpy()), [normal(xp, (3,))])
    with pytest.raises(TypeError, match=r"returned float$"):
        gradcheck(lambda x: 2.0, [normal(xp, (3,))])


def test_no_floating_point_input_raises(xp):
    with pytest.raises(ValueError, match="no floating-point input"):
        gradcheck(lambda i: i, [xp.asarray([1, 2])])


def test_gradcheck_handles_tuple_outputs(xp):
    assert gradcheck(lambda x: ops.split(x, [1, 3], axis=1), [normal(xp, (3, 4))])
    assert gradcheck(lambda a, b: (a * b, ops.tanh(a)), [normal(xp, (2, 3)), normal(xp, (3,))])


def test_input_the_output_does_not_use_gets_gradient_zero_and_passes(xp):
    assert gradcheck(lambda a, b: ops.exp(a), [normal(xp, (2,)), normal(xp, (3,))])


@pytest.mark.parametrize("a, b, expected", [
    (2.5, 2.5, 0.0), (0.0, 0.0, 0.0),  # equal
    (1.0, -1.0, 1.0), (-3.0, 0.5, 1.0), (4.0, 0.0, 1.0),  # opposite signs, or one is 0
    (1.0, 3.0, 0.5),  # |1 - 3| / (1 + 3)
])
def test_relative_error_is_difference_over_sum_of_magnitudes(a, b, expected):
    assert relative_error(a, b) == expected
