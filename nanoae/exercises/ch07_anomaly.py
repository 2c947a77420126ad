"""Graders for chapter 07, anomaly detection.

Notation: N examples, each with a score (larger: more anomalous) and a label
1 (anomaly, positive) or 0 (normal, negative); n_pos + n_neg = N.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``auc_by_ranks(scores, labels)`` | the AUC from the ranks of the scores (Mann-Whitney), ties sharing their mean rank | the value stored for these inputs |
| ``reconstruction_scores(x, x_hat)`` | one score per image, the squared error summed over the pixels, shape (N,) | the shape, and the values stored for these inputs |
| ``threshold_at_fpr(normal_scores, rate)`` | the (k+1)-th largest normal score, k = floor(rate n) | what defines it: it is one of the normal scores, at most k lie above it, and no lower normal score keeps that |

Each exercise rules out the library call that would do it:
``nanoae.analysis.metrics.roc_auc`` and ``roc_curve`` for the AUC,
``F.mse_loss`` and ``nanoae.analysis.anomaly.reconstruction_error`` for the
scores, ``nanoae.analysis.metrics.threshold_at_fpr`` for the threshold.

Scores have ties (rounded to one decimal) in some cases and none in others;
images are N x D with N != D, so that a sum over the wrong axis changes the
shape. When an answer is wrong, the grader names the usual mistake it
matches (their answers are stored for these inputs).
"""
import math

from nanoae import backend, functional as F
from nanoae.analysis import anomaly, metrics
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, diagnose, grader, passed_within, random_array)

TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
CASES = (  # the inputs of each exercise, case by case: (N, seed, ties), (N, D, seed), (n, rate, seed, ties)
    {"auc": (40, 10, True), "reconstruction": (5, 7, 40), "threshold": (50, 0.1, 60, False)},
    {"auc": (25, 20, False), "reconstruction": (8, 3, 50), "threshold": (30, 0.05, 70, False)},
    {"auc": (60, 30, True), "reconstruction": (6, 9, 55), "threshold": (40, 0.0, 80, False)},
    {"auc": (33, 35, False), "reconstruction": (10, 4, 45), "threshold": (45, 0.2, 90, True)},
)
STORED = StoredValues("ch07_anomaly")
xp = backend.array_module_for("cpu")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch07_anomaly.py).
MISTAKES = {
    "auc_by_ranks": {
        "ties_by_position": "tied scores must share the mean of their ranks (a tie counts one half): your ranks "
                            "break ties by position",
        "descending_ranks": "you got 1 - AUC: rank from the lowest score up (rank 1 = smallest) and sum the ranks "
                            "of the anomalies (label 1)",
        "no_offset": "subtract n_pos (n_pos + 1) / 2 from the rank sum: the positives' smallest possible rank sum",
        "ranks_from_zero": "ranks start at 1, not 0",
        "ties_count_zero": "ties count one half, not zero",
        "ties_count_one": "ties count one half, not one",
        "not_divided": "divide by n_pos * n_neg, the number of (positive, negative) pairs",
    },
    "reconstruction_scores": {
        "mean_over_pixels": "you averaged over the pixels: sum them (the docstring's score is the summed "
                            "squared error)",
        "divided_by_batch": "you divided by the number of images: each image's score is its own sum",
        "square_root": "you took the square root (the Euclidean distance): return the squared error",
        "absolute": "square the differences: you summed their absolute values",
        "not_squared": "square the differences before summing: positive and negative errors cancel",
        "square_of_sum": "square each difference, then sum (not the square of the sum)",
    },
    "threshold_at_fpr": {
        "smallest": "you took the (k+1)-th smallest score: sort from high to low, the flagged scores are the "
                    "largest",
        "one_too_high": "one place too high: the threshold is the (k+1)-th largest score, so that the k largest "
                        "lie above it",
        "one_too_low": "one place too low: it lets k + 1 normal scores above the threshold (k = floor(rate n); "
                       "did you round rate n up?)",
        "interpolated": "np.quantile interpolates between scores: take one of the scores, the (k+1)-th largest",
        "rate_quantile": "the threshold leaves a fraction rate of the scores ABOVE it: that is near the (1 - rate) "
                         "quantile, not the rate quantile",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def auc_inputs(case):
    """(scores, labels), each (N,): scores of both signs, anomalies shifted up by 1, both classes present."""
    n, seed, ties = CASES[case]["auc"]
    labels = (random_array((n,), seed, 0.0, 1.0) < 0.4).astype("int64")
    labels[:2] = [0, 1]
    scores = random_array((n,), seed + 1) + labels
    return (xp.round(scores, 1) if ties else scores), labels


def reconstruction_inputs(case):
    """(x, x_hat), each (N, D) with pixels in [0, 1): errors of both signs."""
    n, d, seed = CASES[case]["reconstruction"]
    return random_array((n, d), seed, 0.0, 1.0), random_array((n, d), seed + 1, 0.0, 1.0)


def threshold_inputs(case):
    """(normal_scores (n,), rate)."""
    n, rate, seed, ties = CASES[case]["threshold"]
    scores = random_array((n,), seed)
    return (xp.round(scores, 1) if ties else scores), rate


def _one_number(answer, what):
    """The student's answer as a Python float; it must be a single number."""
    got = as_numpy(answer)
    if got.size != 1:
        raise Mismatch(f"return one number, {what}; got an array of shape {got.shape}")
    return float(got.reshape(-1)[0])


# --- exercise 1: the AUC from ranks ------------------------------------------------------------

@grader("auc_by_ranks", forbidden=(metrics.roc_auc, metrics.roc_curve))
def grade_auc_by_ranks(auc_by_ranks):
    worst = 0.0
    for case in range(len(CASES)):
        scores, labels = auc_inputs(case)
        got = _one_number(auc_by_ranks(scores.copy(), labels.copy()), "the area under the ROC curve")
        ties = "with" if CASES[case]["auc"][2] else "no"
        worst = max(worst, STORED.check(xp.reshape(got, 1), "auc_by_ranks", case, MISTAKES["auc_by_ranks"], TOL,
                                        f"your AUC (N={len(scores)}, {ties} ties)"))
    return passed_within(worst, TOL)


# --- exercise 2: reconstruction scores --------------------------------------------------------------

@grader("reconstruction_scores", forbidden=(F.mse_loss, anomaly.reconstruction_error))
def grade_reconstruction_scores(reconstruction_scores):
    worst = 0.0
    for case in range(len(CASES)):
        x, x_hat = reconstruction_inputs(case)
        n, d = x.shape
        got = as_numpy(reconstruction_scores(x.copy(), x_hat.copy()))
        if got.shape == (d,):
            raise Mismatch(f"your answer has shape {got.shape}, one number per pixel: you reduced over the "
                           f"examples (axis 0, a mean or a sum over the batch); sum over the pixels (axis 1) "
                           f"to get one score per image, shape ({n},)")
        if got.size == 1:
            raise Mismatch("you returned one number for the whole batch (a mean over the batch?): return one "
                           f"score per image, shape ({n},)")
        worst = max(worst, STORED.check(got, "reconstruction_scores", case, MISTAKES["reconstruction_scores"], TOL,
                                        f"your scores (N={n}, D={d})"))
    return passed_within(worst, TOL)


# --- exercise 3: the threshold for a false-positive rate ---------------------------------------------

def _check_threshold(got, scores, rate, what):
    """Raise a Mismatch unless ``got`` is the threshold that the docstring defines for these scores.

    With k = floor(rate n): ``got`` is one of the scores, at most k scores lie
    strictly above it, and the next lower score would not keep that (at least
    k + 1 scores are at or above ``got``). Exactly one score has all three.
    """
    n, k = len(scores), math.floor(rate * len(scores))
    above, at_or_above = int((scores > got).sum()), int((scores >= got).sum())
    if not bool((scores == got).any()):
        raise Mismatch(f"{what} is {got:.6g}, which is not one of the normal scores; it leaves {above} of {n} "
                       f"normal scores above it, the rate allows {k}")
    if above > k:
        raise Mismatch(f"{what} leaves {above} of {n} normal scores above it, the rate allows {k}")
    if at_or_above <= k:
        raise Mismatch(f"{what} leaves {above} of {n} normal scores above it, within the {k} the rate allows, "
                       f"but so does the next lower normal score: the threshold is the lowest score that does")


@grader("threshold_at_fpr", forbidden=(metrics.threshold_at_fpr,))
def grade_threshold_at_fpr(threshold_at_fpr):
    for case in range(len(CASES)):
        scores, rate = threshold_inputs(case)
        got = _one_number(threshold_at_fpr(scores.copy(), rate), "the threshold")
        try:
            _check_threshold(got, scores, rate, f"your threshold (n={len(scores)}, rate={rate})")
        except Mismatch as mismatch:
            hints = MISTAKES["threshold_at_fpr"]
            diagnose(got, [(value, hints[name]) for name, value in STORED.mistakes("threshold_at_fpr", case).items()],
                     mismatch)
    return (f"in all {len(CASES)} cases your threshold is a normal score with at most floor(rate n) scores above "
            f"it, and no lower normal score keeps that")
