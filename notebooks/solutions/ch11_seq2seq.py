"""Reference solutions to the chapter 11 exercises (the sequence-to-sequence autoencoder): the instructors' answers.

Each function has the name and the signature of the exercise cell in
``notebooks/11-sequence-autoencoder.ipynb``; ``nanoae.exercises.ch11_seq2seq``
grades them. A batch holds N sequences padded to T steps; ``lengths`` (N,)
gives the number of real steps of each.
"""
import numpy as np

from nanoae import Tensor


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_cell_forward(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step in NumPy: x (N, D), h (N, H), weight_ih (3H, D), weight_hh (3H, H), biases (3H,) -> h' (N, H)."""
    x_r, x_z, x_n = np.split(x @ weight_ih.T + bias_ih, 3, axis=1)    # (N, H) each, gates in the order r, z, n
    h_r, h_z, h_n = np.split(h @ weight_hh.T + bias_hh, 3, axis=1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)                                        # r multiplies W_hn h + b_hn
    return (1 - z) * n + z * h


def masked_sequence_loss(x_hat, x, lengths):
    """Squared error summed over the real steps and the features, averaged over the N sequences.

    x_hat, x: Tensors (N, T, D); lengths: NumPy ints (N,). Returns a scalar Tensor.
    """
    steps = x.shape[1]
    real = np.arange(steps)[None, :] < lengths[:, None]               # (N, T), True at t < lengths[n]
    per_step = ((x_hat - x) ** 2).sum(axis=2)                         # (N, T)
    return (per_step * Tensor(real.astype(per_step.dtype))).sum() / len(lengths)


def last_valid_state(outputs, lengths):
    """outputs[n, lengths[n] - 1] for every n: outputs Tensor (N, T, H), lengths NumPy ints (N,) -> Tensor (N, H)."""
    return outputs[np.arange(len(lengths)), lengths - 1]
