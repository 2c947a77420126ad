"""Reference solutions to the exercises of chapter 02 (autoencoders and PCA): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/02-autoencoders-and-pca.ipynb``; ``nanoae.exercises.ch02_pca``
grades it.
"""
import numpy as np


def pca_reconstruct(x, k):
    """x (N, D) -> its reconstruction (N, D) from the top k principal components."""
    mean = x.mean(axis=0)                                  # (D,)
    centred = x - mean                                     # (N, D), a new array: x is left as it is
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    v = vt[:k].T                                           # (D, k) the top k principal directions
    z = centred @ v                                        # (N, k) the codes
    return z @ v.T + mean


def principal_angles(a, b):
    """The principal angles (radians, smallest first) between the column spaces of a (D, k) and b (D, k)."""
    q_a, _ = np.linalg.qr(a)                               # orthonormal bases of the two spaces
    q_b, _ = np.linalg.qr(b)
    cosines = np.linalg.svd(q_a.T @ q_b, compute_uv=False)  # largest first
    return np.arccos(np.clip(cosines, -1.0, 1.0))          # rounding can push a cosine past 1


def linear_ae_gradients(x, w_enc, w_dec):
    """dL/dW_enc (k, D) and dL/dW_dec (D, k) for L = 1/B sum_b ||x_b W_enc^T W_dec^T - x_b||^2."""
    batch = len(x)
    z = x @ w_enc.T                                        # (B, k)
    residual = z @ w_dec.T - x                             # (B, D)  x_hat - x
    grad_x_hat = 2 * residual / batch                      # dL/dx_hat
    grad_w_dec = grad_x_hat.T @ z                          # (D, k)
    grad_z = grad_x_hat @ w_dec                            # (B, k)
    grad_w_enc = grad_z.T @ x                              # (k, D)
    return grad_w_enc, grad_w_dec
