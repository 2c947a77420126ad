"""The chapter 00 graders (nanoae/exercises/ch00_backprop.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np

import nanoae
from nanoae import functional as F
from nanoae.exercises import ch00_backprop as graders
from grading_asserts import assert_fails_naming


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# --- sigmoid_backward ----------------------------------------------------------------

def test_sigmoid_backward_grader_fails_a_forgotten_upstream_gradient():
    assert_fails_naming(graders.grade_sigmoid_backward(lambda h, grad_h: h * (1 - h)),
                        "upstream gradient dL/dh is missing", "relative error")


def test_sigmoid_backward_grader_fails_h_used_as_the_slope():
    assert_fails_naming(graders.grade_sigmoid_backward(lambda h, grad_h: grad_h * h), "not h")


def test_sigmoid_backward_grader_fails_the_sigmoid_applied_to_h_again():
    def twice(h, grad_h):
        s = sigmoid(h)
        return grad_h * s * (1 - s)
    assert_fails_naming(graders.grade_sigmoid_backward(twice), "sigmoid of h again")


def test_sigmoid_backward_grader_fails_the_tanh_slope():
    assert_fails_naming(graders.grade_sigmoid_backward(lambda h, grad_h: grad_h * (1 - h * h)), "tanh")


def test_sigmoid_backward_grader_fails_a_sign_error():
    assert_fails_naming(graders.grade_sigmoid_backward(lambda h, grad_h: -grad_h * h * (1 - h)), "sign")


# --- bce_logits_grad -----------------------------------------------------------------

def test_bce_grad_grader_fails_a_missing_batch_mean():
    assert_fails_naming(graders.grade_bce_logits_grad(lambda a2, x: sigmoid(a2) - x),
                        "divide by B", "gradcheck failed for a2")


def test_bce_grad_grader_fails_a_sign_error():
    assert_fails_naming(graders.grade_bce_logits_grad(lambda a2, x: (x - sigmoid(a2)) / len(a2)),
                        "sign is flipped")


def test_bce_grad_grader_fails_an_extra_sigmoid_slope():
    def with_slope(a2, x):
        x_hat = sigmoid(a2)
        return (x_hat - x) * x_hat * (1 - x_hat) / len(a2)
    assert_fails_naming(graders.grade_bce_logits_grad(with_slope), "extra factor x_hat (1 - x_hat)")


def test_bce_grad_grader_fails_a_forgotten_sigmoid():
    assert_fails_naming(graders.grade_bce_logits_grad(lambda a2, x: (a2 - x) / len(a2)), "sigmoid is missing")


def test_bce_grad_grader_fails_a_mean_over_pixels_too():
    assert_fails_naming(graders.grade_bce_logits_grad(lambda a2, x: (sigmoid(a2) - x) / a2.size),
                        "number of pixels")


def test_bce_grad_grader_fails_a_wrong_shape():
    assert_fails_naming(graders.grade_bce_logits_grad(lambda a2, x: (sigmoid(a2) - x).sum(axis=0) / len(a2)),
                        "shape of a2")


# --- linear_backward -------------------------------------------------------------------

def right(x, W, grad_a):
    return grad_a @ W, grad_a.T @ x, grad_a.sum(axis=0)


def test_linear_grader_fails_a_transposed_grad_w_by_its_shape():
    def transposed(x, W, grad_a):
        grad_x, grad_W, grad_b = right(x, W, grad_a)
        return grad_x, grad_W.T, grad_b
    assert_fails_naming(graders.grade_linear_backward(transposed), "grad_W has shape", "expected")


def test_linear_grader_fails_a_transposed_grad_w_when_the_shapes_hide_it():
    def transposed_when_square(x, W, grad_a):
        grad_x, grad_W, grad_b = right(x, W, grad_a)
        return grad_x, (x.T @ grad_a if W.shape[0] == W.shape[1] else grad_W), grad_b
    assert_fails_naming(graders.grade_linear_backward(transposed_when_square), "grad_W is transposed",
                        "gradcheck failed for W")


def test_linear_grader_fails_a_bias_gradient_averaged_over_the_batch():
    def mean_bias(x, W, grad_a):
        grad_x, grad_W, _ = right(x, W, grad_a)
        return grad_x, grad_W, grad_a.mean(axis=0)
    assert_fails_naming(graders.grade_linear_backward(mean_bias), "sum it", "gradcheck failed for b")


def test_linear_grader_fails_a_bias_gradient_summed_over_the_wrong_axis():
    def wrong_axis_when_square(x, W, grad_a):
        grad_x, grad_W, grad_b = right(x, W, grad_a)
        return grad_x, grad_W, (grad_a.sum(axis=1) if len(x) == W.shape[0] else grad_b)
    assert_fails_naming(graders.grade_linear_backward(wrong_axis_when_square), "wrong axis")


def test_linear_grader_fails_grad_x_with_w_transposed_when_the_shapes_hide_it():
    def wrong_x(x, W, grad_a):
        grad_x, grad_W, grad_b = right(x, W, grad_a)
        return (grad_a @ W.T if W.shape[0] == W.shape[1] else grad_x), grad_W, grad_b
    assert_fails_naming(graders.grade_linear_backward(wrong_x), "grad_x uses W transposed",
                        "gradcheck failed for x")


def test_linear_grader_fails_grad_w_divided_by_the_batch_size():
    def averaged(x, W, grad_a):
        grad_x, grad_W, grad_b = right(x, W, grad_a)
        return grad_x, grad_W / len(x), grad_b
    assert_fails_naming(graders.grade_linear_backward(averaged), "divided by B")


def test_linear_grader_fails_an_answer_with_two_gradients():
    assert_fails_naming(graders.grade_linear_backward(lambda x, W, grad_a: right(x, W, grad_a)[1:]),
                        "return three arrays")


# --- a gradient found by the autograd engine does not pass ----------------------------------------

def test_sigmoid_backward_grader_fails_a_gradient_taken_by_autograd():
    def by_autograd(h, grad_h):
        a = nanoae.Tensor(np.log(h / (1 - h)), requires_grad=True)
        a.sigmoid().backward(nanoae.Tensor(grad_h))
        return a.grad.numpy()
    assert_fails_naming(graders.grade_sigmoid_backward(by_autograd), "calls nanoae.autograd.Tensor.backward")


def test_bce_grad_grader_fails_a_gradient_taken_by_autograd():
    def by_autograd(a2, x):
        a2 = nanoae.Tensor(a2, requires_grad=True)
        (F.binary_cross_entropy_with_logits(a2, nanoae.Tensor(x), reduction="sum") / len(x)).backward()
        return a2.grad.numpy()
    assert_fails_naming(graders.grade_bce_logits_grad(by_autograd), "calls nanoae.autograd.Tensor.backward")


def test_linear_grader_fails_gradients_taken_by_autograd():
    def by_autograd(x, W, grad_a):
        x, W = nanoae.Tensor(x, requires_grad=True), nanoae.Tensor(W, requires_grad=True)
        b = nanoae.Tensor(np.zeros(len(W)), requires_grad=True)
        return tuple(g.numpy() for g in nanoae.grad(x @ W.T + b, [x, W, b], grad_output=nanoae.Tensor(grad_a)))
    assert_fails_naming(graders.grade_linear_backward(by_autograd), "calls nanoae.autograd.grad")
