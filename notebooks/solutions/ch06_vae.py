"""Reference solutions to the chapter 06 exercises (the variational autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/06-variational-autoencoder.ipynb``; ``nanoae.exercises.ch06_vae``
grades them. ``mu`` and ``log_var`` are (B, J); ``log_var`` is the log of the
variance, so the standard deviation is exp(log_var / 2).
"""
import numpy as np


def gaussian_kl(mu, log_var):
    """KL( N(mu, exp(log_var)) || N(0, I) ) for Tensors (B, J): summed over j, averaged over b; a scalar Tensor."""
    per_dim = 0.5 * (mu * mu + log_var.exp() - 1 - log_var)              # (B, J)
    return per_dim.sum() / len(mu)


def reparameterize(mu, log_var, eps):
    """z = mu + exp(log_var / 2) * eps for Tensors (B, J): a sample of N(mu, exp(log_var))."""
    std = (0.5 * log_var).exp()                                          # (B, J)
    return mu + std * eps


def gaussian_kl_grad(mu, log_var):
    """(dKL/dmu, dKL/dlog_var) of the batch-averaged KL above, for NumPy arrays (B, J): each (B, J)."""
    batch = len(mu)
    return mu / batch, (np.exp(log_var) - 1) / (2 * batch)
