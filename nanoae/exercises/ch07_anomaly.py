"""Graders for chapter 07, anomaly detection.

Notation: N examples, each with a score (larger: more anomalous) and a label
1 (anomaly, positive) or 0 (normal, negative); n_pos + n_neg = N.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``auc_by_ranks(scores, labels)`` | the AUC from the ranks of the scores (Mann-Whitney), ties sharing their mean rank | counting every (positive, negative) pair: wins 1, ties 1/2 |
| ``reconstruction_scores(x, x_hat)`` | one score per image, sum_i (x_i - x_hat_i)^2, shape (N,) | the squared error summed over the pixels |
| ``threshold_at_fpr(normal_scores, rate)`` | the (k+1)-th largest normal score, k = floor(rate n) | counting from the bottom of an ascending sort |

Scores have ties (rounded to one decimal) in some cases and none in others;
images are N x D with N != D, so that a sum over the wrong axis changes the
shape. When an answer is wrong, the grader also tries the usual mistakes and
names the one the answer matches.
"""
import math

from nanoae import backend
from nanoae.exercises import Mismatch, as_numpy, compare, diagnose, grader, passed_within, random_array

TOL = 1e-9      # the references are exact in float64: a right answer agrees to ~1e-15
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64


def _one_number(answer, what):
    """The student's answer as a Python float; it must be a single number."""
    got = as_numpy(answer)
    if got.size != 1:
        raise Mismatch(f"return one number, {what}; got an array of shape {got.shape}")
    return float(got.reshape(-1)[0])


# --- exercise 1: the AUC from ranks ------------------------------------------------------------

def _scored_examples(n, seed, ties):
    """Scores (n,) of both signs, anomalies shifted up by 1; labels (n,) with both classes present."""
    labels = (random_array((n,), seed, 0.0, 1.0) < 0.4).astype("int64")
    labels[:2] = [0, 1]
    scores = random_array((n,), seed + 1) + labels
    return (xp.round(scores, 1) if ties else scores), labels


def _pair_count_auc(scores, labels):
    """Pr(score of a positive > score of a negative) + 1/2 Pr(equal), over every pair."""
    pos, neg = scores[labels == 1][:, None], scores[labels == 0][None, :]      # (n_pos, 1), (1, n_neg)
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def _rank_auc(ranks, labels):
    n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@grader("auc_by_ranks")
def grade_auc_by_ranks(auc_by_ranks):
    worst = 0.0
    for n, seed, ties in ((40, 10, True), (25, 20, False), (60, 30, True)):
        scores, labels = _scored_examples(n, seed, ties)
        expected = _pair_count_auc(scores, labels)
        got = _one_number(auc_by_ranks(scores.copy(), labels.copy()), "the area under the ROC curve")
        n_pos, n_neg = int(labels.sum()), int((1 - labels).sum())
        ordinal = xp.empty(n)
        ordinal[xp.argsort(scores, kind="stable")] = xp.arange(1, n + 1)       # ranks 1..N, ties not shared
        pos, neg = scores[labels == 1][:, None], scores[labels == 0][None, :]
        try:
            worst = max(worst, compare(got, expected, TOL, f"your AUC (N={n}, {'with' if ties else 'no'} ties)"))
        except Mismatch as mismatch:
            diagnose(got, [
                (_rank_auc(ordinal, labels) if ties else None,
                 "tied scores must share the mean of their ranks (a tie counts one half): your ranks break "
                 "ties by position"),
                (1 - expected, "you got 1 - AUC: rank from the lowest score up (rank 1 = smallest) and sum "
                               "the ranks of the anomalies (label 1)"),
                (expected + n_pos * (n_pos + 1) / 2 / (n_pos * n_neg),
                 "subtract n_pos (n_pos + 1) / 2 from the rank sum: the positives' smallest possible rank sum"),
                (expected - 1 / n_neg, "ranks start at 1, not 0"),
                (float((pos > neg).mean()) if ties else None, "ties count one half, not zero"),
                (float((pos >= neg).mean()) if ties else None, "ties count one half, not one"),
                (expected * n_pos * n_neg, "divide by n_pos * n_neg, the number of (positive, negative) pairs"),
            ], mismatch)
    return passed_within(worst, TOL) + " against counting every (anomaly, normal) pair, ties as one half"


# --- exercise 2: reconstruction scores --------------------------------------------------------------

@grader("reconstruction_scores")
def grade_reconstruction_scores(reconstruction_scores):
    worst = 0.0
    for n, d, seed in ((5, 7, 40), (8, 3, 50)):                                  # N != D
        x = random_array((n, d), seed, 0.0, 1.0)                                 # pixels in [0, 1)
        x_hat = random_array((n, d), seed + 1, 0.0, 1.0)                         # errors of both signs
        squared = (x - x_hat) ** 2                                               # (N, D)
        got = as_numpy(reconstruction_scores(x.copy(), x_hat.copy()))
        if got.shape == (d,):
            raise Mismatch(f"your answer has shape {got.shape}, one number per pixel: you reduced over the "
                           f"examples (axis 0, a mean or a sum over the batch); sum over the pixels (axis 1) "
                           f"to get one score per image, shape ({n},)")
        if got.size == 1:
            raise Mismatch("you returned one number for the whole batch (a mean over the batch?): return one "
                           f"score per image, shape ({n},)")
        try:
            worst = max(worst, compare(got, squared.sum(axis=1), TOL, f"your scores (N={n}, D={d})"))
        except Mismatch as mismatch:
            diagnose(got, [
                (squared.mean(axis=1), "you averaged over the pixels: sum them (the docstring's score is the "
                                       "summed squared error)"),
                (squared.sum(axis=1) / n, "you divided by the number of images: each image's score is its own sum"),
                (xp.sqrt(squared.sum(axis=1)), "you took the square root (the Euclidean distance): return the "
                                               "squared error"),
                (abs(x - x_hat).sum(axis=1), "square the differences: you summed their absolute values"),
                ((x - x_hat).sum(axis=1), "square the differences before summing: positive and negative errors "
                                          "cancel"),
                ((x - x_hat).sum(axis=1) ** 2, "square each difference, then sum (not the square of the sum)"),
            ], mismatch)
    return passed_within(worst, TOL) + " against the squared error summed over the pixels"


# --- exercise 3: the threshold for a false-positive rate ---------------------------------------------

@grader("threshold_at_fpr")
def grade_threshold_at_fpr(threshold_at_fpr):
    worst = 0.0
    for n, rate, seed, ties in ((50, 0.1, 60, False), (30, 0.05, 70, False), (40, 0.0, 80, False),
                                (45, 0.2, 90, True)):
        scores = random_array((n,), seed)
        if ties:
            scores = xp.round(scores, 1)
        ascending = xp.sort(scores)
        k = math.floor(rate * n)                           # normal scores allowed above the threshold
        expected = float(ascending[n - 1 - k])             # the (k+1)-th largest
        got = _one_number(threshold_at_fpr(scores.copy(), rate), "the threshold")
        above = int((scores > got).sum())
        what = f"your threshold (n={n}, rate={rate})"
        try:
            worst = max(worst, compare(got, expected, TOL, what))
        except Mismatch as mismatch:
            mismatch = Mismatch(f"{mismatch}; it leaves {above} of {n} normal scores above it, "
                                f"the rate allows {k}")
            diagnose(got, [
                (float(ascending[k]), "you took the (k+1)-th smallest score: sort from high to low, the flagged "
                                      "scores are the largest"),
                (float(ascending[n - k]) if k > 0 else None,
                 "one place too high: the threshold is the (k+1)-th largest score, so that the k largest lie "
                 "above it"),
                (float(ascending[n - 2 - k]), "one place too low: it lets k + 1 normal scores above the "
                                              "threshold (k = floor(rate n); did you round rate n up?)"),
                (float(xp.quantile(scores, 1 - rate)), "np.quantile interpolates between scores: take one of "
                                                       "the scores, the (k+1)-th largest"),
                (float(xp.quantile(scores, rate)), "the threshold leaves a fraction rate of the scores ABOVE it: "
                                                   "that is near the (1 - rate) quantile, not the rate quantile"),
            ], mismatch)
    return passed_within(worst, TOL) + " against the (k+1)-th largest normal score, k = floor(rate n)"
