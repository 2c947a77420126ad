"""The chapter 04 graders (nanoae/exercises/ch04_sparse.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np

import nanoae
from nanoae import functional as F
from nanoae.exercises import ch04_sparse as graders
from grading_asserts import assert_fails_naming


def kl(rho, q):
    return rho * (rho / q).log() + (1 - rho) * ((1 - rho) / (1 - q)).log()


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# --- sparsity_kl ---------------------------------------------------------------------

def test_sparsity_kl_grader_fails_the_kl_with_its_arguments_swapped():
    def swapped(h, rho):
        rho_hat = h.mean(axis=0)
        return (rho_hat * (rho_hat / rho).log() + (1 - rho_hat) * ((1 - rho_hat) / (1 - rho)).log()).sum()
    assert_fails_naming(graders.grade_sparsity_kl(swapped), "arguments are swapped", "relative error")


def test_sparsity_kl_grader_fails_a_kl_without_its_one_minus_rho_term():
    def half(h, rho):
        return (rho * (rho / h.mean(axis=0)).log()).sum()
    assert_fails_naming(graders.grade_sparsity_kl(half), "(1 - rho)", "term is missing")


def test_sparsity_kl_grader_fails_a_kl_of_every_activation_without_the_batch_mean():
    def no_batch_mean(h, rho):
        return kl(rho, h).sum()
    assert_fails_naming(graders.grade_sparsity_kl(no_batch_mean), "first average each unit over the batch")


def test_sparsity_kl_grader_fails_a_mean_over_units_instead_of_a_sum():
    def mean_over_units(h, rho):
        return kl(rho, h.mean(axis=0)).mean()
    assert_fails_naming(graders.grade_sparsity_kl(mean_over_units), "SUM over units")


def test_sparsity_kl_grader_fails_a_mean_over_the_wrong_axis():
    def wrong_axis(h, rho):
        return kl(rho, h.mean(axis=1)).sum()
    assert_fails_naming(graders.grade_sparsity_kl(wrong_axis), "wrong axis")


def test_sparsity_kl_grader_fails_an_answer_that_is_not_a_tensor():
    def numpy_answer(h, rho):
        rho_hat = h.numpy().mean(axis=0)
        return float(np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))))
    assert_fails_naming(graders.grade_sparsity_kl(numpy_answer), "return a Tensor")


def test_sparsity_kl_grader_fails_a_right_value_with_a_detached_gradient():
    def detached(h, rho):
        return kl(rho, h.detach().mean(axis=0)).sum() + 0 * h.sum()
    assert_fails_naming(graders.grade_sparsity_kl(detached), "gradcheck failed for h")


# --- sparsity_grad_preactivation --------------------------------------------------------

def right_per_unit(a, rho):
    h = sigmoid(a)
    q = h.mean(axis=0)
    return -rho / q + (1 - rho) / (1 - q), h


def test_preactivation_grader_fails_a_forgotten_batch_mean():
    def no_mean(a, rho):
        per_unit, h = right_per_unit(a, rho)
        return per_unit * h * (1 - h)
    assert_fails_naming(graders.grade_sparsity_grad_preactivation(no_mean), "B times too large", "relative error")


def test_preactivation_grader_fails_a_forgotten_sigmoid_derivative():
    def no_sigmoid(a, rho):
        per_unit, h = right_per_unit(a, rho)
        return np.broadcast_to(per_unit / len(a), a.shape)
    assert_fails_naming(graders.grade_sparsity_grad_preactivation(no_sigmoid), "sigmoid's derivative is missing")


def test_preactivation_grader_fails_h_used_as_the_sigmoid_derivative():
    def h_only(a, rho):
        per_unit, h = right_per_unit(a, rho)
        return per_unit / len(a) * h
    assert_fails_naming(graders.grade_sparsity_grad_preactivation(h_only), "not h_bj")


def test_preactivation_grader_fails_the_gradient_of_the_swapped_kl():
    def swapped(a, rho):
        h = sigmoid(a)
        q = h.mean(axis=0)
        return (np.log(q / rho) - np.log((1 - q) / (1 - rho))) / len(a) * h * (1 - h)
    assert_fails_naming(graders.grade_sparsity_grad_preactivation(swapped), "your dP/da", "relative error")


def test_preactivation_grader_fails_a_wrong_shape():
    def per_unit_only(a, rho):
        return right_per_unit(a, rho)[0]
    assert_fails_naming(graders.grade_sparsity_grad_preactivation(per_unit_only), "shape of a")


# --- the library does not do the exercise --------------------------------------------------------

def test_sparsity_kl_grader_fails_the_library_kl():
    def library(h, rho):
        return F.kl_bernoulli(rho, h.mean(axis=0), reduction="sum")
    assert_fails_naming(graders.grade_sparsity_kl(library), "calls nanoae.functional.kl_bernoulli")


def test_preactivation_grader_fails_a_gradient_taken_by_autograd():
    def by_autograd(a, rho):
        a = nanoae.Tensor(a, requires_grad=True)
        F.kl_bernoulli(rho, a.sigmoid().mean(axis=0), reduction="sum").backward()
        return a.grad.numpy()
    assert_fails_naming(graders.grade_sparsity_grad_preactivation(by_autograd),
                        "calls nanoae.autograd.Tensor.backward")
