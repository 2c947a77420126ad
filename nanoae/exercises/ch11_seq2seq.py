"""Graders for chapter 11, the sequence-to-sequence autoencoder.

Notation: a batch of N sequences padded to T steps; ``lengths`` (N,) says
how many steps of each are real (the rest is padding). The GRU is PyTorch's
(``nanoae.nn.GRUCell``, section 1 of the chapter), hidden size H, its gates
stacked in the order r, z, n in weight_ih (3H, D), weight_hh (3H, H) and the
biases (3H,).

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``gru_cell_forward(x, h, weight_ih, weight_hh, bias_ih, bias_hh)`` | one GRU step in NumPy, (N, H) | the values stored for these inputs |
| ``masked_sequence_loss(x_hat, x, lengths)`` | squared error over the real steps, per sequence, a scalar Tensor | the value stored for these inputs; gradcheck of the student's own function |
| ``last_valid_state(outputs, lengths)`` | outputs[n, lengths[n] - 1] for every n, a Tensor (N, H) | the values stored for these inputs; gradcheck of the student's own function |

The GRU step rules out the library's ``GRUCell`` (its ``forward`` and
``step``), the loss the model's own masked ``reconstruction_loss`` and its
``sequence_mask``; picking the last states is one indexing operation, which
the library has no function for. Inputs have both signs, N, T, D and H all
differ, and the padding holds large garbage values, so that counting it
changes the answer. When an answer is wrong, the grader names the usual
mistake it matches.
"""
from nanoae import backend, nn
from nanoae.autograd import Tensor
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, grader, passed_within,
                              random_array, scalar_answer)
from nanoae.models.seq2seq import Seq2SeqAutoencoder, sequence_mask

TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
STORED = StoredValues("ch11_seq2seq")
xp = backend.array_module_for("cpu")  # the graders build their inputs on the CPU, in float64

# Case c checks the GRU step GRU_CASES[c], the loss LOSS_CASES[c] and the last states STATE_CASES[c].
GRU_CASES = ((3, 4, 5, 110), (6, 2, 3, 120))              # (N, D, H, seed)
LOSS_CASES = ((4, 6, 3, 130), (5, 7, 2, 140))             # (N, T, D, seed)
STATE_CASES = ((4, 6, 3, 150), (5, 3, 2, 160))            # (N, T, H, seed)
CASES = tuple(zip(GRU_CASES, LOSS_CASES, STATE_CASES))

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch11_seq2seq.py).
MISTAKES = {
    "gru_cell_forward": {
        "keep_swapped": "z and 1 - z are swapped: z near 1 KEEPS the old state",
        "r_z_swapped": "r and z are swapped: the stacked weights hold the gates in the order r, z, n",
        "gate_order": "the gates are taken in the wrong order: rows 0..H are r, H..2H are z, 2H..3H are n",
        "reset_before_matmul": "you applied r to h before the matrix product (Cho et al.'s original form); "
                               "PyTorch's GRU, used here, multiplies r with W_hn h + b_hn",
        "reset_without_bias": "r must multiply the bias b_hn too",
        "no_reset": "the reset gate r is missing from n",
        "sigmoid_candidate": "the candidate n uses tanh, not sigmoid",
    },
    "masked_sequence_loss": {
        "padding_counted": "the padded steps were counted: keep only the steps t < lengths[n]",
        "one_step_too_many": "one step too many: the real steps of a sequence of length L are t = 0 .. L - 1",
        "one_step_too_few": "one step too few: the real steps of a sequence of length L are t = 0 .. L - 1",
        "divided_by_real_steps": "you divided by the number of real steps: average over the sequences (divide by N)",
        "mean_over_real_elements": "you averaged over the real elements: sum over steps and features, divide by N",
        "sum_over_sequences": "you summed over the sequences: divide by N",
        "plain_mean": "you divided by N T D (a plain mean): sum over the real steps and features, divide by N",
    },
    "last_valid_state": {
        "last_padded_step": "you took the last step of the padded array: a shorter sequence ends at "
                            "step lengths[n] - 1",
        "one_step_too_late": "one step too late: a sequence of length L ends at index L - 1",
        "one_step_too_early": "one step too early: a sequence of length L ends at index L - 1",
        "first_step": "you took the first step of each sequence, not its last real one",
        "axes_separately": "indexing the step axis alone takes every chosen step of every sequence; index "
                           "both axes together, one integer array for each",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def lengths_of(n, steps, seed):
    """N lengths in [1, T]: one of the full length T, one of length 1, the others random."""
    lengths = backend.new_generator(seed).integers(1, steps, size=n)
    lengths[0], lengths[1] = steps, 1
    return lengths


def padded(shape, lengths, seed):
    """Random values of both signs at the real steps, garbage (+-50, +-51, ...) in the padding."""
    values = random_array(shape, seed)
    for i, n in enumerate(lengths):
        garbage = 50.0 + xp.arange(shape[1] - n)                           # a different value at each padded step
        values[i, n:] = (-1) ** i * garbage.reshape((-1,) + (1,) * (len(shape) - 2))
    return values


def gru_inputs(case):
    """(x (N, D), h (N, H), weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,))."""
    n, d, hidden, seed = GRU_CASES[case]
    return (random_array((n, d), seed), random_array((n, hidden), seed + 1),
            random_array((3 * hidden, d), seed + 2), random_array((3 * hidden, hidden), seed + 3),
            random_array(3 * hidden, seed + 4), random_array(3 * hidden, seed + 5))


def loss_inputs(case):
    """(x_hat (N, T, D), x (N, T, D), lengths (N,)), garbage in the padding of both."""
    n, steps, d, seed = LOSS_CASES[case]
    lengths = lengths_of(n, steps, seed)
    return padded((n, steps, d), lengths, seed + 1), padded((n, steps, d), lengths, seed + 2) * -0.5, lengths


def state_inputs(case):
    """(outputs (N, T, H), lengths (N,)), garbage in the padding."""
    n, steps, hidden, seed = STATE_CASES[case]
    lengths = lengths_of(n, steps, seed)
    return padded((n, steps, hidden), lengths, seed + 1), lengths


# --- exercise 1: one GRU step in NumPy ------------------------------------------------------

@grader("gru_cell_forward", forbidden=(nn.GRUCell.forward, nn.GRUCell.step))
def grade_gru_cell_forward(gru_cell_forward):
    worst = 0.0
    for case in range(len(CASES)):
        inputs = gru_inputs(case)
        x, h = inputs[:2]
        got = as_numpy(gru_cell_forward(*(a.copy() for a in inputs)))
        worst = max(worst, STORED.check(got, "gru_cell_forward", case, MISTAKES["gru_cell_forward"], TOL,
                                        f"your h' (N={x.shape[0]}, D={x.shape[1]}, H={h.shape[1]})"))
    return passed_within(worst, TOL) + " against the values stored for these inputs"


# --- exercise 2: a loss that ignores the padding ----------------------------------------------

@grader("masked_sequence_loss", forbidden=(Seq2SeqAutoencoder.reconstruction_loss, sequence_mask))
def grade_masked_sequence_loss(masked_sequence_loss):
    worst = 0.0
    for case in range(len(CASES)):
        x_hat, x, lengths = loss_inputs(case)
        n, steps, d = x.shape
        got = scalar_answer(masked_sequence_loss(Tensor(x_hat), Tensor(x), lengths.copy()),
                            ": sum over the real steps and the features, then average over the sequences")
        worst = max(worst, STORED.check(got, "masked_sequence_loss", case, MISTAKES["masked_sequence_loss"], TOL,
                                        f"your loss (N={n}, T={steps}, D={d})"))
        lengths_fixed = lengths.copy()
        check_gradients(lambda a, b: masked_sequence_loss(a, b, lengths_fixed), [Tensor(x_hat), Tensor(x)],
                        names=["x_hat", "x"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"


# --- exercise 3: the state after each sequence's last real step --------------------------------

@grader("last_valid_state")
def grade_last_valid_state(last_valid_state):
    worst = 0.0
    for case in range(len(CASES)):
        outputs, lengths = state_inputs(case)
        n, steps, hidden = outputs.shape
        out = last_valid_state(Tensor(outputs), lengths.copy())
        if not isinstance(out, Tensor):
            raise Mismatch(f"return a Tensor built with nanoae indexing (the gradient must reach the outputs), "
                           f"got {type(out).__name__}")
        worst = max(worst, STORED.check(as_numpy(out), "last_valid_state", case, MISTAKES["last_valid_state"], TOL,
                                        f"your states (N={n}, T={steps}, H={hidden})"))
        lengths_fixed = lengths.copy()
        check_gradients(lambda o: last_valid_state(o, lengths_fixed), [Tensor(outputs)], names=["outputs"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"
