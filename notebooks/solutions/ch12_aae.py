"""Reference solutions to the chapter 12 exercises (the adversarial autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/12-adversarial-autoencoder.ipynb``; ``nanoae.exercises.ch12_aae``
grades them. A logit d > 0 means "drawn from the prior"; the binary
cross-entropy of a logit d is softplus(-d) = -log sigmoid(d) against label 1
and softplus(d) = -log(1 - sigmoid(d)) against label 0.
"""
import numpy as np

from nanoae import functional as F


def discriminator_loss(d_real, d_fake):
    """mean softplus(-d_real) + mean softplus(d_fake) for Tensors (B1,) and (B2,); a scalar Tensor."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def generator_loss(d_fake):
    """The non-saturating loss mean softplus(-d_fake) = mean -log sigmoid(d_fake), a scalar Tensor."""
    return F.softplus(-d_fake).mean()


def sample_mixture_prior(n, k, radius, std, rng):
    """n draws from k Gaussians N(mean_j, std^2 I) with means radius (cos 2 pi j / k, sin 2 pi j / k).

    Returns (z, component): z (n, 2) float64, component (n,) ints in 0 ... k - 1.
    """
    component = rng.integers(0, k, size=n)                          # (n,), each Gaussian with probability 1/k
    angle = 2 * np.pi * component / k                               # (n,)
    means = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)   # (n, 2)
    return means + std * rng.standard_normal((n, 2)), component
