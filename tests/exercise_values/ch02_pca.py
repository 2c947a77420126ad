"""The values the chapter 02 graders compare against, from the formulas (instructors' side).

Each function takes a case number, builds the grader's own inputs for it, and
returns {"expected": the right answer, "mistake/<name>": the answer of that
common mistake}; ``python tests/exercise_values/write.py ch02_pca`` stores
them in nanoae/exercises/values/ch02_pca.npz. An exercise with fewer cases
than the grader's CASES returns nothing for the others.
"""
import numpy as np

from nanoae.autograd import Tensor, grad
from nanoae.exercises import ch02_pca as graders


def _pca_by_eigh(x, k, centre=True, add_mean=True, smallest=False):
    """The top k (or, with ``smallest``, the last k) directions from the eigenvectors of the covariance."""
    mean = x.mean(axis=0) if centre else 0 * x[0]
    xc = x - mean
    _, vectors = np.linalg.eigh(xc.T @ xc)                     # eigenvalues ascending
    v = vectors[:, :k] if smallest else vectors[:, ::-1][:, :k]   # (D, k)
    return xc @ v @ v.T + (mean if add_mean else 0)


def pca_reconstruct(case):
    x, k = graders.pca_reconstruct_inputs(case)
    return {
        "expected": _pca_by_eigh(x, k),
        "mistake/not_centred": _pca_by_eigh(x, k, centre=False, add_mean=False),
        "mistake/no_mean": _pca_by_eigh(x, k, add_mean=False),
        "mistake/smallest": _pca_by_eigh(x, k, smallest=True),
        "mistake/one_more": _pca_by_eigh(x, k + 1),
        "mistake/one_fewer": _pca_by_eigh(x, k - 1),
    }


def principal_angles(case):
    """The angles the subspaces were built with; with a single angle, the order mistakes cannot show."""
    if case >= len(graders.ANGLE_CASES):
        return {}
    a, b = graders.principal_angles_inputs(case)
    expected = np.radians(graders.ANGLE_CASES[case][0])      # smallest first
    raw = np.linalg.svd(a.T @ b, compute_uv=False)             # cosines only if a, b were orthonormal
    values = {
        "expected": expected,
        "mistake/degrees": np.degrees(expected),
        "mistake/cosines": np.cos(expected),
        "mistake/no_qr": np.arccos(np.clip(raw, -1, 1)),
    }
    if len(expected) > 1:
        values["mistake/largest_first"] = expected[::-1]
        values["mistake/cosines_largest_first"] = np.cos(expected)[::-1]
    return values


def _gradients(case):
    """dL/dW_enc and dL/dW_dec of L = 1/B sum_b ||x_b W_enc^T W_dec^T - x_b||^2, by nanoae's autograd."""
    x, w_enc, w_dec = graders.linear_ae_gradients_inputs(case)
    enc, dec = Tensor(w_enc, requires_grad=True), Tensor(w_dec, requires_grad=True)
    x_hat = Tensor(x) @ enc.T @ dec.T                          # (B, D)
    loss = ((x_hat - Tensor(x)) ** 2).sum() / len(x)
    return [g.numpy() for g in grad(loss, [enc, dec])], x.shape


def _with_mistakes(expected, batch, d):
    return {
        "expected": expected,
        "mistake/half": expected / 2,
        "mistake/negated": -expected,
        "mistake/sum_over_batch": expected * batch,
        "mistake/mean_over_pixels": expected / d,
        "mistake/transposed": expected.T,
    }


def grad_w_dec(case):
    if case >= len(graders.LINEAR_AE_CASES):
        return {}
    (_, expected), (batch, d) = _gradients(case)
    return _with_mistakes(expected, batch, d)


def grad_w_enc(case):
    if case >= len(graders.LINEAR_AE_CASES):
        return {}
    (expected, _), (batch, d) = _gradients(case)
    return _with_mistakes(expected, batch, d)
