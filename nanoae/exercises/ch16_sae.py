"""Graders for chapter 16, sparse autoencoders of a trained model's activations.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``topk_forward(x, k)`` | y: the k largest entries of each row of x kept, the rest 0 (NumPy) | the values stored for these inputs |
| ``topk_backward(x, k, gy)`` | dL/dx of y = topk(x, k), given the upstream gradient gy = dL/dy (NumPy) | the values stored for these inputs |
| ``normalized_mse(x, x_hat)`` | the SAE's error as a share of the mean's error, a float | the values stored for these inputs |
| ``count_dead_latents(z)`` | how many latents never fire on the codes z (N, L), an int | the values stored for these codes |

Each rules out the library call that does it: ``ops.topk`` (its op and the
mask it is built on) and the autograd engine for TopK,
``nanoae.analysis.sae.normalized_mse``, and the firing counts of
``nanoae.analysis.sae`` for the dead latents. The inputs have both signs (the
TopK of a row may keep negative entries), no ties, a random upstream
gradient (never all ones), rows and columns of different counts (N != n) so
that working along the wrong axis shows, and activations whose mean is far
from zero, so that forgetting to centre them shows. When an answer is wrong,
the grader names the usual mistake it matches.
"""
from nanoae import ops
from nanoae.analysis import sae as measures
from nanoae.autograd import Tensor, grad
from nanoae.exercises import Mismatch, StoredValues, as_numpy, grader, passed_within, random_array
from nanoae.ops import sparse as sparse_ops

TOL = 1e-9      # the stored values are exact in float64
CASES = ((6, 8, 5, 160), (9, 5, 3, 170))   # (rows N, entries per row n or units d, k, seed): N != n;
# k near half of n, so that some rows keep a negative entry
STORED = StoredValues("ch16_sae")
ENGINE = (Tensor.backward, grad)           # what would find TopK's gradient for the student
LIBRARY_TOPK = (ops.topk, sparse_ops.TopK.forward, sparse_ops.TopK.backward, sparse_ops.kept_mask)

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch16_sae.py).
MISTAKES = {
    "topk_forward": {
        "smallest": "you kept the k smallest entries: keep the k largest",
        "by_size": "you kept the k entries of largest absolute value: TopK keeps the k largest values, "
                   "so a large negative entry is dropped",
        "relu": "you also zeroed the kept negative entries: TopK alone keeps the k largest whatever their "
                "sign (the SAE adds a ReLU after it)",
        "columns": "you took the k largest of each column: TopK works along each row (the last axis)",
        "k_plus_one": "you kept k + 1 entries per row: check the index where the kept ones start",
    },
    "topk_backward": {
        "every_entry": "your backward passes the gradient to every entry: only the kept entries reach the "
                       "output, so the dropped ones get 0",
        "dropped_entries": "your backward passes the gradient to the dropped entries instead of the kept ones",
        "no_upstream": "your backward forgets to multiply by the upstream gradient gy",
        "times_x": "your backward multiplies by x: the derivative of y_i = x_i is 1, not x_i",
        "positive_entries": "your backward passes the gradient where x > 0 (ReLU's mask): it must pass it "
                            "where x was kept, negative kept entries included",
        "smallest": "your backward passes the gradient through the k smallest entries: it is the k largest "
                    "that are kept",
    },
    "normalized_mse": {
        "plain_mse": "that is the plain mean squared error: divide the summed squared error by the summed "
                     "squared distance of x from its mean",
        "uncentered": "you divided by sum x^2: the baseline is the mean activation, so divide by "
                      "sum (x - mean(x))^2, with the mean of each unit over the rows",
        "one_mean": "you took one mean over all the numbers of x: the baseline predicts each unit's own "
                    "mean, so take the mean over the rows (axis 0)",
        "mean_of_ratios": "you averaged a ratio per row: sum the errors over every row first, then divide "
                          "by the summed spread",
        "root": "you took a square root: the normalized MSE is a ratio of squared errors",
        "inverted": "the ratio is upside down: the error goes on top",
    },
    "count_dead_latents": {
        "alive": "you counted the latents that fired at least once: count the ones that never do",
        "zero_entries": "you counted the zero entries of z: count the latents (columns) with no nonzero "
                        "entry at all",
        "silent_rows": "you counted the inputs (rows) on which no latent fires: count the latents (columns) "
                       "that fire on no input",
        "fraction": "you returned the share of dead latents: return how many there are",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def topk_inputs(case):
    """(x, k, upstream): x (N, n) of both signs, k, and a random upstream gradient (never all ones)."""
    rows, n, k, seed = CASES[case]
    return 2 * random_array((rows, n), seed), k, random_array((rows, n), seed + 1)


def nmse_inputs(case):
    """(x, x_hat), each (N, d): activations around a mean far from zero, and a reconstruction of them."""
    rows, d, _, seed = CASES[case]
    x = 3.0 + random_array((d,), seed + 2) + random_array((rows, d), seed + 3)
    return x, x + 0.5 * random_array((rows, d), seed + 4)


def dead_inputs(case):
    """Codes z (N, L) >= 0 with L = 3n, mostly zeros: every fourth latent never fires, and input 2
    excites no latent at all."""
    rows, n, _, seed = CASES[case]
    z = random_array((rows, 3 * n), seed + 5, 0.0, 1.0)
    z[z < 0.7] = 0.0                                            # sparse: some other latents die by chance
    z[:, ::4] = 0.0
    z[2] = 0.0
    return z


# --- exercises 1 and 2: TopK's forward and backward, by hand ------------------------------

def _topk_answer(answer, x, k, name):
    """The student's array, which must have the shape of x; their exception names the case."""
    got = as_numpy(answer)
    if got.shape != x.shape:
        raise Mismatch(f"{name} must have the shape of x, {x.shape} (k = {k}); got {got.shape}")
    return got


@grader("topk_forward", forbidden=ENGINE + LIBRARY_TOPK)
def grade_topk_forward(topk_forward):
    worst = 0.0
    for case in range(len(CASES)):
        x, k, _ = topk_inputs(case)
        got = _topk_answer(topk_forward(x.copy(), k), x, k, "your y")
        worst = max(worst, STORED.check(got, "topk_forward", case, MISTAKES["topk_forward"], TOL,
                                        f"your y (x {x.shape}, k = {k})"))
    return passed_within(worst, TOL)


@grader("topk_backward", forbidden=ENGINE + LIBRARY_TOPK)
def grade_topk_backward(topk_backward):
    worst = 0.0
    for case in range(len(CASES)):
        x, k, upstream = topk_inputs(case)
        got = _topk_answer(topk_backward(x.copy(), k, upstream.copy()), x, k, "your dL/dx")
        worst = max(worst, STORED.check(got, "topk_backward", case, MISTAKES["topk_backward"], TOL,
                                        f"your dL/dx (x {x.shape}, k = {k}, a random upstream gradient)"))
    return passed_within(worst, TOL)


# --- exercise 3: normalized MSE --------------------------------------------------------------

@grader("normalized_mse", forbidden=(measures.normalized_mse,))
def grade_normalized_mse(normalized_mse):
    worst = 0.0
    for case in range(len(CASES)):
        x, x_hat = nmse_inputs(case)
        got = as_numpy(normalized_mse(x.copy(), x_hat.copy()))
        if got.size != 1:
            raise Mismatch(f"return one number for the whole set, got an array of shape {got.shape}")
        worst = max(worst, STORED.check(got.reshape(1), "normalized_mse", case, MISTAKES["normalized_mse"], TOL,
                                        f"your normalized MSE (x {x.shape})"))
    return passed_within(worst, TOL)


# --- exercise 4: dead latents ----------------------------------------------------------------

@grader("count_dead_latents", forbidden=(measures.firing_counts, measures.dead_latents, measures.run_sae))
def grade_count_dead_latents(count_dead_latents):
    for case in range(len(CASES)):
        z = dead_inputs(case)
        got = as_numpy(count_dead_latents(z.copy()))
        if got.size != 1:
            raise Mismatch(f"return one number, the count of dead latents; got an array of shape {got.shape}")
        STORED.check(got.reshape(1), "count_dead_latents", case, MISTAKES["count_dead_latents"], 0.0,
                     f"your count (z {z.shape})")
    return f"the right count on {len(CASES)} sets of codes"
