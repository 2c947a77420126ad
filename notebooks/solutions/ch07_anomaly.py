"""Reference solutions to the chapter 07 exercises (anomaly detection): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/07-anomaly-detection.ipynb``; ``nanoae.exercises.ch07_anomaly``
grades them. Scores are larger for more anomalous examples; labels are
1 (anomaly) or 0 (normal).
"""
import math

import numpy as np


def auc_by_ranks(scores, labels):
    """The AUC as the Mann-Whitney statistic: (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg).

    scores (N,), labels (N,) of 0/1, NumPy arrays. R_pos is the sum of the
    anomalies' ranks (1 = smallest score), tied scores sharing their mean rank.
    """
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(1, len(scores) + 1)      # 1 for the smallest score, N for the largest
    for value in np.unique(scores):                                 # tied scores share their mean rank
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos = int((labels == 1).sum())
    n_neg = len(labels) - n_pos
    return (ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def reconstruction_scores(x, x_hat):
    """One anomaly score per image: the squared error summed over the pixels; x, x_hat (N, D) -> (N,)."""
    return ((x - x_hat) ** 2).sum(axis=1)


def threshold_at_fpr(normal_scores, rate):
    """The (k+1)-th largest normal score, k = floor(rate n): at most k normal scores lie above it."""
    k = math.floor(rate * len(normal_scores))
    return np.sort(normal_scores)[::-1][k]
