"""nanoae.analysis.anomaly: per-example scores and the one-class split, against independent references."""
import numpy as np
import pytest

import nanoae
from nanoae import backend
from nanoae.analysis.anomaly import negative_elbo, one_class_split, pca_reconstruction_error, reconstruction_error
from nanoae.analysis.metrics import roc_auc
from nanoae.models import Autoencoder, AutoencoderConfig, DenoisingAutoencoder, DenoisingConfig, VAE, VAEConfig


def device_of(xp):
    return "cpu" if xp is np else "gpu"


def images(n, d=12, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)       # pixels in [0, 1)


# --- one_class_split ---------------------------------------------------------------------------------

def test_one_class_split_keeps_normal_training_rows_and_labels_the_test_rows(xp):
    train_x, train_labels = xp.arange(12.0).reshape(6, 2), xp.asarray([0, 1, 2, 1, 0, 3])
    test_x, test_labels = xp.arange(10.0).reshape(5, 2), xp.asarray([3, 1, 0, 2, 1])
    split = one_class_split(train_x, train_labels, test_x, test_labels, normal=1)
    np.testing.assert_array_equal(backend.to_numpy(split.train_x), [[2, 3], [6, 7]])
    np.testing.assert_array_equal(backend.to_numpy(split.test_x), backend.to_numpy(test_x))
    np.testing.assert_array_equal(backend.to_numpy(split.test_is_anomaly), [1, 0, 1, 1, 0])


def test_one_class_split_accepts_several_normal_classes(xp):
    labels = xp.asarray([0, 1, 2, 3, 2])
    split = one_class_split(xp.zeros((5, 2)), labels, xp.zeros((5, 2)), labels, normal=(0, 2))
    assert len(split.train_x) == 3
    np.testing.assert_array_equal(backend.to_numpy(split.test_is_anomaly), [0, 1, 0, 1, 0])
    numpy_int = one_class_split(xp.zeros((5, 2)), labels, xp.zeros((5, 2)), labels, normal=np.int64(3))
    np.testing.assert_array_equal(backend.to_numpy(numpy_int.test_is_anomaly), [1, 1, 1, 0, 1])


def test_one_class_split_rejects_a_class_that_is_absent_or_everything(xp):
    labels = xp.asarray([0, 0, 1])
    with pytest.raises(ValueError, match="no training example has a normal label"):
        one_class_split(xp.zeros((3, 2)), labels, xp.zeros((3, 2)), labels, normal=5)
    with pytest.raises(ValueError, match="both normal"):
        one_class_split(xp.zeros((3, 2)), labels, xp.zeros((3, 2)), labels, normal=(0, 1))
    with pytest.raises(ValueError, match="train_x has 2 rows but train_labels has 3"):
        one_class_split(xp.zeros((2, 2)), labels, xp.zeros((3, 2)), labels, normal=0)


# --- reconstruction_error -----------------------------------------------------------------------------

@pytest.mark.parametrize("model", [Autoencoder(AutoencoderConfig(input_dim=12, hidden=(7,), latent_dim=3)),
                                   DenoisingAutoencoder(DenoisingConfig(input_dim=12, hidden=(7,), latent_dim=3)),
                                   VAE(VAEConfig(input_dim=12, hidden=(7,), latent_dim=3))],
                         ids=["ae", "dae", "vae"])
def test_reconstruction_error_is_the_squared_error_summed_over_pixels_per_row(xp, model):
    x = images(10)
    model.to(device_of(xp))
    with nanoae.no_grad():
        x_hat = backend.to_numpy(model.reconstruct(nanoae.Tensor(xp.asarray(x))).data).astype(np.float64)
    expected = ((x - x_hat) ** 2).sum(axis=1)                                  # (N,)
    for batch_size in (3, 1000):                                               # batches must not change it
        got = reconstruction_error(model, xp.asarray(x), batch_size=batch_size)
        assert backend.get_array_module(got) is xp and got.shape == (10,)
        np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-5)


def test_reconstruction_error_returns_numpy_for_numpy_input_from_any_model_device(xp):
    model = Autoencoder(AutoencoderConfig(input_dim=12, hidden=(5,), latent_dim=2)).to(device_of(xp))
    assert isinstance(reconstruction_error(model, images(4)), np.ndarray)


def test_reconstruction_error_rejects_a_single_image_given_as_a_vector():
    model = Autoencoder(AutoencoderConfig(input_dim=12, hidden=(5,), latent_dim=2))
    with pytest.raises(ValueError, match=r"rows \(N, D\), got \(12,\)"):
        reconstruction_error(model, images(1)[0])


def test_the_dae_is_scored_without_corruption():
    model = DenoisingAutoencoder(DenoisingConfig(input_dim=12, hidden=(5,), latent_dim=2, noise_level=0.5))
    x = images(6)
    np.testing.assert_array_equal(reconstruction_error(model, x), reconstruction_error(model, x))


# --- negative_elbo --------------------------------------------------------------------------------------

def test_negative_elbo_of_each_row_is_the_vae_loss_of_that_row_alone(xp):
    """One sample of z: row i's score equals vae.loss(x[i:i+1], eps[i:i+1]), the model's own -ELBO."""
    vae = VAE(VAEConfig(input_dim=12, hidden=(7,), latent_dim=3)).to(device_of(xp))
    x = images(5)
    scores = backend.to_numpy(negative_elbo(vae, xp.asarray(x), samples=1, seed=4))
    eps = np.random.default_rng(4).standard_normal((5, 3)).astype(np.float32)  # the draws negative_elbo makes
    with nanoae.no_grad():
        for i in range(5):
            total, _ = vae.loss(nanoae.Tensor(xp.asarray(x[i:i + 1])), eps=nanoae.Tensor(xp.asarray(eps[i:i + 1])))
            assert scores[i] == pytest.approx(float(total.item()), rel=1e-5)


def test_negative_elbo_averages_the_reconstruction_over_samples_and_adds_the_exact_kl():
    vae = VAE(VAEConfig(input_dim=12, hidden=(7,), latent_dim=3))
    x = images(4)
    rng = np.random.default_rng(9)
    draws = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3)]  # in the order negative_elbo draws
    with nanoae.no_grad():
        recon = [[float(vae.loss(nanoae.Tensor(x[i:i + 1]), eps=nanoae.Tensor(eps[i:i + 1]))[1]["recon"].item())
                  for i in range(4)] for eps in draws]                         # (S, N)
        mu, log_var = (t.numpy().astype(np.float64) for t in vae.encode(nanoae.Tensor(x)))
    kl = (0.5 * (mu ** 2 + np.exp(log_var) - 1 - log_var)).sum(axis=1)       # (N,), closed form
    np.testing.assert_allclose(negative_elbo(vae, x, samples=3, seed=9), np.mean(recon, axis=0) + kl, rtol=1e-5)
    assert (negative_elbo(vae, x, samples=1, seed=0) != negative_elbo(vae, x, samples=1, seed=1)).any()
    with pytest.raises(ValueError, match="samples must be at least 1"):
        negative_elbo(vae, x, samples=0)


# --- pca_reconstruction_error and the AUC of a score ------------------------------------------------------

def test_pca_reconstruction_error_is_the_squared_distance_to_the_principal_subspace():
    rng = np.random.default_rng(1)
    train = rng.standard_normal((200, 2)) @ rng.standard_normal((2, 6)) * 3 + rng.standard_normal((200, 6)) * 0.1
    test = rng.standard_normal((7, 6))
    mean = train.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(train, rowvar=False))                   # ascending eigenvalues
    top = vectors[:, -2:]                                                      # (6, 2): the two largest
    residual = (test - mean) - (test - mean) @ top @ top.T
    np.testing.assert_allclose(pca_reconstruction_error(train, test, 2), (residual ** 2).sum(axis=1), rtol=1e-10)


def test_points_off_the_normal_subspace_get_larger_scores_and_an_auc_of_1():
    rng = np.random.default_rng(2)
    basis = rng.standard_normal((2, 8))
    normal_train = rng.standard_normal((100, 2)) @ basis
    normal_test = rng.standard_normal((20, 2)) @ basis
    anomalies = normal_test[:10] + rng.standard_normal((10, 8))               # pushed off the plane
    scores = pca_reconstruction_error(normal_train, np.concatenate([normal_test, anomalies]), 2)
    labels = np.array([0] * 20 + [1] * 10)
    assert roc_auc(scores, labels) == 1.0
