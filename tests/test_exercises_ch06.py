"""The chapter 06 graders (nanoae/exercises/ch06_vae.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np

import nanoae
from nanoae import functional as F
from nanoae.exercises import ch06_vae as graders
from grading_asserts import assert_fails_naming


# --- gaussian_kl ---------------------------------------------------------------------------

def kl(mu, log_var, var=None, half=0.5, log_var_sign=-1, reduce="batch_mean"):
    var = log_var.exp() if var is None else var
    per_dim = half * (mu * mu + var - 1 + log_var_sign * log_var)
    if reduce == "batch_mean":
        return per_dim.sum() / len(mu)
    if reduce == "mean_over_latent":
        return per_dim.mean(axis=1).mean()
    return per_dim.sum()


def test_kl_grader_fails_log_var_treated_as_a_log_std():
    def log_std(mu, log_var):
        return (0.5 * (mu * mu + (2 * log_var).exp() - 1 - 2 * log_var)).sum() / len(mu)
    assert_fails_naming(graders.grade_gaussian_kl(log_std), "log standard deviation", "relative error")


def test_kl_grader_fails_a_missing_half():
    assert_fails_naming(graders.grade_gaussian_kl(lambda mu, log_var: kl(mu, log_var, half=1.0)),
                        "factor 1/2 is missing")


def test_kl_grader_fails_a_sign_error():
    assert_fails_naming(graders.grade_gaussian_kl(lambda mu, log_var: kl(mu, log_var, half=-0.5)),
                        "sign is wrong")


def test_kl_grader_fails_a_wrong_sign_on_the_log_var_term():
    assert_fails_naming(graders.grade_gaussian_kl(lambda mu, log_var: kl(mu, log_var, log_var_sign=+1)),
                        "-log_var")


def test_kl_grader_fails_a_mean_over_latent_dimensions():
    assert_fails_naming(graders.grade_gaussian_kl(lambda mu, log_var: kl(mu, log_var, reduce="mean_over_latent")),
                        "averaged over the latent dimensions")


def test_kl_grader_fails_a_sum_over_the_batch():
    assert_fails_naming(graders.grade_gaussian_kl(lambda mu, log_var: kl(mu, log_var, reduce="sum")),
                        "divide by B")


def test_kl_grader_fails_one_value_per_sample():
    def per_sample(mu, log_var):
        return (0.5 * (mu * mu + log_var.exp() - 1 - log_var)).sum(axis=1)
    assert_fails_naming(graders.grade_gaussian_kl(per_sample), "scalar Tensor")


def test_kl_grader_fails_an_answer_that_is_not_a_tensor():
    assert_fails_naming(graders.grade_gaussian_kl(lambda mu, log_var: kl(mu, log_var).item()), "return a Tensor")


def test_kl_grader_fails_a_right_value_with_a_detached_gradient():
    def detached(mu, log_var):
        return kl(mu, log_var.detach()) + 0 * log_var.sum()
    assert_fails_naming(graders.grade_gaussian_kl(detached), "gradcheck failed for log_var")


# --- reparameterize --------------------------------------------------------------------------

def test_reparameterize_grader_fails_exp_log_var_used_as_the_std():
    assert_fails_naming(graders.grade_reparameterize(lambda mu, log_var, eps: mu + log_var.exp() * eps),
                        "not the standard deviation", "factor 0.5 is missing")


def test_reparameterize_grader_fails_log_var_used_as_the_std():
    assert_fails_naming(graders.grade_reparameterize(lambda mu, log_var, eps: mu + log_var * eps),
                        "log_var is not the standard deviation")


def test_reparameterize_grader_fails_a_wrong_sign_in_the_exponent():
    assert_fails_naming(graders.grade_reparameterize(lambda mu, log_var, eps: mu + (-0.5 * log_var).exp() * eps),
                        "sign in the exponent")


def test_reparameterize_grader_fails_a_forgotten_eps():
    assert_fails_naming(graders.grade_reparameterize(lambda mu, log_var, eps: mu + (0.5 * log_var).exp()),
                        "eps is missing")


def test_reparameterize_grader_fails_a_numpy_answer():
    def numpy_answer(mu, log_var, eps):
        return mu.numpy() + np.exp(0.5 * log_var.numpy()) * eps.numpy()
    assert_fails_naming(graders.grade_reparameterize(numpy_answer), "return a Tensor")


def test_reparameterize_grader_fails_a_std_cut_off_from_the_graph():
    def detached(mu, log_var, eps):
        return mu + (0.5 * log_var.detach()).exp() * eps + 0 * log_var
    assert_fails_naming(graders.grade_reparameterize(detached), "gradcheck failed for log_var")


# --- gaussian_kl_grad ---------------------------------------------------------------------------

def test_kl_grad_grader_fails_a_missing_batch_mean():
    assert_fails_naming(graders.grade_gaussian_kl_grad(lambda mu, log_var: (mu, (np.exp(log_var) - 1) / 2)),
                        "B times too large", "relative error")


def test_kl_grad_grader_fails_a_missing_half_in_the_log_var_derivative():
    def no_half(mu, log_var):
        return mu / len(mu), (np.exp(log_var) - 1) / len(mu)
    assert_fails_naming(graders.grade_gaussian_kl_grad(no_half), "missing its factor 1/2")


def test_kl_grad_grader_fails_a_missing_minus_one():
    def no_minus_one(mu, log_var):
        return mu / len(mu), np.exp(log_var) / (2 * len(mu))
    assert_fails_naming(graders.grade_gaussian_kl_grad(no_minus_one), "missing the -1")


def test_kl_grad_grader_fails_a_log_std_convention():
    def log_std(mu, log_var):
        return mu / len(mu), (np.exp(2 * log_var) - 1) / len(mu)
    assert_fails_naming(graders.grade_gaussian_kl_grad(log_std), "log standard deviation")


def test_kl_grad_grader_fails_a_sign_error():
    def negated(mu, log_var):
        return -mu / len(mu), -(np.exp(log_var) - 1) / (2 * len(mu))
    assert_fails_naming(graders.grade_gaussian_kl_grad(negated), "signs are wrong")


def test_kl_grad_grader_fails_swapped_derivatives():
    def swapped(mu, log_var):
        return (np.exp(log_var) - 1) / (2 * len(mu)), mu / len(mu)
    assert_fails_naming(graders.grade_gaussian_kl_grad(swapped), "swapped")


def test_kl_grad_grader_fails_a_single_array():
    assert_fails_naming(graders.grade_gaussian_kl_grad(lambda mu, log_var: mu / len(mu)), "return a pair")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_kl_grader_fails_the_library_kl():
    assert_fails_naming(graders.grade_gaussian_kl(
        lambda mu, log_var: F.gaussian_kl(mu, log_var, reduction="sum") / len(mu)), "calls nanoae.functional.gaussian_kl")


def test_reparameterize_grader_fails_the_library_reparameterize():
    assert_fails_naming(graders.grade_reparameterize(F.reparameterize), "calls nanoae.functional.reparameterize")


def test_kl_grad_grader_fails_a_gradient_taken_by_autograd():
    def by_autograd(mu, log_var):
        mu, log_var = nanoae.Tensor(mu, requires_grad=True), nanoae.Tensor(log_var, requires_grad=True)
        kl = (0.5 * (mu * mu + log_var.exp() - 1 - log_var)).sum() / len(mu)
        kl.backward()
        return mu.grad.data, log_var.grad.data
    assert_fails_naming(graders.grade_gaussian_kl_grad(by_autograd), "calls nanoae.autograd.Tensor.backward")
