"""The chapter 07 graders (nanoae/exercises/ch07_anomaly.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import math

import numpy as np

import nanoae
from nanoae import functional as F
from nanoae.analysis import anomaly, metrics
from nanoae.exercises import ch07_anomaly as graders
from grading_asserts import assert_fails_naming


# --- auc_by_ranks -------------------------------------------------------------------------------

def rank_auc(scores, labels, ranks=None, subtract=True):
    """The Mann-Whitney AUC from the given ranks (default: tied scores share their mean rank)."""
    if ranks is None:
        ranks = np.array([(scores < s).sum() + ((scores == s).sum() + 1) / 2 for s in scores])
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    offset = n_pos * (n_pos + 1) / 2 if subtract else 0
    return (ranks[labels == 1].sum() - offset) / (n_pos * n_neg)


def ordinal_ranks(scores):
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return ranks


def test_auc_grader_passes_a_different_correct_answer_the_pair_count_by_ranks():
    assert graders.grade_auc_by_ranks(rank_auc).passed


def test_auc_grader_fails_ranks_that_break_ties_by_position():
    def no_tie_sharing(scores, labels):
        return rank_auc(scores, labels, ranks=ordinal_ranks(scores))
    assert_fails_naming(graders.grade_auc_by_ranks(no_tie_sharing), "share the mean of their ranks", "with ties")


def test_auc_grader_fails_ranks_from_the_largest_score():
    def descending(scores, labels):
        return rank_auc(-scores, labels)
    assert_fails_naming(graders.grade_auc_by_ranks(descending), "1 - AUC")


def test_auc_grader_fails_a_forgotten_offset():
    assert_fails_naming(graders.grade_auc_by_ranks(lambda s, l: rank_auc(s, l, subtract=False)),
                        "subtract n_pos (n_pos + 1) / 2")


def test_auc_grader_fails_ranks_from_zero():
    def from_zero(scores, labels):
        return rank_auc(scores, labels, ranks=np.array([(scores < s).sum() + ((scores == s).sum() - 1) / 2
                                                        for s in scores]))
    assert_fails_naming(graders.grade_auc_by_ranks(from_zero), "ranks start at 1")


def test_auc_grader_fails_a_pair_count_that_ignores_ties():
    def strict(scores, labels):
        return (scores[labels == 1][:, None] > scores[labels == 0][None, :]).mean()
    assert_fails_naming(graders.grade_auc_by_ranks(strict), "ties count one half, not zero")


def test_auc_grader_fails_an_array_of_numbers():
    assert_fails_naming(graders.grade_auc_by_ranks(lambda s, l: s), "return one number")


# --- reconstruction_scores ---------------------------------------------------------------------------

def test_reconstruction_grader_fails_a_mean_over_the_batch():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: ((x - x_hat) ** 2).mean(axis=0)),
                        "reduced over the examples", "axis 1")


def test_reconstruction_grader_fails_a_sum_over_the_wrong_axis():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: ((x - x_hat) ** 2).sum(axis=0)),
                        "reduced over the examples")


def test_reconstruction_grader_fails_one_number_for_the_batch():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: ((x - x_hat) ** 2).mean()),
                        "one number for the whole batch")


def test_reconstruction_grader_fails_a_mean_over_the_pixels():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: ((x - x_hat) ** 2).mean(axis=1)),
                        "averaged over the pixels")


def test_reconstruction_grader_fails_the_euclidean_distance():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: np.linalg.norm(x - x_hat, axis=1)),
                        "square root")


def test_reconstruction_grader_fails_unsquared_differences():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: (x - x_hat).sum(axis=1)),
                        "cancel", "relative error")


def test_reconstruction_grader_fails_absolute_differences():
    assert_fails_naming(graders.grade_reconstruction_scores(lambda x, x_hat: abs(x - x_hat).sum(axis=1)),
                        "absolute values")


# --- threshold_at_fpr -----------------------------------------------------------------------------------

def test_threshold_grader_passes_a_threshold_found_by_counting():
    def counting(normal_scores, rate):
        allowed = math.floor(rate * len(normal_scores))
        return min(s for s in normal_scores if (normal_scores > s).sum() <= allowed)
    assert graders.grade_threshold_at_fpr(counting).passed


def test_threshold_grader_fails_the_low_end_of_the_scores():
    def ascending(normal_scores, rate):
        return np.sort(normal_scores)[math.floor(rate * len(normal_scores))]
    assert_fails_naming(graders.grade_threshold_at_fpr(ascending), "sort from high to low")


def test_threshold_grader_fails_an_off_by_one_index():
    def kth_largest(normal_scores, rate):
        k = math.floor(rate * len(normal_scores))
        return np.sort(normal_scores)[::-1][max(k - 1, 0)]
    assert_fails_naming(graders.grade_threshold_at_fpr(kth_largest), "one place too high")


def test_threshold_grader_fails_rounding_rate_times_n_up():
    def rounded_up(normal_scores, rate):
        return np.sort(normal_scores)[::-1][math.ceil(rate * len(normal_scores))]
    assert_fails_naming(graders.grade_threshold_at_fpr(rounded_up), "one place too low", "normal scores above it")


def test_threshold_grader_fails_an_interpolated_quantile():
    assert_fails_naming(graders.grade_threshold_at_fpr(lambda s, rate: np.quantile(s, 1 - rate)),
                        "interpolates")


def test_threshold_grader_fails_the_rate_quantile():
    assert_fails_naming(graders.grade_threshold_at_fpr(lambda s, rate: np.quantile(s, rate)),
                        "(1 - rate) quantile")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_auc_grader_fails_the_library_roc_auc():
    assert_fails_naming(graders.grade_auc_by_ranks(metrics.roc_auc), "calls nanoae.analysis.metrics.roc_auc")


def test_reconstruction_grader_fails_the_library_squared_error():
    def by_mse_loss(x, x_hat):
        return F.mse_loss(nanoae.Tensor(x_hat), nanoae.Tensor(x), reduction="none").sum(axis=1).numpy()
    assert_fails_naming(graders.grade_reconstruction_scores(by_mse_loss), "calls nanoae.functional.mse_loss")


def test_reconstruction_grader_fails_the_library_reconstruction_error():
    class Reconstructs:
        """A stand-in model whose reconstructions are the given x_hat."""
        device = "cpu"

        def __init__(self, x_hat):
            self.x_hat = x_hat

        def eval(self):
            return self

        def reconstruct(self, batch):
            return nanoae.Tensor(self.x_hat)

    def by_reconstruction_error(x, x_hat):
        return anomaly.reconstruction_error(Reconstructs(x_hat), x)
    assert_fails_naming(graders.grade_reconstruction_scores(by_reconstruction_error),
                        "calls nanoae.analysis.anomaly.reconstruction_error")


def test_threshold_grader_fails_the_library_threshold():
    assert_fails_naming(graders.grade_threshold_at_fpr(metrics.threshold_at_fpr),
                        "calls nanoae.analysis.metrics.threshold_at_fpr")
