"""The values the chapter 07 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch07_anomaly`` stores
them in nanoae/exercises/values/ch07_anomaly.npz.

The threshold's grader checks the properties that define the threshold, and
reads only the mistakes from the store; its "expected" is kept so that
tests/test_exercise_values.py can show that no stored mistake gives the right
answer on these inputs.
"""
import math

import numpy as np

from nanoae.exercises import ch07_anomaly as graders



def auc_by_ranks(case):
    scores, labels = graders.auc_inputs(case)
    pos, neg = scores[labels == 1][:, None], scores[labels == 0][None, :]   # (n_pos, 1), (1, n_neg)
    n_pos, n_neg = pos.size, neg.size
    auc = (pos > neg).mean() + 0.5 * (pos == neg).mean()                   # every pair, ties count one half
    ordinal = np.empty(len(scores))
    ordinal[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)   # ties broken by position
    return {
        "expected": auc,
        "mistake/ties_by_position": (ordinal[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg),
        "mistake/descending_ranks": 1 - auc,
        "mistake/no_offset": auc + n_pos * (n_pos + 1) / 2 / (n_pos * n_neg),
        "mistake/ranks_from_zero": auc - 1 / n_neg,
        "mistake/ties_count_zero": (pos > neg).mean(),
        "mistake/ties_count_one": (pos >= neg).mean(),
        "mistake/not_divided": auc * n_pos * n_neg,
    }


def reconstruction_scores(case):
    x, x_hat = graders.reconstruction_inputs(case)
    squared = (x - x_hat) ** 2                                                # (N, D)
    return {
        "expected": squared.sum(axis=1),
        "mistake/mean_over_pixels": squared.mean(axis=1),
        "mistake/divided_by_batch": squared.sum(axis=1) / len(x),
        "mistake/square_root": np.sqrt(squared.sum(axis=1)),
        "mistake/absolute": abs(x - x_hat).sum(axis=1),
        "mistake/not_squared": (x - x_hat).sum(axis=1),
        "mistake/square_of_sum": (x - x_hat).sum(axis=1) ** 2,
    }


def threshold_at_fpr(case):
    scores, rate = graders.threshold_inputs(case)
    n, ascending = len(scores), np.sort(scores)
    k = math.floor(rate * n)                                                  # normal scores allowed above
    values = {"expected": ascending[n - 1 - k],                               # the (k+1)-th largest
              "mistake/smallest": ascending[k]}
    if k > 0:
        values["mistake/one_too_high"] = ascending[n - k]
    values.update({
        "mistake/one_too_low": ascending[n - 2 - k],
        "mistake/interpolated": np.quantile(scores, 1 - rate),
        "mistake/rate_quantile": np.quantile(scores, rate),
    })
    return values
