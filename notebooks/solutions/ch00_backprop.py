"""Reference solutions to the chapter 00 exercises (backpropagation by hand): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/00-backprop-by-hand.ipynb``; ``nanoae.exercises.ch00_backprop`` grades them.
Everything is plain NumPy: a layer is a = x W^T + b with W of shape (K, D), h = sigmoid(a).
"""
import numpy as np


def sigmoid_backward(h, grad_h):
    """dL/da = dL/dh * h (1 - h), elementwise: the sigmoid's slope written with its output h."""
    return grad_h * h * (1 - h)


def bce_logits_grad(a2, x):
    """dL/da2 = (sigmoid(a2) - x) / B for L = 1/B sum_b sum_i BCE(sigmoid(a2_bi), x_bi)."""
    x_hat = 1 / (1 + np.exp(-a2))                                     # (B, D)
    return (x_hat - x) / len(a2)


def linear_backward(x, W, grad_a):
    """The three gradients of a = x W^T + b, given grad_a = dL/da (B, K).

    grad_x = grad_a W (B, D); grad_W = grad_a^T x (K, D), the batch's outer products summed;
    grad_b = grad_a summed over the batch (K,).
    """
    grad_x = grad_a @ W                                               # (B, K) @ (K, D) -> (B, D)
    grad_W = grad_a.T @ x                                             # (K, B) @ (B, D) -> (K, D)
    grad_b = grad_a.sum(axis=0)                                       # (K,)
    return grad_x, grad_W, grad_b
