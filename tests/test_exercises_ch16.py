"""The chapter 16 graders (nanoae/exercises/ch16_sae.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake; the library call that does the
exercise must fail too.
"""
import numpy as np

import nanoae
from nanoae import ops
from nanoae.analysis import sae as measures
from nanoae.exercises import ch16_sae as graders
from grading_asserts import assert_fails_naming


# --- topk_forward and topk_backward -------------------------------------------------------------

def largest(x, k, axis=-1):
    """The mask of the k largest entries along ``axis``, by a double argsort (another way than the library's)."""
    ranks = np.argsort(np.argsort(-x, axis=axis), axis=axis)
    return ranks < k


def test_topk_graders_pass_answers_written_with_a_sort():
    assert graders.grade_topk_forward(lambda x, k: np.where(largest(x, k), x, 0.0)).passed
    assert graders.grade_topk_backward(lambda x, k, gy: np.where(largest(x, k), gy, 0.0)).passed


def test_topk_forward_grader_fails_the_k_smallest():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: np.where(largest(-x, k), x, 0.0)), "k smallest")


def test_topk_forward_grader_fails_the_largest_in_absolute_value():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: np.where(largest(np.abs(x), k), x, 0.0)),
                        "absolute value")


def test_topk_forward_grader_fails_a_relu_inside_the_op():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: np.where(largest(x, k), np.maximum(x, 0), 0.0)),
                        "kept negative entries")


def test_topk_forward_grader_fails_the_largest_of_each_column():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: np.where(largest(x, k, axis=0), x, 0.0)),
                        "each column")


def test_topk_forward_grader_fails_one_entry_too_many():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: np.where(largest(x, k + 1), x, 0.0)), "k + 1")


def test_topk_forward_grader_fails_only_the_mask():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: largest(x, k)), "relative error")


def test_topk_forward_grader_fails_a_transposed_answer():
    assert_fails_naming(graders.grade_topk_forward(lambda x, k: np.where(largest(x, k), x, 0.0).T), "shape of x")


def test_topk_backward_grader_fails_a_gradient_through_every_entry():
    assert_fails_naming(graders.grade_topk_backward(lambda x, k, gy: gy), "every entry")


def test_topk_backward_grader_fails_a_gradient_through_the_dropped_entries():
    assert_fails_naming(graders.grade_topk_backward(lambda x, k, gy: np.where(largest(x, k), 0.0, gy)),
                        "dropped entries")


def test_topk_backward_grader_fails_a_forgotten_upstream_gradient():
    assert_fails_naming(graders.grade_topk_backward(lambda x, k, gy: largest(x, k).astype(float)),
                        "upstream gradient gy")


def test_topk_backward_grader_fails_a_gradient_multiplied_by_x():
    assert_fails_naming(graders.grade_topk_backward(lambda x, k, gy: np.where(largest(x, k), gy * x, 0.0)),
                        "multiplies by x")


def test_topk_backward_grader_fails_relus_mask():
    assert_fails_naming(graders.grade_topk_backward(lambda x, k, gy: np.where(x > 0, gy, 0.0)), "x > 0")


def test_topk_backward_grader_fails_the_k_smallest():
    assert_fails_naming(graders.grade_topk_backward(lambda x, k, gy: np.where(largest(-x, k), gy, 0.0)),
                        "k smallest")


def test_topk_graders_fail_the_library_op():
    def library_forward(x, k):
        return ops.topk(nanoae.Tensor(x), k).numpy()
    assert_fails_naming(graders.grade_topk_forward(library_forward), "calls nanoae.ops.sparse.topk")


def test_topk_backward_grader_fails_a_gradient_found_by_autograd():
    def by_autograd(x, k, gy):
        t = nanoae.Tensor(x, requires_grad=True)
        kept = nanoae.Tensor(largest(x, k))
        return nanoae.grad(t * kept, [t], grad_output=nanoae.Tensor(gy))[0].numpy()
    assert_fails_naming(graders.grade_topk_backward(by_autograd), "calls nanoae.autograd.grad")


# --- normalized_mse ---------------------------------------------------------------------------

def test_nmse_grader_fails_the_plain_mse():
    assert_fails_naming(graders.grade_normalized_mse(lambda x, x_hat: ((x - x_hat) ** 2).mean()),
                        "plain mean squared error", "relative error")


def test_nmse_grader_fails_an_uncentered_baseline():
    assert_fails_naming(graders.grade_normalized_mse(lambda x, x_hat: ((x - x_hat) ** 2).sum() / (x ** 2).sum()),
                        "divided by sum x^2")


def test_nmse_grader_fails_one_mean_over_all_numbers():
    assert_fails_naming(graders.grade_normalized_mse(
        lambda x, x_hat: ((x - x_hat) ** 2).sum() / ((x - x.mean()) ** 2).sum()), "one mean over all")


def test_nmse_grader_fails_a_mean_of_ratios_per_row():
    def per_row(x, x_hat):
        return (((x - x_hat) ** 2).sum(axis=1) / ((x - x.mean(axis=0)) ** 2).sum(axis=1)).mean()
    assert_fails_naming(graders.grade_normalized_mse(per_row), "ratio per row")


def test_nmse_grader_fails_a_square_root():
    assert_fails_naming(graders.grade_normalized_mse(
        lambda x, x_hat: np.sqrt(((x - x_hat) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum())), "square root")


def test_nmse_grader_fails_an_upside_down_ratio():
    assert_fails_naming(graders.grade_normalized_mse(
        lambda x, x_hat: ((x - x.mean(axis=0)) ** 2).sum() / ((x - x_hat) ** 2).sum()), "upside down")


def test_nmse_grader_fails_one_number_per_row():
    assert_fails_naming(graders.grade_normalized_mse(lambda x, x_hat: ((x - x_hat) ** 2).sum(axis=1)), "one number")


def test_nmse_grader_fails_the_library_function():
    assert_fails_naming(graders.grade_normalized_mse(measures.normalized_mse),
                        "calls nanoae.analysis.sae.normalized_mse")


# --- count_dead_latents --------------------------------------------------------------------------

def test_dead_grader_fails_the_count_of_latents_that_fired():
    assert_fails_naming(graders.grade_count_dead_latents(lambda z: int((z != 0).any(axis=0).sum())), "at least once")


def test_dead_grader_fails_the_count_of_zero_entries():
    assert_fails_naming(graders.grade_count_dead_latents(lambda z: int((z == 0).sum())), "zero entries")


def test_dead_grader_fails_the_count_of_silent_inputs():
    assert_fails_naming(graders.grade_count_dead_latents(lambda z: int((~(z != 0).any(axis=1)).sum())),
                        "inputs (rows)")


def test_dead_grader_fails_a_share_instead_of_a_count():
    assert_fails_naming(graders.grade_count_dead_latents(lambda z: (~(z != 0).any(axis=0)).mean()), "share")


def test_dead_grader_fails_one_number_per_latent():
    assert_fails_naming(graders.grade_count_dead_latents(lambda z: ~(z != 0).any(axis=0)), "one number")


def test_dead_grader_fails_the_library_functions():
    assert_fails_naming(graders.grade_count_dead_latents(
        lambda z: measures.dead_latents(measures.firing_counts(z))), "calls nanoae.analysis.sae.firing_counts")
