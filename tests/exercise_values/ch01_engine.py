"""The values the chapter 01 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch01_engine`` stores
them in nanoae/exercises/values/ch01_engine.npz. SiLU has fewer cases than
sum_to: its functions return nothing for the cases it does not have.
"""
import itertools

import numpy as np

from nanoae.exercises import ch01_engine as graders


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def SiLU_forward(case):
    if case >= len(graders.SILU_CASES):
        return {}
    x, _ = graders.SiLU_inputs(case)
    return {"expected": x * _sigmoid(x)}


def SiLU_backward(case):
    """The gradient dL/dx that each mistaken backward returns for the grader's upstream gradient."""
    if case >= len(graders.SILU_CASES):
        return {}
    x, upstream = graders.SiLU_inputs(case)
    s = _sigmoid(x)
    return {
        "mistake/no_upstream": s * (1 + x * (1 - s)),
        "mistake/no_second_term": upstream * s,
        "mistake/sigmoid_derivative": upstream * s * (1 - s),
        "mistake/no_first_term": upstream * x * s * (1 - s),
        "mistake/sign_error": upstream * s * (1 - x * (1 - s)),
    }


def _adjoint_of_broadcasting(g, shape):
    """The answer one entry at a time: entry k is sum(g * broadcast(e_k)).

    Broadcasting is linear, v -> B v; the gradient of a broadcast input is B^T g, and
    (B^T g)_k = <g, B e_k> for the k-th unit array e_k of the input's shape.
    """
    out = np.zeros(shape)
    for k in range(out.size):
        e = np.zeros(shape)
        e.flat[k] = 1.0
        out.flat[k] = (g * np.broadcast_to(e, g.shape)).sum()
    return out


def sum_to(case):
    """The answer, the axes it sums over (``axes``, for the hints), and the mistakes: a mean instead
    of a sum, and each sum over other axes whose result has as many entries as the answer."""
    g, shape = graders.sum_to_inputs(case)
    expected = _adjoint_of_broadcasting(g, shape)
    lead = g.ndim - len(shape)
    right = tuple(range(lead)) + tuple(lead + j for j, n in enumerate(shape) if n == 1 and g.shape[lead + j] != 1)
    assert np.allclose(g.sum(axis=right).reshape(shape), expected)
    values = {"expected": expected, "axes": np.array(right, dtype=np.float64)}
    if right:
        values["mistake/mean"] = expected * expected.size / g.size
    for n in range(1, g.ndim + 1):
        for axes in itertools.combinations(range(g.ndim), n):
            summed = g.sum(axis=axes)
            if set(axes) != set(right) and summed.size == expected.size:
                values["mistake/axes_" + "_".join(map(str, axes))] = summed.reshape(shape)
    return values
