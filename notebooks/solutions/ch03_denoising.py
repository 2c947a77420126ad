"""Reference solutions to the exercises of chapter 03 (the denoising autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/03-denoising-autoencoder.ipynb``; ``nanoae.exercises.ch03_denoising``
grades it.
"""
import numpy as np


def masking_noise(x, p, rng):
    """x (N, D) -> a copy in which each entry is set to 0 with probability p (drawn from rng)."""
    keep = rng.random(x.shape) >= p                        # (N, D), True with probability 1 - p
    return (x * keep).astype(x.dtype)


def salt_and_pepper_noise(x, p, rng):
    """x (N, D) -> a copy in which each entry, with probability p, becomes 0 or 1 (equally likely)."""
    hit = rng.random(x.shape) < p                          # which entries are corrupted
    salt = rng.random(x.shape) < 0.5                       # 1 (salt) or 0 (pepper) for each
    return np.where(hit, salt, x).astype(x.dtype)


def denoising_loss(model, x, corrupt):
    """Squared error of the reconstruction of corrupt(x) against the CLEAN x: summed over pixels,
    averaged over the batch. x: Tensor (B, D); returns a scalar Tensor."""
    x_tilde = corrupt(x)                                   # (B, D), outside the graph
    x_hat = model.decode(model.encode(x_tilde))            # (B, D)
    return ((x_hat - x) ** 2).sum() / len(x)
