"""The chapter 05 graders (nanoae/exercises/ch05_contractive.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np

import nanoae
from nanoae.exercises import ch05_contractive as graders
from nanoae.models import ContractiveAutoencoder, ContractiveConfig
from grading_asserts import assert_fails_naming


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# --- sigmoid_jacobian ------------------------------------------------------------------

def test_jacobian_grader_fails_w_without_the_sigmoid_slope():
    assert_fails_naming(graders.grade_sigmoid_jacobian(lambda x, W, b: W), "W alone", "relative error")


def test_jacobian_grader_fails_h_used_as_the_slope():
    def h_as_slope(x, W, b):
        return sigmoid(W @ x + b)[:, None] * W
    assert_fails_naming(graders.grade_sigmoid_jacobian(h_as_slope), "not h_j")


def test_jacobian_grader_fails_a_transposed_jacobian():
    def transposed(x, W, b):
        h = sigmoid(W @ x + b)
        return ((h * (1 - h))[:, None] * W).T
    assert_fails_naming(graders.grade_sigmoid_jacobian(transposed), "expected (K, D)")


def test_jacobian_grader_fails_a_transposed_w_when_the_shapes_hide_it():
    def w_transposed(x, W, b):
        h = sigmoid(W @ x + b)
        return (h * (1 - h))[:, None] * W.T if W.shape[0] == W.shape[1] else (h * (1 - h))[:, None] * W
    assert_fails_naming(graders.grade_sigmoid_jacobian(w_transposed), "W is transposed")


def test_jacobian_grader_fails_the_slope_scaling_columns_instead_of_rows():
    def columns(x, W, b):
        h = sigmoid(W @ x + b)
        return W * (h * (1 - h)) if W.shape[0] == W.shape[1] else (h * (1 - h))[:, None] * W
    assert_fails_naming(graders.grade_sigmoid_jacobian(columns), "relative error")


# --- contractive_penalty ----------------------------------------------------------------

def penalty(x, W, b, slope_power=2, w_axis=1, batch_mean=True):
    h = (x @ W.T + b).sigmoid()
    slope = h * (1 - h)
    total = (slope ** slope_power * (W * W).sum(axis=w_axis)).sum()
    return total / len(x) if batch_mean else total


def test_penalty_grader_fails_an_unsquared_slope():
    assert_fails_naming(graders.grade_contractive_penalty(lambda x, W, b: penalty(x, W, b, slope_power=1)),
                        "must be squared too", "relative error")


def test_penalty_grader_fails_w_summed_over_the_wrong_axis():
    assert_fails_naming(graders.grade_contractive_penalty(lambda x, W, b: penalty(x, W, b, w_axis=0)),
                        "your function raised ShapeError")  # K != D in the first case: the shapes clash


def test_penalty_grader_names_the_wrong_axis_when_the_shapes_fit():
    def wrong_axis_when_square(x, W, b):
        return penalty(x, W, b, w_axis=0 if W.shape[0] == W.shape[1] else 1)
    assert_fails_naming(graders.grade_contractive_penalty(wrong_axis_when_square), "wrong axis")


def test_penalty_grader_fails_a_missing_batch_mean():
    assert_fails_naming(graders.grade_contractive_penalty(lambda x, W, b: penalty(x, W, b, batch_mean=False)),
                        "divide by B")


def test_penalty_grader_fails_slopes_and_weights_summed_separately():
    def separate(x, W, b):
        h = (x @ W.T + b).sigmoid()
        return ((h * (1 - h)) ** 2).sum() * (W * W).sum() / len(x)
    assert_fails_naming(graders.grade_contractive_penalty(separate), "its own row of W")


def test_penalty_grader_fails_an_answer_that_is_not_a_tensor():
    def numpy_answer(x, W, b):
        return float(penalty(x, W, b).item())
    assert_fails_naming(graders.grade_contractive_penalty(numpy_answer), "return a Tensor")


def test_penalty_grader_fails_a_right_value_with_a_detached_gradient():
    def detached(x, W, b):
        return penalty(x, W.detach(), b) + 0 * W.sum()
    assert_fails_naming(graders.grade_contractive_penalty(detached), "gradcheck failed for W")


# --- contractive_penalty_grad_W -----------------------------------------------------------

def gradient_terms(x, W, b):
    h = sigmoid(x @ W.T + b)
    s, r = h * (1 - h), (W * W).sum(axis=1)
    through_h = 2 * (s * s * (1 - 2 * h) * r).T @ x / len(x)
    through_r = 2 * (s * s).sum(axis=0)[:, None] * W / len(x)
    return through_h, through_r, s, r


def test_grad_w_grader_fails_a_gradient_missing_the_path_through_h():
    assert_fails_naming(graders.grade_contractive_penalty_grad_W(lambda x, W, b: gradient_terms(x, W, b)[1]),
                        "only the term from sum_i W_ji^2", "relative error")


def test_grad_w_grader_fails_a_gradient_missing_the_weight_norm_term():
    assert_fails_naming(graders.grade_contractive_penalty_grad_W(lambda x, W, b: gradient_terms(x, W, b)[0]),
                        "the term from sum_i W_ji^2 is missing")


def test_grad_w_grader_fails_a_missing_batch_mean():
    def summed(x, W, b):
        through_h, through_r, _, _ = gradient_terms(x, W, b)
        return (through_h + through_r) * len(x)
    assert_fails_naming(graders.grade_contractive_penalty_grad_W(summed), "B times too large")


def test_grad_w_grader_fails_a_slope_derivative_without_its_one_minus_two_h_factor():
    def no_factor(x, W, b):
        _, through_r, s, r = gradient_terms(x, W, b)
        return 2 * (s * s * r).T @ x / len(x) + through_r
    assert_fails_naming(graders.grade_contractive_penalty_grad_W(no_factor), "(1 - 2h)")


def test_grad_w_grader_fails_a_wrong_shape():
    assert_fails_naming(graders.grade_contractive_penalty_grad_W(lambda x, W, b: gradient_terms(x, W, b)[0].T),
                        "shape of W")


# --- the library call that does the exercise does not pass it -------------------------------------

def library_model(W, b):
    """A contractive autoencoder whose encoder is the layer (W, b), W (K, D)."""
    model = ContractiveAutoencoder(ContractiveConfig(input_dim=W.shape[1], hidden=(3,), latent_dim=W.shape[0]))
    model.encoder[0].weight.data, model.encoder[0].bias.data = W, b
    return model


def test_jacobian_grader_fails_the_models_jacobian():
    def by_the_model(x, W, b):
        return library_model(W, b).jacobian(nanoae.Tensor(x[None])).numpy()[0]
    assert_fails_naming(graders.grade_sigmoid_jacobian(by_the_model),
                        "calls nanoae.models.contractive.ContractiveAutoencoder.jacobian")


def test_jacobian_grader_fails_a_jacobian_taken_by_autograd():
    def by_autograd(x, W, b):
        x = nanoae.Tensor(x[None], requires_grad=True)                        # (1, D)
        h = (x @ nanoae.Tensor(W).T + nanoae.Tensor(b)).sigmoid()               # (1, K)
        return np.stack([nanoae.grad(h[0, j], [x], retain_graph=True)[0].numpy()[0] for j in range(len(W))])
    assert_fails_naming(graders.grade_sigmoid_jacobian(by_autograd), "calls nanoae.autograd.grad")


def test_penalty_grader_fails_the_models_jacobian_penalty():
    def by_the_model(x, W, b):
        return library_model(W.data, b.data).jacobian_penalty(x)
    assert_fails_naming(graders.grade_contractive_penalty(by_the_model),
                        "calls nanoae.models.contractive.ContractiveAutoencoder.jacobian_penalty")


def test_grad_w_grader_fails_a_gradient_taken_by_autograd():
    def by_autograd(x, W, b):
        W = nanoae.Tensor(W, requires_grad=True)
        h = (nanoae.Tensor(x) @ W.T + nanoae.Tensor(b)).sigmoid()
        slope = h * (1 - h)
        ((slope * slope * (W * W).sum(axis=1)).sum() / len(x)).backward()
        return W.grad.data
    assert_fails_naming(graders.grade_contractive_penalty_grad_W(by_autograd), "calls nanoae.autograd.Tensor.backward")
