"""The values the chapter 05 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch05_contractive``
stores them in nanoae/exercises/values/ch05_contractive.npz.

The graders of the Jacobian and of the penalty compare with finite
differences of the layer, and read only the mistakes from the store; their
"expected" here is the closed form, kept so that tests/test_exercise_values.py
can show that no mistake gives the right answer on these inputs.
"""
import numpy as np

from nanoae.exercises import ch05_contractive as graders


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def sigmoid_jacobian(case):
    x, w, b = graders.jacobian_inputs(case)
    h = _sigmoid(w @ x + b)                                            # (K,)
    slope = h * (1 - h)                                               # (K,)
    jacobian = slope[:, None] * w                                     # (K, D): diag(h (1 - h)) W
    values = {
        "expected": jacobian,
        "mistake/w_alone": w,
        "mistake/h_as_slope": h[:, None] * w,
        "mistake/transposed": jacobian.T,
        "mistake/squared": jacobian ** 2,
    }
    if w.shape[0] == w.shape[1]:                                      # W.T has the shape of W only when K = D
        values["mistake/w_transposed"] = slope[:, None] * w.T
    return values


def contractive_penalty(case):
    x, w, b = graders.penalty_inputs(case)
    batch = len(x)
    h = _sigmoid(x @ w.T + b)                                          # (B, K)
    slope = h * (1 - h)                                               # (B, K)
    row_norms = (w * w).sum(axis=1)                                   # (K,): sum_i W_ji^2
    values = {
        "expected": (slope ** 2 * row_norms).sum() / batch,
        "mistake/slope_not_squared": (slope * row_norms).sum() / batch,
        "mistake/sum_over_batch": (slope ** 2 * row_norms).sum(),
        "mistake/mean_over_units": (slope ** 2 * row_norms).mean(),
        "mistake/sums_apart": (slope ** 2).sum() * (w * w).sum() / batch,
    }
    if w.shape[0] == w.shape[1]:                                      # the column norms fit only when K = D
        values["mistake/w_wrong_axis"] = (slope ** 2 * (w * w).sum(axis=0)).sum() / batch
    return values


def contractive_penalty_grad_W(case):
    x, w, b = graders.penalty_grad_inputs(case)
    batch = len(x)
    h = _sigmoid(x @ w.T + b)                                          # (B, K)
    s = h * (1 - h)                                                   # (B, K), ds/da = s (1 - 2h)
    r = (w * w).sum(axis=1)                                           # (K,)
    through_h = 2 * (s * s * (1 - 2 * h) * r).T @ x / batch           # (K, D)
    through_r = 2 * (s * s).sum(axis=0)[:, None] * w / batch          # (K, D)
    return {
        "expected": through_h + through_r,
        "mistake/only_through_norms": through_r,
        "mistake/only_through_h": through_h,
        "mistake/no_batch_mean": (through_h + through_r) * batch,
        "mistake/no_one_minus_two_h": 2 * (s * s * r).T @ x / batch + through_r,
    }
