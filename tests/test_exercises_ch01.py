"""The chapter 01 graders (nanoae/exercises/ch01_engine.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""

import nanoae
from nanoae.exercises import ch01_engine as graders
from grading_asserts import assert_fails_naming


# --- SiLU --------------------------------------------------------------------------------

def silu_with_backward(derivative):
    """A SiLU op with a correct forward and the backward ``derivative(gy, x, s)``."""
    class SiLU(nanoae.Function):
        def forward(self, x):
            return x / (1 + self.xp.exp(-x))

        def backward(self, gy):
            x = self.inputs[0]
            return derivative(gy, x, x.sigmoid())
    return SiLU


def test_silu_grader_fails_a_backward_that_forgets_the_upstream_gradient():
    forgetful = silu_with_backward(lambda gy, x, s: s * (1 + x * (1 - s)))
    assert_fails_naming(graders.grade_SiLU(forgetful), "forgets to multiply by the upstream gradient",
                        "gradcheck failed for x")


def test_silu_grader_fails_a_backward_missing_the_product_rule():
    assert_fails_naming(graders.grade_SiLU(silu_with_backward(lambda gy, x, s: gy * s)), "second term is missing")


def test_silu_grader_fails_the_sigmoid_derivative_alone():
    assert_fails_naming(graders.grade_SiLU(silu_with_backward(lambda gy, x, s: gy * s * (1 - s))),
                        "sigmoid's derivative alone")


def test_silu_grader_fails_a_sign_error_in_the_product_rule():
    assert_fails_naming(graders.grade_SiLU(silu_with_backward(lambda gy, x, s: gy * s * (1 - x * (1 - s)))),
                        "sign error")


def test_silu_grader_fails_a_backward_that_returns_an_array():
    def array_backward(gy, x, s):
        return gy.data * s.data * (1 + x.data * (1 - s.data))
    assert_fails_naming(graders.grade_SiLU(silu_with_backward(array_backward)), "returned a ndarray")


def test_silu_grader_fails_a_wrong_forward():
    class SigmoidOnly(nanoae.Function):
        def forward(self, x):
            return 1 / (1 + self.xp.exp(-x))

        def backward(self, gy):
            s = self.output
            return gy * s * (1 - s)
    assert_fails_naming(graders.grade_SiLU(SigmoidOnly), "your forward", "relative error")


def test_silu_grader_fails_a_plain_function():
    def silu(x):
        return x * x.sigmoid()
    assert_fails_naming(graders.grade_SiLU(silu), "raised TypeError")


# --- sum_to ------------------------------------------------------------------------------

def test_sum_to_grader_fails_summing_over_the_wrong_axis():
    def wrong_axis(grad, shape):
        if grad.shape == (3, 3) and shape == (3, 1):
            return grad.sum(axis=0).reshape(shape)                # should be axis 1
        lead = grad.ndim - len(shape)
        grad = grad.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        return grad.sum(axis=axes, keepdims=True).reshape(shape)
    assert_fails_naming(graders.grade_sum_to(wrong_axis), "summed over axes (0,)", "sum over axes (1,)")


def test_sum_to_grader_fails_a_mean_instead_of_a_sum():
    def averaged(grad, shape):
        lead = grad.ndim - len(shape)
        grad = grad.mean(axis=tuple(range(lead)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        return grad.mean(axis=axes, keepdims=True).reshape(shape)
    assert_fails_naming(graders.grade_sum_to(averaged), "you averaged")


def test_sum_to_grader_fails_an_answer_that_only_sums_the_leading_axes():
    def leading_only(grad, shape):
        return grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    assert_fails_naming(graders.grade_sum_to(leading_only), "your answer has shape", "expected (1, 3)")


def test_sum_to_grader_fails_an_answer_that_sums_from_the_left():
    def sums_first_axes(grad, shape):
        # lines the shapes up on the left instead of the right: (4, 3) -> (4, 1) works, (4, 3) -> (3,) does not
        axes = tuple(i for i in range(grad.ndim) if i >= len(shape) or shape[i] == 1)
        return grad.sum(axis=axes).reshape(shape)
    assert_fails_naming(graders.grade_sum_to(sums_first_axes), "for a gradient of shape (4, 3) and shape=(3,)",
                        "raised ValueError")


def test_sum_to_grader_fails_the_gradient_returned_unchanged():
    assert_fails_naming(graders.grade_sum_to(lambda grad, shape: grad), "expected (3,)")


# --- the library does not do the exercise --------------------------------------------------------

class SiLUByAutograd(nanoae.Function):
    """A right forward, and a backward that lets the engine differentiate x * sigmoid(x)."""

    def forward(self, x):
        return x / (1 + self.xp.exp(-x))

    def backward(self, gy):
        x = nanoae.Tensor(self.inputs[0].data, requires_grad=True)
        with nanoae.enable_grad():
            y = x * x.sigmoid()
        return nanoae.grad(y, [x], grad_output=gy)[0]


def test_silu_grader_fails_a_backward_taken_by_autograd():
    assert_fails_naming(graders.grade_SiLU(SiLUByAutograd), "calls nanoae.autograd.grad")


def test_sum_to_grader_fails_the_library_sum_to():
    assert_fails_naming(graders.grade_sum_to(lambda grad, shape: nanoae.Tensor(grad).sum_to(shape).numpy()),
                        "calls nanoae.ops.shape.sum_to")
