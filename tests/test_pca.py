"""nanoae.analysis.pca.PCA against independent facts: the eigenvectors of the covariance
matrix, Eckart–Young (no rank-k projection does better), and exact recovery of
data that lies in a k-dimensional affine subspace."""
import numpy as np
import pytest

from nanoae.analysis.pca import PCA


def correlated_data(rng, n=200, d=6):
    scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.1])[:d]
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (rng.standard_normal((n, d)) * scales) @ rotation.T + rng.standard_normal(d)


def test_components_are_the_top_eigenvectors_of_the_covariance(xp):
    x = correlated_data(np.random.default_rng(0))
    pca = PCA(3).fit(xp.asarray(x))
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(x, rowvar=False))
    top = eigenvectors[:, ::-1][:, :3]                           # largest first
    cosines = np.abs(np.sum(top * xp.asnumpy(pca.components).T if xp.__name__ == "cupy"
                            else top * pca.components.T, axis=0))
    np.testing.assert_allclose(cosines, 1, atol=1e-10)           # same directions up to sign
    variance = pca.explained_variance if xp.__name__ == "numpy" else xp.asnumpy(pca.explained_variance)
    np.testing.assert_allclose(variance, eigenvalues[::-1][:3], rtol=1e-10)


def test_data_in_a_k_dimensional_affine_subspace_is_reconstructed_exactly():
    rng = np.random.default_rng(1)
    basis = rng.standard_normal((2, 7))
    x = rng.standard_normal((50, 2)) @ basis + rng.standard_normal(7)
    pca = PCA(2).fit(x)
    np.testing.assert_allclose(pca.reconstruct(x), x, atol=1e-10)
    assert pca.transform(x).shape == (50, 2)
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(2), atol=1e-12)


def test_reconstruction_error_is_the_summed_squared_error_and_beats_a_random_subspace():
    rng = np.random.default_rng(2)
    x = correlated_data(rng)
    pca = PCA(2).fit(x)
    error = pca.reconstruction_error(x)
    np.testing.assert_allclose(error, ((x - pca.reconstruct(x)) ** 2).sum(axis=1), rtol=1e-12)
    q, _ = np.linalg.qr(rng.standard_normal((6, 2)))            # any other 2-D subspace through the mean
    centred = x - x.mean(axis=0)
    other = ((centred - centred @ q @ q.T) ** 2).sum()
    assert error.sum() < other


@pytest.mark.parametrize("call, words", [
    (lambda: PCA(0), "positive integer"),
    (lambda: PCA(5).fit(np.zeros((3, 4))), "n_components=5"),
    (lambda: PCA(2).fit(np.zeros(4)), r"rows \(N, D\)"),
    (lambda: PCA(2).transform(np.zeros((3, 4))), "call fit first"),
    (lambda: PCA(2).fit(np.random.default_rng(0).random((9, 4))).transform(np.zeros((3, 5))), "5 features"),
    (lambda: PCA(2).fit(np.random.default_rng(0).random((9, 4))).inverse_transform(np.zeros((3, 3))), r"\(N, 2\)"),
])
def test_bad_input_raises_naming_the_problem(call, words):
    with pytest.raises((ValueError, RuntimeError), match=words):
        call()
