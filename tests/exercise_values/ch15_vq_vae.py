"""The values the chapter 15 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch15_vq_vae`` stores
them in nanoae/exercises/values/ch15_vq_vae.npz. The straight-through
estimator needs no stored value: its grader checks properties.
"""
import numpy as np

from nanoae.exercises import ch15_vq_vae as graders


def nearest_code(case):
    z, codebook = graders.code_inputs(case)
    distances = ((z[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=2)      # (N, K)
    dots = z @ codebook.T
    return {
        "expected": distances.argmin(axis=1),
        "mistake/farthest": distances.argmax(axis=1),
        "mistake/largest_dot": dots.argmax(axis=1),
    }


def vq_losses(case):
    z_e, z_q = graders.loss_inputs(case)
    batch = len(z_e)
    squared = (z_e - z_q) ** 2                                                    # (B, D, h, w)
    distance = np.sqrt(squared.sum(axis=1))                                       # (B, h, w): ||z_e - z_q|| per place

    def pair(value):
        return np.array([value, value])
    return {
        "expected": pair(squared.sum() / batch),
        "mistake/mean_over_numbers": pair(squared.mean()),
        "mistake/sum_over_batch": pair(squared.sum()),
        "mistake/per_place": pair(squared.sum() / (batch * z_e.shape[2] * z_e.shape[3])),
        "mistake/not_squared": pair(distance.sum() / batch),
    }


def perplexity(case):
    counts = graders.count_inputs(case).astype(np.float64)
    p = counts / counts.sum()
    used = p[p > 0]
    entropy = -(used * np.log(used)).sum()                                        # nats
    c = counts[counts > 0]
    q = counts / len(counts)
    q = q[q > 0]
    return {
        "expected": np.exp(entropy),
        "mistake/entropy": entropy,
        "mistake/exp_of_bits": np.exp(entropy / np.log(2)),
        "mistake/two_to_nats": 2 ** entropy,
        "mistake/counts_not_shares": np.exp(-(c * np.log(c)).sum()),
        "mistake/shares_over_codebook": np.exp(-(q * np.log(q)).sum()),
        "mistake/used_codes": float((counts > 0).sum()),
        "mistake/inverse": np.exp(-entropy),
    }
