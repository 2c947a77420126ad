"""The values the chapter 09 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch09_latent`` stores
them in nanoae/exercises/values/ch09_latent.npz. (The few-labels split's
grader needs no stored values: it checks what any right answer has.)
"""
import numpy as np

from nanoae.exercises import ch09_latent as graders


def _angle(z0, z1):
    return np.arccos(np.clip(z0 @ z1 / (np.linalg.norm(z0) * np.linalg.norm(z1)), -1.0, 1.0))


def _arc(z0, z1, t, omega):
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def slerp(case):
    z0, z1, t = graders.slerp_inputs(case)
    omega = _angle(z0, z1)                                                # the angle between the codes
    unit0, unit1 = z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1)
    values = {
        "expected": _arc(z0, z1, t, omega),
        "mistake/straight_line": (1 - t) * z0 + t * z1,
        "mistake/unit_sphere": _arc(unit0, unit1, t, omega),
        "mistake/swapped_weights": (np.sin(t * omega) * z0 + np.sin((1 - t) * omega) * z1) / np.sin(omega),
        "mistake/no_division": np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1,
    }
    if t == 0.5:                                          # at the midpoint the two weights are equal
        del values["mistake/swapped_weights"]
    return values


def attribute_vector(case):
    codes, labels, source, target = graders.attribute_inputs(case)
    mean = {c: codes[labels == c].mean(axis=0) for c in (source, target)}     # (J,) each
    total = {c: codes[labels == c].sum(axis=0) for c in (source, target)}
    return {
        "expected": mean[target] - mean[source],
        "mistake/reversed": mean[source] - mean[target],
        "mistake/sums": total[target] - total[source],
        "mistake/mean_of_all": mean[target] - codes.mean(axis=0),
        "mistake/target_mean": mean[target],
        "mistake/means_added": mean[target] + mean[source],
    }
