"""Vector quantization's ops: the nearest codebook vector and the straight-through estimator.

The gradient check of ``straight_through`` is in the catalogue
(nanoae/gradcheck_cases.py, run by test_ops.py): there z_q moves one for one
with z_e, so the identity gradient the estimator claims is the true one.
Here: a planted wrong backward is caught by that case; with a real
quantizer the encoder's gradient is the upstream gradient bit for bit and
the codebook gets none through the op; the nearest code against a search
written out with a loop.
"""
import numpy as np
import pytest

import nanoae
from nanoae import Function, Tensor, gradcheck, ops
from nanoae.autograd import ShapeError
from nanoae.gradcheck import GradcheckError
from nanoae.gradcheck_cases import CASES, make_inputs

STRAIGHT_THROUGH_CASE = next(case for case in CASES if case.name.startswith("straight_through"))


def both_signs(xp, shape, seed=0):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape))


# --- the straight-through estimator ---------------------------------------------------------

def test_straight_through_forward_gives_the_quantized_values_in_a_new_array(xp):
    z_e, z_q = Tensor(both_signs(xp, (4, 3), 1)), Tensor(both_signs(xp, (4, 3), 2))
    y = ops.straight_through(z_e, z_q)
    np.testing.assert_array_equal(y.numpy(), z_q.numpy())
    assert y.data is not z_q.data


def gradients_through_a_real_quantizer(xp):
    """(dL/dz_e, the upstream gradient, dL/dcodebook) for y = straight_through(z_e, z_q), z_q picked by argmin."""
    codebook = Tensor(both_signs(xp, (5, 3), 1), requires_grad=True)        # (K, D)
    z_e = Tensor(both_signs(xp, (8, 3), 2), requires_grad=True)             # (N, D)
    z_q = codebook[ops.nearest_code(z_e, codebook).data]                    # (N, D), on the codebook's graph
    y = ops.straight_through(z_e, z_q)
    upstream = both_signs(xp, (8, 3), 3)
    g_z_e, g_codebook = nanoae.grad(y, [z_e, codebook], grad_output=Tensor(upstream))
    return g_z_e, nanoae.backend.to_numpy(upstream), g_codebook


def test_straight_through_hands_the_upstream_gradient_to_z_e_unchanged_and_none_to_the_codebook(xp):
    g_z_e, upstream, g_codebook = gradients_through_a_real_quantizer(xp)
    np.testing.assert_array_equal(g_z_e.numpy(), upstream)
    assert g_codebook is None


def test_the_catalogue_case_passes_for_the_straight_through_op(xp):
    assert gradcheck(STRAIGHT_THROUGH_CASE.fn, [xp.asarray(a) for a in make_inputs(STRAIGHT_THROUGH_CASE)])


class GradientToTheCodebook(Function):
    """A wrong estimator: the upstream gradient goes to z_q (the codebook) instead of z_e."""

    def forward(self, z_e, z_q):
        return z_q.copy()

    def backward(self, gy):
        return None, gy


class GradientNowhere(Function):
    """The true derivative of the forward pass: nothing reaches the encoder."""

    def forward(self, z_e, z_q):
        return z_q.copy()

    def backward(self, gy):
        return None, None


class GradientDoubled(Function):
    """Both routes at once: the encoder's gradient is right, but the codebook gets one too."""

    def forward(self, z_e, z_q):
        return z_q.copy()

    def backward(self, gy):
        return gy, gy


@pytest.mark.parametrize("wrong", [GradientToTheCodebook, GradientNowhere])
def test_the_catalogue_case_catches_a_planted_wrong_estimator(wrong, monkeypatch, xp):
    monkeypatch.setattr(ops.quantize, "StraightThrough", wrong)
    z_e = xp.asarray(make_inputs(STRAIGHT_THROUGH_CASE)[0])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(STRAIGHT_THROUGH_CASE.fn, [z_e])


def test_a_planted_estimator_that_also_feeds_the_codebook_is_caught(monkeypatch, xp):
    """The catalogue case detaches z_q, so it cannot see a gradient sent to z_q; this test can."""
    monkeypatch.setattr(ops.quantize, "StraightThrough", GradientDoubled)
    g_z_e, upstream, g_codebook = gradients_through_a_real_quantizer(xp)
    np.testing.assert_array_equal(g_z_e.numpy(), upstream)
    assert g_codebook is not None and g_codebook.numpy().any()


def test_straight_through_refuses_vectors_of_different_shapes(xp):
    with pytest.raises(ShapeError, match=r"z_e has shape \(4, 3\) but z_q has shape \(4, 2\)"):
        ops.straight_through(Tensor(both_signs(xp, (4, 3))), Tensor(both_signs(xp, (4, 2))))


# --- the nearest codebook vector ---------------------------------------------------------------

def nearest_by_loop(z, codebook):
    """For each row, the index of the closest codebook row, by trying each in turn."""
    chosen = []
    for row in z:
        distances = [float(((row - e) ** 2).sum()) for e in codebook]
        chosen.append(int(np.argmin(distances)))
    return np.array(chosen)


def test_nearest_code_matches_a_search_by_loop(xp):
    z, codebook = both_signs(xp, (30, 4), 1), both_signs(xp, (7, 4), 2)
    got = ops.nearest_code(Tensor(z), Tensor(codebook))
    assert got.dtype.kind == "i" and got.shape == (30,) and not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), nearest_by_loop(nanoae.backend.to_numpy(z),
                                                               nanoae.backend.to_numpy(codebook)))


def test_squared_distances_match_the_differences_squared(xp):
    z, codebook = both_signs(xp, (5, 3), 1), both_signs(xp, (4, 3), 2)
    expected = ((nanoae.backend.to_numpy(z)[:, None, :] - nanoae.backend.to_numpy(codebook)[None]) ** 2).sum(-1)
    np.testing.assert_allclose(nanoae.backend.to_numpy(ops.squared_distances(z, codebook)), expected, rtol=1e-12,
                               atol=1e-12)


def test_a_vector_equal_to_a_codebook_row_picks_that_row_and_ties_go_to_the_first(xp):
    codebook = xp.asarray([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    z = xp.asarray([[1.0, 0.0], [-1.0, 0.0], [0.1, 0.0], [0.5, 0.0]])
    np.testing.assert_array_equal(ops.nearest_code(z, codebook).numpy(), [1, 3, 0, 0])


def test_nearest_code_refuses_vectors_and_codebook_of_different_widths(xp):
    with pytest.raises(ShapeError, match=r"nearest_code: .*\(N, D\).*\(K, D\).*\(5, 3\) and \(4, 2\)"):
        ops.nearest_code(both_signs(xp, (5, 3)), both_signs(xp, (4, 2)))
