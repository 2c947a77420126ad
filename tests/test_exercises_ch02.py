"""The chapter 02 graders (nanoae/exercises/ch02_pca.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np
import pytest

import nanoae
from nanoae.analysis.pca import PCA
from nanoae.exercises import ch02_pca as graders
from grading_asserts import assert_fails_naming


def top_directions(x, k):
    """(D, k): the top k right singular vectors of x (as given: centred or not)."""
    return np.linalg.svd(x, full_matrices=False)[2][:k].T


def orthonormal_angles(a, b):
    cosines = np.linalg.svd(np.linalg.qr(a)[0].T @ np.linalg.qr(b)[0], compute_uv=False)
    return np.arccos(np.clip(cosines, -1, 1))


def hand_gradients(x, w_enc, w_dec):
    z = x @ w_enc.T
    grad_x_hat = 2 * (z @ w_dec.T - x) / len(x)
    return (grad_x_hat @ w_dec).T @ x, grad_x_hat.T @ z


# --- pca_reconstruct -----------------------------------------------------------------

def test_pca_grader_passes_an_eigendecomposition_of_the_covariance_too():
    def by_eigh(x, k):
        mean = x.mean(axis=0)
        _, vectors = np.linalg.eigh(np.cov(x, rowvar=False))
        v = vectors[:, ::-1][:, :k]
        return (x - mean) @ v @ v.T + mean
    assert graders.grade_pca_reconstruct(by_eigh).passed


def test_pca_grader_fails_data_that_were_not_centred():
    def not_centred(x, k):
        v = top_directions(x, k)
        return x @ v @ v.T
    assert_fails_naming(graders.grade_pca_reconstruct(not_centred), "not centred", "relative error")


def test_pca_grader_fails_a_reconstruction_without_the_mean_added_back():
    def no_mean(x, k):
        centred = x - x.mean(axis=0)
        v = top_directions(centred, k)
        return centred @ v @ v.T
    assert_fails_naming(graders.grade_pca_reconstruct(no_mean), "add the mean back")


def test_pca_grader_fails_the_directions_of_smallest_variance():
    def smallest(x, k):
        centred = x - x.mean(axis=0)
        v = np.linalg.svd(centred, full_matrices=False)[2][-k:].T
        return centred @ v @ v.T + x.mean(axis=0)
    assert_fails_naming(graders.grade_pca_reconstruct(smallest), "SMALLEST variance")


def test_pca_grader_fails_one_direction_too_many():
    def one_more(x, k):
        centred = x - x.mean(axis=0)
        v = top_directions(centred, k + 1)
        return centred @ v @ v.T + x.mean(axis=0)
    assert_fails_naming(graders.grade_pca_reconstruct(one_more), "k + 1 directions")


def test_pca_grader_fails_the_rows_of_vt_taken_as_columns():
    def wrong_axis(x, k):
        mean = x.mean(axis=0)
        vt = np.linalg.svd(x - mean, full_matrices=False)[2]
        v = vt[:, :k]                                     # columns of V^T, not rows
        return (x - mean) @ v @ v.T + mean
    assert_fails_naming(graders.grade_pca_reconstruct(wrong_axis), "x_hat for k=", "relative error")


def test_pca_grader_fails_a_function_that_centres_its_input_in_place():
    def in_place(x, k):
        mean = x.mean(axis=0)
        x -= mean
        v = top_directions(x, k)
        return x @ v @ v.T + mean
    assert_fails_naming(graders.grade_pca_reconstruct(in_place), "in place")


# --- principal_angles ----------------------------------------------------------------

def test_angles_grader_passes_scipy_style_angles_from_the_sines():
    def from_sines(a, b):            # another correct method: the sines of the angles
        qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
        sines = np.linalg.svd(qb - qa @ (qa.T @ qb), compute_uv=False)[::-1]
        cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
        return np.where(cosines > np.sqrt(0.5), np.arcsin(np.clip(sines, 0, 1)), np.arccos(np.clip(cosines, 0, 1)))
    assert graders.grade_principal_angles(from_sines).passed


def test_angles_grader_fails_angles_in_degrees():
    def degrees(a, b):
        return np.degrees(orthonormal_angles(a, b))
    assert_fails_naming(graders.grade_principal_angles(degrees), "in degrees")


def test_angles_grader_fails_angles_without_orthonormal_bases():
    def no_qr(a, b):
        return np.arccos(np.clip(np.linalg.svd(a.T @ b, compute_uv=False), -1, 1))
    assert_fails_naming(graders.grade_principal_angles(no_qr), "orthonormalize", "QR")


def test_angles_grader_fails_the_cosines_returned_as_angles():
    def cosines(a, b):
        return np.linalg.svd(np.linalg.qr(a)[0].T @ np.linalg.qr(b)[0], compute_uv=False)
    assert_fails_naming(graders.grade_principal_angles(cosines), "cosines")


def test_angles_grader_fails_angles_largest_first():
    def largest_first(a, b):
        return orthonormal_angles(a, b)[::-1]
    assert_fails_naming(graders.grade_principal_angles(largest_first), "smallest first")


def test_angles_grader_fails_normalized_but_not_orthogonal_columns():
    def normalized_only(a, b):
        a, b = a / np.linalg.norm(a, axis=0), b / np.linalg.norm(b, axis=0)
        return np.arccos(np.clip(np.linalg.svd(a.T @ b, compute_uv=False), -1, 1))
    assert_fails_naming(graders.grade_principal_angles(normalized_only), "angles in radians", "relative error")


# --- linear_ae_gradients -------------------------------------------------------------

def test_gradient_grader_fails_a_missing_factor_two():
    def no_two(x, w_enc, w_dec):
        g_enc, g_dec = hand_gradients(x, w_enc, w_dec)
        return g_enc / 2, g_dec / 2
    assert_fails_naming(graders.grade_linear_ae_gradients(no_two), "factor 2 is missing", "grad_w_dec")


def test_gradient_grader_fails_a_flipped_residual():
    def flipped(x, w_enc, w_dec):
        g_enc, g_dec = hand_gradients(x, w_enc, w_dec)
        return -g_enc, -g_dec
    assert_fails_naming(graders.grade_linear_ae_gradients(flipped), "sign is flipped")


def test_gradient_grader_fails_a_sum_over_the_batch():
    def summed(x, w_enc, w_dec):
        g_enc, g_dec = hand_gradients(x, w_enc, w_dec)
        return g_enc * len(x), g_dec * len(x)
    assert_fails_naming(graders.grade_linear_ae_gradients(summed), "divide by B")


def test_gradient_grader_fails_an_encoder_gradient_that_skips_the_decoder():
    def skips_decoder(x, w_enc, w_dec):
        g_enc, g_dec = hand_gradients(x, w_enc, w_dec)
        z = x @ w_enc.T
        residual = 2 * (z @ w_dec.T - x) / len(x)
        return (residual[:, :w_enc.shape[0]]).T @ x, g_dec   # forgot to multiply by W_dec
    assert_fails_naming(graders.grade_linear_ae_gradients(skips_decoder), "grad_w_enc", "relative error")


def test_gradient_grader_fails_transposed_gradients():
    def transposed(x, w_enc, w_dec):
        g_enc, g_dec = hand_gradients(x, w_enc, w_dec)
        return g_enc, g_dec.T
    assert_fails_naming(graders.grade_linear_ae_gradients(transposed), "transposed")


def test_gradient_grader_fails_a_single_array_instead_of_a_pair():
    def one(x, w_enc, w_dec):
        return hand_gradients(x, w_enc, w_dec)[0]
    assert_fails_naming(graders.grade_linear_ae_gradients(one), "pair")


# --- the library does not do the exercise --------------------------------------------------------

def test_pca_grader_fails_the_library_pca():
    assert_fails_naming(graders.grade_pca_reconstruct(lambda x, k: PCA(k).fit(x).reconstruct(x)),
                        "calls nanoae.analysis.pca.PCA.fit")


def test_angles_grader_fails_scipy_subspace_angles():
    linalg = pytest.importorskip("scipy.linalg", reason="SciPy is not installed: nothing to rule out")
    assert_fails_naming(graders.grade_principal_angles(lambda a, b: linalg.subspace_angles(a, b)[::-1]),
                        "calls scipy.linalg._decomp_svd.subspace_angles")


def test_angles_grader_passes_an_answer_that_uses_other_scipy_functions():
    linalg = pytest.importorskip("scipy.linalg", reason="SciPy is not installed")   # they share one wrapper

    def with_scipy(a, b):
        cosines = linalg.svd(linalg.qr(a, mode="economic")[0].T @ linalg.qr(b, mode="economic")[0],
                             compute_uv=False)
        return np.arccos(np.clip(cosines, -1, 1))
    assert graders.grade_principal_angles(with_scipy).passed


def test_gradient_grader_fails_gradients_taken_by_autograd():
    def by_autograd(x, w_enc, w_dec):
        enc, dec = nanoae.Tensor(w_enc, requires_grad=True), nanoae.Tensor(w_dec, requires_grad=True)
        x = nanoae.Tensor(x)
        (((x @ enc.T @ dec.T - x) ** 2).sum() / len(x)).backward()
        return enc.grad.numpy(), dec.grad.numpy()
    assert_fails_naming(graders.grade_linear_ae_gradients(by_autograd), "calls nanoae.autograd.Tensor.backward")
