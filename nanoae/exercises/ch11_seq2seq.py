"""Graders for chapter 11, the sequence-to-sequence autoencoder.

Notation: a batch of N sequences padded to T steps; ``lengths`` (N,) says
how many steps of each are real (the rest is padding). A GRU with hidden
size H, in PyTorch's convention (``nanoae.nn.GRUCell``):

    r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

with weight_ih = [W_ir; W_iz; W_in] (3H, D), weight_hh = [W_hr; W_hz; W_hn] (3H, H).

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``gru_cell_forward(x, h, weight_ih, weight_hh, bias_ih, bias_hh)`` | one GRU step in NumPy, (N, H) | the equations above, gate by gate from slices of the weights |
| ``masked_sequence_loss(x_hat, x, lengths)`` | squared error over the real steps, per sequence, a scalar Tensor | a loop over the sequences, each cut to its length; gradcheck |
| ``last_valid_state(outputs, lengths)`` | outputs[n, lengths[n] - 1] for every n, a Tensor (N, H) | a loop over the sequences; gradcheck |

Inputs have both signs, N, T, D and H all differ, and the padding holds
large garbage values, so that counting it changes the answer. When an answer
is wrong, the grader tries the usual mistakes and names the one it matches.
"""
from nanoae import backend
from nanoae.exercises import (Mismatch, as_numpy, check_gradients, compare, diagnose, grader, passed_within,
                              random_array, scalar_answer)
from nanoae.autograd import Tensor

TOL = 1e-9      # float64 references: a right answer agrees to ~1e-15
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64


def _sigmoid(a):
    return 1 / (1 + xp.exp(-a))


def _lengths(n, steps, seed):
    """N lengths in [1, T]: one of the full length T, one of length 1, the others random."""
    lengths = backend.new_generator(seed).integers(1, steps, size=n)
    lengths[0], lengths[1] = steps, 1
    return lengths


def _padded(shape, lengths, seed):
    """Random values of both signs at the real steps, garbage (+-50, +-51, ...) in the padding."""
    values = random_array(shape, seed)
    for i, n in enumerate(lengths):
        garbage = 50.0 + xp.arange(shape[1] - n)                           # a different value at each padded step
        values[i, n:] = (-1) ** i * garbage.reshape((-1,) + (1,) * (len(shape) - 2))
    return values


# --- exercise 1: one GRU step in NumPy ------------------------------------------------------

def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh, order=(0, 1, 2), keep_old="z", reset="pytorch", candidate="tanh"):
    """One GRU step from the equations, with switches that make the usual mistakes."""
    H = h.shape[1]
    gate = [slice(k * H, (k + 1) * H) for k in order]                  # rows of r, z, n in the stacks
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
    n = xp.tanh(pre_n) if candidate == "tanh" else _sigmoid(pre_n)
    return (1 - z) * n + z * h if keep_old == "z" else z * n + (1 - z) * h


@grader("gru_cell_forward")
def grade_gru_cell_forward(gru_cell_forward):
    worst = 0.0
    for n, d, hidden, seed in ((3, 4, 5, 110), (6, 2, 3, 120)):
        x, h = random_array((n, d), seed), random_array((n, hidden), seed + 1)
        w_ih, w_hh = random_array((3 * hidden, d), seed + 2), random_array((3 * hidden, hidden), seed + 3)
        b_ih, b_hh = random_array(3 * hidden, seed + 4), random_array(3 * hidden, seed + 5)
        inputs = (x, h, w_ih, w_hh, b_ih, b_hh)
        got = as_numpy(gru_cell_forward(*(a.copy() for a in inputs)))
        try:
            worst = max(worst, compare(got, _gru_step(*inputs), TOL, f"your h' (N={n}, D={d}, H={hidden})"))
        except Mismatch as mismatch:
            diagnose(got, [
                (_gru_step(*inputs, keep_old="1-z"), "z and 1 - z are swapped: h' = (1 - z) * n + z * h, "
                                                     "so z near 1 KEEPS the old state"),
                (_gru_step(*inputs, order=(1, 0, 2)), "r and z are swapped: the stacked weights hold the gates "
                                                      "in the order r, z, n"),
                (_gru_step(*inputs, order=(2, 1, 0)), "the gates are taken in the wrong order: rows 0..H are r, "
                                                      "H..2H are z, 2H..3H are n"),
                (_gru_step(*inputs, reset="before_matmul"), "you applied r to h before the matrix product "
                                                            "(Cho et al.'s original form); PyTorch's GRU, used here, "
                                                            "multiplies r with W_hn h + b_hn"),
                (_gru_step(*inputs, reset="no_bias"), "r must multiply the bias b_hn too: n = tanh(W_in x + b_in "
                                                      "+ r * (W_hn h + b_hn))"),
                (_gru_step(*inputs, reset="none"), "the reset gate r is missing from n"),
                (_gru_step(*inputs, candidate="sigmoid"), "the candidate n uses tanh, not sigmoid"),
            ], mismatch)
    return passed_within(worst, TOL) + " against the GRU equations, gate by gate"


# --- exercise 2: a loss that ignores the padding ----------------------------------------------

def _masked_reference(x_hat, x, lengths):
    """Each sequence cut to its length, its squared error summed; the mean over sequences."""
    return sum(((x_hat[i, :n] - x[i, :n]) ** 2).sum() for i, n in enumerate(lengths)) / len(lengths)


@grader("masked_sequence_loss")
def grade_masked_sequence_loss(masked_sequence_loss):
    worst = 0.0
    for n, steps, d, seed in ((4, 6, 3, 130), (5, 7, 2, 140)):
        lengths = _lengths(n, steps, seed)
        x_hat = _padded((n, steps, d), lengths, seed + 1)
        x = _padded((n, steps, d), lengths, seed + 2) * -0.5
        expected = _masked_reference(x_hat, x, lengths)
        real = xp.arange(steps)[None, :] < lengths[:, None]                # (N, T)
        per_step = ((x_hat - x) ** 2).sum(axis=2)                           # (N, T)
        got = scalar_answer(masked_sequence_loss(Tensor(x_hat), Tensor(x), lengths.copy()),
                            ": sum over the real steps and the features, then average over the sequences")
        try:
            worst = max(worst, compare(got, xp.reshape(expected, 1), TOL, f"your loss (N={n}, T={steps}, D={d})"))
        except Mismatch as mismatch:
            diagnose(got, [
                (per_step.sum() / n, "the padded steps were counted: keep only the steps t < lengths[n]"),
                ((per_step * (xp.arange(steps)[None, :] <= lengths[:, None])).sum() / n,
                 "one step too many: the real steps of a sequence of length L are t = 0 .. L - 1"),
                ((per_step * (xp.arange(steps)[None, :] < lengths[:, None] - 1)).sum() / n,
                 "one step too few: the real steps of a sequence of length L are t = 0 .. L - 1"),
                ((per_step * real).sum() / lengths.sum(), "you divided by the number of real steps: average "
                                                          "over the sequences (divide by N)"),
                ((per_step * real).sum() / (lengths.sum() * d), "you averaged over the real elements: sum over "
                                                                "steps and features, divide by N"),
                ((per_step * real).sum(), "you summed over the sequences: divide by N"),
                ((per_step * real).sum() / (n * steps * d), "you divided by N T D (a plain mean): sum over the "
                                                            "real steps and features, divide by N"),
            ], mismatch)
        lengths_fixed = lengths.copy()
        check_gradients(lambda a, b: masked_sequence_loss(a, b, lengths_fixed), [Tensor(x_hat), Tensor(x)],
                        names=["x_hat", "x"])
    return passed_within(worst, TOL) + " against each sequence cut to its length; its backward matches finite differences"


# --- exercise 3: the state after each sequence's last real step --------------------------------

@grader("last_valid_state")
def grade_last_valid_state(last_valid_state):
    worst = 0.0
    for n, steps, hidden, seed in ((4, 6, 3, 150), (5, 3, 2, 160)):
        lengths = _lengths(n, steps, seed)
        outputs = _padded((n, steps, hidden), lengths, seed + 1)
        expected = xp.stack([outputs[i, length - 1] for i, length in enumerate(lengths)])   # (N, H)
        out = last_valid_state(Tensor(outputs), lengths.copy())
        if not isinstance(out, Tensor):
            raise Mismatch(f"return a Tensor built with nanoae indexing (the gradient must reach the outputs), "
                           f"got {type(out).__name__}")
        got = as_numpy(out)
        if got.shape == (n, n, hidden):
            raise Mismatch(f"your answer has shape {got.shape}, expected {(n, hidden)}: outputs[:, lengths - 1] "
                           f"takes every chosen step of every sequence; index both axes together, "
                           f"outputs[arange(N), lengths - 1]")
        try:
            worst = max(worst, compare(got, expected, TOL, f"your states (N={n}, T={steps}, H={hidden})"))
        except Mismatch as mismatch:
            later = xp.minimum(lengths, steps - 1)
            diagnose(got, [
                (outputs[:, -1], "you took the last step of the padded array: a shorter sequence ends at "
                                 "step lengths[n] - 1"),
                (outputs[xp.arange(n), later], "one step too late: a sequence of length L ends at index L - 1"),
                (outputs[xp.arange(n), xp.maximum(lengths - 2, 0)], "one step too early: a sequence of length L "
                                                                    "ends at index L - 1"),
                (outputs[:, 0], "you took the first step: take step lengths[n] - 1 of sequence n"),
            ], mismatch)
        lengths_fixed = lengths.copy()
        check_gradients(lambda o: last_valid_state(o, lengths_fixed), [Tensor(outputs)], names=["outputs"])
    return passed_within(worst, TOL) + " against a loop over the sequences; its backward matches finite differences"
