"""Reference solutions to the chapter 04 exercises (the sparse autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/04-sparse-autoencoder.ipynb``; ``nanoae.exercises.ch04_sparse``
grades them.
"""
import numpy as np


def sparsity_kl(h, rho):
    """sum_j KL(rho || rho_hat_j) with rho_hat_j = mean_b h_bj, for codes h (B, K): a scalar Tensor."""
    rho_hat = h.mean(axis=0)                                          # (K,)
    kl = rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()
    return kl.sum()


def sparsity_grad_preactivation(a, rho):
    """dP/da_bj = 1/B * dKL/drho_hat_j * h_bj (1 - h_bj) for h = sigmoid(a), a of shape (B, K)."""
    h = 1 / (1 + np.exp(-a))                                          # (B, K)
    rho_hat = h.mean(axis=0)                                          # (K,)
    dkl_drho_hat = -rho / rho_hat + (1 - rho) / (1 - rho_hat)         # (K,)
    return dkl_drho_hat / len(a) * h * (1 - h)                        # (B, K)
