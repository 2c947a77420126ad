"""The chapter 15 graders (nanoae/exercises/ch15_vq_vae.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py; the answers below (``right_*``) are written here
too, so that each planted mistake differs from a right answer in one place.
"""
import numpy as np

from nanoae import Function, ops
from nanoae.analysis import codebook as codebook_tools
from nanoae.exercises import ch15_vq_vae as graders
from grading_asserts import assert_fails_naming


def right_nearest_code(z, codebook):
    distances = (z ** 2).sum(axis=1, keepdims=True) - 2 * z @ codebook.T + (codebook ** 2).sum(axis=1)
    return distances.argmin(axis=1)


def right_straight_through(z_e, z_q):
    return z_e + (z_q - z_e).detach()


def losses(z_e, z_q, reduce=lambda squared, z: squared.sum() / len(z), detach_e=True, detach_q=True):
    codebook = reduce(((z_e.detach() if detach_e else z_e) - z_q) ** 2, z_e)
    commitment = reduce((z_e - (z_q.detach() if detach_q else z_q)) ** 2, z_e)
    return codebook, commitment


def right_perplexity(counts):
    p = counts / counts.sum()
    p = p[p > 0]
    return np.exp(-(p * np.log(p)).sum())


def test_the_answers_written_here_pass():
    for grade, answer in ((graders.grade_nearest_code, right_nearest_code),
                          (graders.grade_straight_through, right_straight_through),
                          (graders.grade_vq_losses, losses), (graders.grade_perplexity, right_perplexity)):
        assert grade(answer).passed, grade(answer)


class StraightThroughOp(Function):
    """The estimator written as an op of one's own passes too."""

    def forward(self, z_e, z_q):
        return z_q.copy()

    def backward(self, gy):
        return gy, None


def test_an_op_of_ones_own_passes_the_straight_through_grader():
    assert graders.grade_straight_through(lambda z_e, z_q: StraightThroughOp()(z_e, z_q)).passed


# --- nearest_code ----------------------------------------------------------------------------------

def test_nearest_code_grader_fails_the_farthest_row():
    def farthest(z, codebook):
        return ((z[:, None] - codebook[None]) ** 2).sum(axis=2).argmax(axis=1)
    assert_fails_naming(graders.grade_nearest_code(farthest), "farthest", "yours")


def test_nearest_code_grader_fails_the_largest_dot_product():
    assert_fails_naming(graders.grade_nearest_code(lambda z, codebook: (z @ codebook.T).argmax(axis=1)),
                        "largest dot product")


def test_nearest_code_grader_fails_the_distance_without_the_code_norm():
    assert_fails_naming(graders.grade_nearest_code(lambda z, codebook: (-2 * z @ codebook.T).argmin(axis=1)),
                        "left |e_k|^2 out")


def test_nearest_code_grader_fails_a_minimum_over_the_wrong_axis():
    def wrong_axis(z, codebook):
        return ((z[:, None] - codebook[None]) ** 2).sum(axis=2).argmin(axis=0)
    assert_fails_naming(graders.grade_nearest_code(wrong_axis), "has shape")


def test_nearest_code_grader_fails_the_library_call():
    assert_fails_naming(graders.grade_nearest_code(lambda z, codebook: ops.nearest_code(z, codebook).data),
                        "calls nanoae.ops.quantize.nearest_code")


# --- straight_through -------------------------------------------------------------------------------

def test_straight_through_grader_fails_the_values_of_z_e():
    assert_fails_naming(graders.grade_straight_through(lambda z_e, z_q: z_e * 1.0), "values of z_e")


def test_straight_through_grader_fails_z_q_alone_whose_gradient_never_reaches_z_e():
    assert_fails_naming(graders.grade_straight_through(lambda z_e, z_q: z_q * 1.0), "no gradient reaches z_e")


def test_straight_through_grader_fails_the_sum_without_the_stop_gradient():
    """z_e + (z_q - z_e) has z_q's values, but the two z_e cancel: no gradient for z_e, all to the codebook."""
    assert_fails_naming(graders.grade_straight_through(lambda z_e, z_q: z_e + (z_q - z_e)), "no gradient reaches z_e")


def test_straight_through_grader_fails_a_gradient_that_also_trains_the_codebook():
    assert_fails_naming(graders.grade_straight_through(lambda z_e, z_q: z_q + z_e - z_e.detach()),
                        "the codebook gets a gradient")


def test_straight_through_grader_fails_a_scaled_gradient():
    assert_fails_naming(graders.grade_straight_through(lambda z_e, z_q: 0.5 * z_e + (z_q - 0.5 * z_e).detach()),
                        "gradient of z_e", "relative error")


def test_straight_through_grader_fails_a_numpy_answer():
    assert_fails_naming(graders.grade_straight_through(lambda z_e, z_q: z_q.numpy()), "return a Tensor")


def test_straight_through_grader_fails_the_library_op():
    assert_fails_naming(graders.grade_straight_through(ops.straight_through),
                        "calls nanoae.ops.quantize.straight_through")


# --- vq_losses ---------------------------------------------------------------------------------------

def test_vq_losses_grader_fails_a_mean_over_every_number():
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: losses(z_e, z_q, lambda s, z: s.mean())),
                        "averaged over every number")


def test_vq_losses_grader_fails_a_sum_over_the_batch():
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: losses(z_e, z_q, lambda s, z: s.sum())),
                        "divide by B")


def test_vq_losses_grader_fails_a_mean_over_places():
    per_place = lambda s, z: s.sum() / (z.shape[0] * z.shape[2] * z.shape[3])
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: losses(z_e, z_q, per_place)),
                        "number of places")


def test_vq_losses_grader_fails_distances_not_squared():
    def not_squared(z_e, z_q):
        codebook = ((z_e.detach() - z_q) ** 2).sum(axis=1).sqrt().sum() / len(z_e)
        commitment = ((z_e - z_q.detach()) ** 2).sum(axis=1).sqrt().sum() / len(z_e)
        return codebook, commitment
    assert_fails_naming(graders.grade_vq_losses(not_squared), "not squared")


def test_vq_losses_grader_fails_a_codebook_term_that_moves_the_encoder():
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: losses(z_e, z_q, detach_e=False)),
                        "codebook term sends a gradient to z_e")


def test_vq_losses_grader_fails_a_commitment_term_that_moves_the_codebook():
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: losses(z_e, z_q, detach_q=False)),
                        "commitment term sends a gradient to z_q")


def test_vq_losses_grader_fails_the_two_terms_swapped():
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: losses(z_e, z_q)[::-1]),
                        "codebook term sends a gradient to z_e")


def test_vq_losses_grader_fails_numbers_that_are_not_tensors():
    assert_fails_naming(graders.grade_vq_losses(lambda z_e, z_q: tuple(t.item() for t in losses(z_e, z_q))),
                        "return a Tensor")


# --- perplexity ---------------------------------------------------------------------------------------

def test_perplexity_grader_fails_the_entropy():
    def entropy(counts):
        p = counts / counts.sum()
        p = p[p > 0]
        return -(p * np.log(p)).sum()
    assert_fails_naming(graders.grade_perplexity(entropy), "that is the entropy")


def test_perplexity_grader_fails_2_to_an_entropy_in_nats():
    assert_fails_naming(graders.grade_perplexity(lambda c: 2 ** np.log(right_perplexity(c))), "raised 2")


def test_perplexity_grader_fails_exp_of_bits():
    assert_fails_naming(graders.grade_perplexity(lambda c: np.exp(np.log2(right_perplexity(c)))),
                        "exp of an entropy in bits")


def test_perplexity_grader_fails_0_log_0_left_as_nan():
    def with_nan(counts):
        p = counts / counts.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.exp(-(p * np.log(p)).sum())
    assert_fails_naming(graders.grade_perplexity(with_nan), "0 log 0")


def test_perplexity_grader_fails_counts_divided_by_the_codebook_size():
    def over_k(counts):
        p = counts / len(counts)
        p = p[p > 0]
        return np.exp(-(p * np.log(p)).sum())
    assert_fails_naming(graders.grade_perplexity(over_k), "not by the number of codes")


def test_perplexity_grader_fails_the_number_of_codes_used():
    assert_fails_naming(graders.grade_perplexity(lambda c: float((c > 0).sum())), "number of codes used")


def test_perplexity_grader_fails_the_inverse():
    assert_fails_naming(graders.grade_perplexity(lambda c: 1 / right_perplexity(c)), "sign of the entropy")


def test_perplexity_grader_fails_the_library_call():
    assert_fails_naming(graders.grade_perplexity(codebook_tools.perplexity),
                        "calls nanoae.analysis.codebook.perplexity")
