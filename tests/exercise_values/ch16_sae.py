"""The values the chapter 16 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch16_sae`` stores
them in nanoae/exercises/values/ch16_sae.npz.
"""
import numpy as np

from nanoae.exercises import ch16_sae as graders


def _largest(values, k, axis=-1):
    """The bool mask of the k largest of ``values`` along ``axis`` (the inputs have no ties)."""
    order = np.argsort(-values, axis=axis)
    ranks = np.argsort(order, axis=axis)
    return ranks < k


def topk_forward(case):
    x, k, _ = graders.topk_inputs(case)
    kept = _largest(x, k)
    return {
        "expected": np.where(kept, x, 0.0),
        "mistake/smallest": np.where(_largest(-x, k), x, 0.0),
        "mistake/by_size": np.where(_largest(np.abs(x), k), x, 0.0),
        "mistake/relu": np.where(kept, np.maximum(x, 0.0), 0.0),
        "mistake/columns": np.where(_largest(x, k, axis=0), x, 0.0),
        "mistake/k_plus_one": np.where(_largest(x, k + 1), x, 0.0),
    }


def topk_backward(case):
    """dL/dx for the grader's upstream gradient: y_i = x_i where kept, so dL/dx_i = dL/dy_i there, else 0."""
    x, k, upstream = graders.topk_inputs(case)
    kept = _largest(x, k)
    return {
        "expected": np.where(kept, upstream, 0.0),
        "mistake/smallest": np.where(_largest(-x, k), upstream, 0.0),
        "mistake/every_entry": upstream,
        "mistake/dropped_entries": np.where(kept, 0.0, upstream),
        "mistake/no_upstream": kept.astype(float),
        "mistake/times_x": np.where(kept, upstream * x, 0.0),
        "mistake/positive_entries": np.where(x > 0, upstream, 0.0),
    }


def normalized_mse(case):
    x, x_hat = graders.nmse_inputs(case)
    squared_error = ((x - x_hat) ** 2).sum()
    spread = ((x - x.mean(axis=0)) ** 2).sum()
    per_row = ((x - x_hat) ** 2).sum(axis=1) / ((x - x.mean(axis=0)) ** 2).sum(axis=1)
    return {
        "expected": squared_error / spread,
        "mistake/plain_mse": ((x - x_hat) ** 2).mean(),
        "mistake/uncentered": squared_error / (x ** 2).sum(),
        "mistake/one_mean": squared_error / ((x - x.mean()) ** 2).sum(),
        "mistake/mean_of_ratios": per_row.mean(),
        "mistake/root": np.sqrt(squared_error / spread),
        "mistake/inverted": spread / squared_error,
    }


def count_dead_latents(case):
    z = graders.dead_inputs(case)
    fired = (z != 0).any(axis=0)                      # (L,)
    dead = int((~fired).sum())
    return {
        "expected": dead,
        "mistake/alive": int(fired.sum()),
        "mistake/zero_entries": int((z == 0).sum()),
        "mistake/silent_rows": int((~(z != 0).any(axis=1)).sum()),
        "mistake/fraction": dead / z.shape[1],
    }
