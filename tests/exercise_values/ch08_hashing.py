"""The values the chapter 08 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch08_hashing`` stores
them in nanoae/exercises/values/ch08_hashing.npz. (The Hamming ball's grader
needs no stored values: it checks what any right answer has.)
"""
import numpy as np

from nanoae.exercises import ch08_hashing as graders


def hamming_distance(case):
    a, b = graders.hamming_inputs(case)
    num_bits = a.shape[1]
    distances = (a[:, None, :] != b[None, :, :]).sum(axis=2)                # (M, N), bit by bit
    s_a, s_b = 2.0 * a - 1, 2.0 * b - 1                                       # signs in {-1, +1}
    values = {
        "expected": distances,
        "mistake/agreements": num_bits - distances,
        "mistake/sign_product": s_a @ s_b.T,
        "mistake/no_half": num_bits - s_a @ s_b.T,
        "mistake/negated_product": -s_a @ s_b.T,
        "mistake/bit_product": 1.0 * a @ b.T,
        "mistake/bits_not_signs": (num_bits - (1.0 * a) @ b.T) / 2,
    }
    if a.shape == b.shape:                                                    # a transpose has the same shape
        values = {"expected": distances, "mistake/transposed": distances.T,
                  **{key: value for key, value in values.items() if key != "expected"}}
    return values


def _precision(distances, labels, k, include_self=False, extra=0, farthest=False):
    """A loop over the items; the usual mistakes are switches, so each wrong answer is built the same way."""
    precision = []
    for i in range(len(labels)):
        others = [j for j in range(len(labels)) if include_self or j != i]
        others.sort(key=lambda j: -distances[i, j] if farthest else distances[i, j])
        nearest = others[:k + extra]
        precision.append(sum(labels[j] == labels[i] for j in nearest) / k)   # divided by k, whatever was kept
    return np.array(precision)


def precision_at_k(case):
    distances, labels, k = graders.precision_inputs(case)
    n = len(labels)
    same_label = labels[:, None] == labels[None, :]                           # (N, N), the diagonal too
    values = {
        "expected": _precision(distances, labels, k),
        "mistake/includes_self": _precision(distances, labels, k, include_self=True),
        "mistake/k_plus_one": _precision(distances, labels, k, extra=1),                 # counted over k + 1
        "mistake/k_plus_one_averaged": _precision(distances, labels, k, extra=1) * k / (k + 1),
    }
    if k > 1:                         # with k = 1, k - 1 neighbours is no answer, and a count is a fraction
        values["mistake/k_minus_one"] = _precision(distances, labels, k, extra=-1)
        values["mistake/k_minus_one_averaged"] = _precision(distances, labels, k, extra=-1) * k / (k - 1)
    values["mistake/farthest"] = _precision(distances, labels, k, farthest=True)
    if k > 1:
        values["mistake/matches_counted"] = _precision(distances, labels, k) * k
    values["mistake/all_others"] = (same_label.sum(axis=1) - 1) / (n - 1)
    return values
