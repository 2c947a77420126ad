"""The values the chapter 11 graders compare against, from the formulas (instructors' side).

Each public function takes a case number, builds the grader's own inputs for
it, and returns {"expected": the right answer, "mistake/<name>": the answer of
that common mistake}; ``python tests/exercise_values/write.py ch11_seq2seq``
stores them in nanoae/exercises/values/ch11_seq2seq.npz.

The GRU is PyTorch's (``nanoae.nn.GRUCell``):

    r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

with weight_ih = [W_ir; W_iz; W_in] (3H, D), weight_hh = [W_hr; W_hz; W_hn] (3H, H).
"""
import numpy as np

from nanoae.exercises import ch11_seq2seq as graders


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh, order=(0, 1, 2), keep_old="z", reset="pytorch", candidate="tanh"):
    """One GRU step, gate by gate from slices of the weights, with switches that make the usual mistakes."""
    hidden = h.shape[1]
    gate = [slice(k * hidden, (k + 1) * hidden) for k in order]           # rows of r, z, n in the stacks
    r = _sigmoid(x @ w_ih[gate[0]].T + b_ih[gate[0]] + h @ w_hh[gate[0]].T + b_hh[gate[0]])
    z = _sigmoid(x @ w_ih[gate[1]].T + b_ih[gate[1]] + h @ w_hh[gate[1]].T + b_hh[gate[1]])
    x_n = x @ w_ih[gate[2]].T + b_ih[gate[2]]
    if reset == "pytorch":
        pre_n = x_n + r * (h @ w_hh[gate[2]].T + b_hh[gate[2]])
    elif reset == "before_matmul":
        pre_n = x_n + (r * h) @ w_hh[gate[2]].T + b_hh[gate[2]]
    elif reset == "no_bias":
        pre_n = x_n + r * (h @ w_hh[gate[2]].T) + b_hh[gate[2]]
    else:
        pre_n = x_n + h @ w_hh[gate[2]].T + b_hh[gate[2]]
    n = np.tanh(pre_n) if candidate == "tanh" else _sigmoid(pre_n)
    return (1 - z) * n + z * h if keep_old == "z" else z * n + (1 - z) * h


def gru_cell_forward(case):
    inputs = graders.gru_inputs(case)
    return {
        "expected": _gru_step(*inputs),
        "mistake/keep_swapped": _gru_step(*inputs, keep_old="1-z"),
        "mistake/r_z_swapped": _gru_step(*inputs, order=(1, 0, 2)),
        "mistake/gate_order": _gru_step(*inputs, order=(2, 1, 0)),
        "mistake/reset_before_matmul": _gru_step(*inputs, reset="before_matmul"),
        "mistake/reset_without_bias": _gru_step(*inputs, reset="no_bias"),
        "mistake/no_reset": _gru_step(*inputs, reset="none"),
        "mistake/sigmoid_candidate": _gru_step(*inputs, candidate="sigmoid"),
    }


def masked_sequence_loss(case):
    x_hat, x, lengths = graders.loss_inputs(case)
    n, steps, d = x.shape
    per_step = ((x_hat - x) ** 2).sum(axis=2)                                  # (N, T)
    t = np.arange(steps)[None, :]
    real = t < lengths[:, None]                                                 # (N, T)
    by_sequence = sum(((x_hat[i, :length] - x[i, :length]) ** 2).sum() for i, length in enumerate(lengths))
    return {
        "expected": by_sequence / n,                                            # each sequence cut to its length
        "mistake/padding_counted": per_step.sum() / n,
        "mistake/one_step_too_many": (per_step * (t <= lengths[:, None])).sum() / n,
        "mistake/one_step_too_few": (per_step * (t < lengths[:, None] - 1)).sum() / n,
        "mistake/divided_by_real_steps": (per_step * real).sum() / lengths.sum(),
        "mistake/mean_over_real_elements": (per_step * real).sum() / (lengths.sum() * d),
        "mistake/sum_over_sequences": (per_step * real).sum(),
        "mistake/plain_mean": (per_step * real).sum() / (n * steps * d),
    }


def last_valid_state(case):
    outputs, lengths = graders.state_inputs(case)
    n, steps, _ = outputs.shape
    return {
        "expected": np.stack([outputs[i, length - 1] for i, length in enumerate(lengths)]),   # (N, H)
        "mistake/last_padded_step": outputs[:, -1],
        "mistake/one_step_too_late": outputs[np.arange(n), np.minimum(lengths, steps - 1)],
        "mistake/one_step_too_early": outputs[np.arange(n), np.maximum(lengths - 2, 0)],
        "mistake/first_step": outputs[:, 0],
        "mistake/axes_separately": outputs[:, lengths - 1],                     # (N, N, H)
    }
