"""Reference solutions to the chapter 05 exercises (the contractive autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/05-contractive-autoencoder.ipynb``; ``nanoae.exercises.ch05_contractive``
grades them. The encoder is h = sigmoid(W x + b), W of shape (K, D).
"""
import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def sigmoid_jacobian(x, W, b):
    """J = dh/dx at one input x (D,): J_ji = h_j (1 - h_j) W_ji, shape (K, D)."""
    h = sigmoid(W @ x + b)                                            # (K,)
    return (h * (1 - h))[:, None] * W                                 # diag(h (1 - h)) W


def contractive_penalty(x, W, b):
    """1/B sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2 for Tensors x (B, D), W (K, D), b (K,): a scalar Tensor."""
    h = (x @ W.T + b).sigmoid()                                       # (B, K)
    slope = h * (1 - h)                                               # (B, K)
    row_norms = (W * W).sum(axis=1)                                   # (K,)
    return (slope * slope * row_norms).sum() / len(x)


def contractive_penalty_grad_W(x, W, b):
    """dP/dW for arrays x (B, D), W (K, D), b (K,), shape (K, D).

    P = 1/B sum_b sum_j s_bj^2 r_j with s = h (1 - h) and r_j = sum_i W_ji^2. W appears twice:
    through s (ds/da = s (1 - 2h), da_bj/dW_ji = x_bi) and through r (dr_j/dW_ji = 2 W_ji).
    """
    h = sigmoid(x @ W.T + b)                                          # (B, K)
    s = h * (1 - h)                                                   # (B, K)
    r = (W * W).sum(axis=1)                                           # (K,)
    through_h = (2 * s * s * (1 - 2 * h) * r).T @ x                   # (K, D)
    through_r = 2 * (s * s).sum(axis=0)[:, None] * W                  # (K, D)
    return (through_h + through_r) / len(x)
