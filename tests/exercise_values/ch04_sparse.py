"""The values the chapter 04 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch04_sparse`` stores
them in nanoae/exercises/values/ch04_sparse.npz.
"""
import numpy as np

from nanoae.exercises import ch04_sparse as graders


def _kl(rho, q):
    """KL(Bernoulli(rho) || Bernoulli(q)) elementwise, for q in (0, 1)."""
    return rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q))


def sparsity_kl(case):
    h, rho = graders.sparsity_kl_inputs(case)
    batch = len(h)
    rho_hat = h.mean(axis=0)                                   # (K,)
    return {
        "expected": _kl(rho, rho_hat).sum(),
        "mistake/swapped": _kl(rho_hat, rho).sum(),
        "mistake/no_one_minus_rho": (rho * np.log(rho / rho_hat)).sum(),
        "mistake/kl_of_every_h": _kl(rho, h).sum(),
        "mistake/mean_of_kl_of_every_h": _kl(rho, h).sum() / batch,
        "mistake/mean_over_units": _kl(rho, rho_hat).mean(),
        "mistake/wrong_axis": _kl(rho, h.mean(axis=1)).sum(),
    }


def sparsity_grad_preactivation(case):
    """dP/da_bj = 1/B dKL/drho_hat_j h_bj (1 - h_bj), and the usual mistakes."""
    a, rho = graders.sparsity_grad_preactivation_inputs(case)
    batch = len(a)
    h = 1 / (1 + np.exp(-a))                                   # (B, K)
    rho_hat = h.mean(axis=0)                                   # (K,)
    per_unit = (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / batch   # (K,) dP/drho_hat_j / B
    return {
        "expected": per_unit * h * (1 - h),
        "mistake/no_batch_mean": per_unit * batch * h * (1 - h),
        "mistake/no_sigmoid_slope": per_unit + 0 * h,
        "mistake/slope_h": per_unit * h,
        "mistake/negated": -per_unit * h * (1 - h),
    }
