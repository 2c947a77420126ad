"""Anomaly scores: one number per example, larger meaning "less like the training data".

An autoencoder trained only on normal examples learns to rebuild *them*.
Shown something of another kind, it rebuilds it poorly, so the reconstruction
error is an anomaly score (Japkowicz et al. 1995; Sakurada & Yairi 2014):

    score(x) = ||x - x_hat||^2 = sum_i (x_i - x_hat_i)^2          (summed over the D pixels)

A VAE gives a score with a meaning of its own: the negative ELBO, an upper
bound on -log p(x) in nats, so a large score says the model finds x unlikely:

    score(x) = E_q(z|x)[ -log p(x | z) ] + KL( q(z | x) || N(0, I) )

estimated with ``samples`` draws of z per example. PCA's score is the squared
distance to the principal subspace of the normal training images
(:func:`pca_reconstruction_error`).

:func:`one_class_split` builds the usual benchmark: train on the images of the
"normal" classes only, test on every test image with labels 0 (normal) and
1 (anomaly); :func:`nanoae.analysis.metrics.roc_auc` then says how well a score ranks
the anomalies above the normal images.

Every function takes arrays of any device and returns the scores as an array
of the same module as ``x`` (NumPy in, NumPy out).
"""
import numbers
from collections import namedtuple

from nanoae import backend, functional as F
from nanoae.analysis.pca import PCA
from nanoae.models.vae import VAE
from nanoae.autograd import Tensor, no_grad

OneClassSplit = namedtuple("OneClassSplit", ["train_x", "test_x", "test_is_anomaly"])
OneClassSplit.__doc__ = """Training images of the normal classes; all test images and their labels 0/1 (1: anomaly)."""


def one_class_split(train_x, train_labels, test_x, test_labels, normal):
    """The one-class setting: returns ``OneClassSplit(train_x, test_x, test_is_anomaly)``.

    ``normal`` is a class label or a sequence of them. ``train_x`` keeps only
    the training rows of those classes; ``test_x`` is every test row, and
    ``test_is_anomaly`` (N_test,) is 1 where the test label is not normal,
    0 where it is (int64, on the device of ``test_labels``).
    """
    normal = [int(normal)] if isinstance(normal, numbers.Integral) else [int(c) for c in normal]
    if not normal:
        raise ValueError("one_class_split: give at least one normal class")
    for name, x, labels in (("train", train_x, train_labels), ("test", test_x, test_labels)):
        if len(x) != len(labels):
            raise ValueError(f"one_class_split: {name}_x has {len(x)} rows but {name}_labels has {len(labels)}")
    train_normal = _is_normal(train_labels, normal)                 # (N_train,) bools
    test_normal = _is_normal(test_labels, normal)                   # (N_test,) bools
    if not bool(train_normal.any()):
        raise ValueError(f"one_class_split: no training example has a normal label {normal}")
    if bool(test_normal.all()) or not bool(test_normal.any()):
        raise ValueError(f"one_class_split: the test set needs both normal ({normal}) and other labels")
    return OneClassSplit(train_x[train_normal], test_x, (~test_normal).astype("int64"))


def _is_normal(labels, normal):
    xp = backend.get_array_module(labels)
    return xp.isin(labels, xp.asarray(normal))


def _batches(model, x, batch_size):
    """Yield the rows of x in batches, as Tensors on the model's device."""
    if not backend.is_array(x) or x.ndim != 2:
        raise ValueError(f"anomaly scores: x must be an array of rows (N, D), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    for start in range(0, len(x), batch_size):
        yield Tensor(backend.to_device(x[start:start + batch_size], model.device))


def _collect(x, parts):
    """Concatenate per-batch device arrays and bring them to the module of x."""
    xp = backend.get_array_module(parts[0])
    return backend.to_device(xp.concatenate(parts), backend.device_of(x))


def reconstruction_error(model, x, batch_size=1000):
    """||x - model.reconstruct(x)||^2 per row, shape (N,): squared error summed over the pixels.

    Works for any model with ``reconstruct`` (the VAE reconstructs from the
    mean code mu). The model is put in evaluation mode.
    """
    model.eval()
    parts = []
    with no_grad():
        for batch in _batches(model, x, batch_size):
            diff = batch - model.reconstruct(batch)              # (B, D)
            parts.append((diff * diff).sum(axis=1).data)         # (B,)
    return _collect(x, parts)


def negative_elbo(vae, x, samples=10, seed=0, batch_size=1000):
    """A VAE's negative ELBO per row, shape (N,), in nats.

        -ELBO(x) = 1/S sum_s sum_i BCE(x_hat_i(z_s), x_i) + sum_j KL_j,   z_s ~ q(z | x)

    The reconstruction term is averaged over ``samples`` = S draws of z (from a
    generator seeded by ``seed``, so the scores are reproducible); the KL is
    exact. Unlike ``vae.loss``, nothing is averaged over the batch.
    """
    if samples < 1:
        raise ValueError(f"negative_elbo: samples must be at least 1, got {samples!r}")
    vae.eval()
    rng = backend.new_generator(seed)
    parts = []
    with no_grad():
        for batch in _batches(vae, x, batch_size):
            mu, log_var = vae.encode(batch)                                           # (B, J) each
            kl = F.gaussian_kl(mu, log_var, reduction="none").sum(axis=1)             # (B,)
            recon = 0
            for _ in range(samples):
                eps = Tensor(backend.to_device(rng.standard_normal(mu.shape).astype(mu.dtype),
                                               backend.device_of(mu.data)))
                logits = vae.decode_logits(F.reparameterize(mu, log_var, eps))      # (B, D)
                recon = recon + F.binary_cross_entropy_with_logits(logits, batch, reduction="none").sum(axis=1)
            parts.append((recon / samples + kl).data)                                  # (B,)
    return _collect(x, parts)


def pca_reconstruction_error(train_x, x, n_components):
    """PCA's score: fit a k-component PCA to ``train_x`` (the normal images), then return the
    squared distance of each row of ``x`` to that principal subspace, shape (N,)."""
    return PCA(n_components).fit(train_x).reconstruction_error(x)


def model_score(model, x):
    """The score that suits ``model``, as ``(name, scores)`` with scores (N,): a VAE's negative
    ELBO (it has a likelihood to score with), any other model's reconstruction error."""
    if isinstance(model, VAE):
        return "-ELBO", negative_elbo(model, x)
    return "reconstruction error", reconstruction_error(model, x)
