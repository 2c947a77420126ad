"""Graders for chapter 15, the vector-quantized VAE.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``nearest_code(z, codebook)`` | the index of the nearest codebook row for each row of z, NumPy | the indices stored for these inputs |
| ``straight_through(z_e, z_q)`` | the values of z_q, the gradient routed to z_e, a Tensor | its values are z_q's; with z_q picked from a codebook on the graph, z_e gets the upstream gradient and the codebook none; gradcheck where z_q moves with z_e |
| ``vq_losses(z_e, z_q)`` | (codebook term, commitment term), scalar Tensors | the values stored for these inputs; each term's gradient reaches only its own side (finite differences there, nothing on the other) |
| ``perplexity(counts)`` | exp of the entropy of the code usage, a number | the values stored for these counts |

Each exercise rules out the library call that would do it
(``ops.nearest_code``, ``ops.straight_through``, ``VQVAE.loss``,
``analysis.codebook.perplexity``). Inputs have both signs, codebook rows of
different lengths (so that the largest dot product is not the nearest row),
z_e and z_q of shape (B, D, h, w) with B != D and h w > 1 (so that dividing by
the wrong count changes the answer), and counts with unused codes.
When an answer is wrong, the grader names the usual mistake it matches.
"""
import math

from nanoae import backend, ops
from nanoae.analysis import codebook as codebook_tools
from nanoae.autograd import Tensor, grad
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, compare, grader, passed_within,
                              random_array, scalar_answer)
from nanoae.models.vq_vae import VQVAE

TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
CASES = ((6, 3, 7, 150), (4, 5, 9, 160))   # (B, D, K, seed): B != D, K codes
GRID = (2, 3)                               # (h, w) of the grid of z_e and z_q in vq_losses
STORED = StoredValues("ch15_vq_vae")
xp = backend.array_module_for("cpu")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch15_vq_vae.py).
MISTAKES = {
    "nearest_code": {
        "farthest": "you took the farthest codebook row (argmax of the distance): the code is the nearest one",
        "largest_dot": "you took the largest dot product z . e_k (or left |e_k|^2 out of the distance): a long "
                       "codebook row then wins over a near one",
    },
    "vq_losses": {
        "mean_over_numbers": "you averaged over every number: sum over the places and the D numbers of each "
                             "vector, then average over the batch (divide by B)",
        "sum_over_batch": "you summed over the batch: average over it (divide by B)",
        "per_place": "you divided by the number of places (B h w): divide by the number of images B",
        "not_squared": "the distance is not squared: each term is a squared distance ||.||^2",
    },
    "perplexity": {
        "entropy": "that is the entropy of the usage: the perplexity is its exponential",
        "exp_of_bits": "you took exp of an entropy in bits: use natural logarithms with exp (or log2 with 2**)",
        "two_to_nats": "you raised 2 to an entropy in nats: use natural logarithms with exp (or log2 with 2**)",
        "counts_not_shares": "use the shares p_k = c_k / sum_j c_j, not the counts themselves",
        "shares_over_codebook": "divide the counts by their total, not by the number of codes",
        "used_codes": "that is the number of codes used: the perplexity weighs each by how often it is used",
        "inverse": "the sign of the entropy is wrong: the perplexity is exp(-sum p log p) >= 1",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def code_inputs(case):
    """z (4B, D) standard normal, and a codebook (K, D) whose rows have lengths from 0.3 to 2.5."""
    batch, dim, size, seed = CASES[case]
    z = random_array((4 * batch, dim), seed)
    codebook = random_array((size, dim), seed + 1) * random_array((size, 1), seed + 2, 0.3, 2.5)
    return z, codebook


def straight_through_inputs(case):
    """z_e (2B, D) and a codebook (K, D) to pick z_q from."""
    batch, dim, size, seed = CASES[case]
    return random_array((2 * batch, dim), seed + 10), random_array((size, dim), seed + 11)


def loss_inputs(case):
    """z_e and z_q, each (B, D, h, w), both signs."""
    batch, dim, _, seed = CASES[case]
    return random_array((batch, dim, *GRID), seed + 20), random_array((batch, dim, *GRID), seed + 21)


def count_inputs(case):
    """Counts of 3K codes, integers in [0, 40), every fourth code unused."""
    _, _, size, seed = CASES[case]
    counts = backend.new_generator(seed + 30).integers(0, 40, 3 * size)
    counts[::4] = 0
    return counts


# --- exercise 1: the nearest codebook vector --------------------------------------------------

@grader("nearest_code", forbidden=(ops.nearest_code, ops.squared_distances))
def grade_nearest_code(nearest_code):
    for case in range(len(CASES)):
        z, codebook = code_inputs(case)
        got = as_numpy(nearest_code(z.copy(), codebook.copy()))
        STORED.check(got, "nearest_code", case, MISTAKES["nearest_code"], 0.0,
                     f"your codes (N={len(z)} vectors, K={len(codebook)} codebook rows)")
    return "every vector's code is its nearest codebook row"


# --- exercise 2: the straight-through estimator ---------------------------------------------------

@grader("straight_through", forbidden=(ops.straight_through, ops.quantize.StraightThrough.forward,
                                       ops.quantize.StraightThrough.backward))
def grade_straight_through(straight_through):
    for case in range(len(CASES)):
        z_e_values, codebook_values = straight_through_inputs(case)
        z_e = Tensor(z_e_values, requires_grad=True)
        codebook = Tensor(codebook_values, requires_grad=True)
        z_q = codebook[_library_codes(z_e_values, codebook_values)]     # on the codebook's graph
        out = straight_through(z_e, z_q)
        if not isinstance(out, Tensor):
            raise Mismatch(f"return a Tensor (the decoder reads it, and backward runs through it), "
                           f"got {type(out).__name__}")
        _check_values(out, z_e_values, z_q)
        _check_routing(out, z_e, codebook, case)
    identity = check_gradients(lambda z: straight_through(z, z.detach() + 0.5),
                               [Tensor(straight_through_inputs(0)[0])], names=["z_e"])
    return "the values are z_q's, z_e gets the upstream gradient unchanged, the codebook none; " + identity


def _library_codes(z, codebook):
    """The nearest codes by the library (the grader picks z_q with them, outside the student's function)."""
    return ops.nearest_code(z, codebook).data


def _check_values(out, z_e_values, z_q):
    got = as_numpy(out)
    if got.shape == z_e_values.shape and _equal(got, z_e_values):
        raise Mismatch("your output holds the values of z_e: the decoder must read the quantized vectors z_q")
    compare(got, as_numpy(z_q), TOL, "your output's values (they must be z_q's)")


def _check_routing(out, z_e, codebook, case):
    upstream = random_array(out.shape, 170 + case)
    g_z_e, g_codebook = _gradients(out, z_e, codebook, upstream)
    if g_z_e is None or not as_numpy(g_z_e).any():
        raise Mismatch("no gradient reaches z_e: the encoder would never learn (the straight-through estimator "
                       "hands the gradient of the quantized vectors to z_e)")
    compare(g_z_e, upstream, TOL, "the gradient of z_e (it must be the upstream gradient, unchanged)")
    if g_codebook is not None and as_numpy(g_codebook).any():
        raise Mismatch("the codebook gets a gradient through your function: the straight-through path must not "
                       "train it (the codebook learns from its own loss term)")


def _gradients(out, z_e, codebook, upstream):
    """(dL/dz_e, dL/dcodebook) for L = sum(out * upstream); None where nothing flows."""
    if not out.requires_grad:
        return None, None
    return grad(out, [z_e, codebook], grad_output=Tensor(upstream))


def _equal(got, expected):
    """Whether ``got`` equals ``expected`` to TOL."""
    try:
        compare(got, expected, TOL)
    except Mismatch:
        return False
    return True


# --- exercise 3: the codebook and commitment terms ---------------------------------------------

@grader("vq_losses", forbidden=(VQVAE.loss,))
def grade_vq_losses(vq_losses):
    worst = 0.0
    for case in range(len(CASES)):
        z_e, z_q = loss_inputs(case)
        answer = vq_losses(Tensor(z_e), Tensor(z_q))
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            raise Mismatch("return a pair (codebook term, commitment term)")
        hint = ": sum over the places and the numbers of each vector, then average over the batch"
        both = xp.concatenate([scalar_answer(term, hint) for term in answer])
        worst = max(worst, STORED.check(both, "vq_losses", case, MISTAKES["vq_losses"], TOL,
                                        f"your (codebook, commitment) (B={len(z_e)}, D={z_e.shape[1]}, "
                                        f"grid {GRID})"))
        _check_sides(vq_losses, z_e, z_q)
    return passed_within(worst, TOL) + "; each term's gradient reaches its own side only"


def _check_sides(vq_losses, z_e, z_q):
    """The codebook term moves z_q only, the commitment term z_e only, each by its true gradient."""
    for index, (term, moves, fixed) in enumerate((("codebook", "z_q", "z_e"), ("commitment", "z_e", "z_q"))):
        leaves = {"z_e": Tensor(z_e, requires_grad=True), "z_q": Tensor(z_q, requires_grad=True)}
        value = vq_losses(leaves["z_e"], leaves["z_q"])[index]
        g_fixed = grad(value, [leaves[fixed]])[0] if value.requires_grad else None
        if g_fixed is not None and as_numpy(g_fixed).any():
            raise Mismatch(f"your {term} term sends a gradient to {fixed}: stop it there (detach {fixed}), so "
                           f"that this term moves only {moves}")
        constant = Tensor(z_e if fixed == "z_e" else z_q)

        def one_side(x, index=index, fixed=fixed, constant=constant):
            pair = vq_losses(constant, x) if fixed == "z_e" else vq_losses(x, constant)
            return pair[index]
        check_gradients(one_side, [Tensor(z_q if moves == "z_q" else z_e)], names=[moves])


# --- exercise 4: the perplexity of the code use -------------------------------------------------

@grader("perplexity", forbidden=(codebook_tools.perplexity, codebook_tools.codebook_health))
def grade_perplexity(perplexity):
    worst = 0.0
    for case in range(len(CASES)):
        counts = count_inputs(case)
        got = as_numpy(perplexity(counts.copy())).reshape(-1)
        if got.size != 1:
            raise Mismatch(f"return one number for the codebook, got shape {got.shape}")
        if math.isnan(got[0]):
            raise Mismatch("your perplexity is NaN: an unused code has p = 0 and 0 log 0 is nan in NumPy; "
                           "it counts as 0 (leave the unused codes out of the sum)")
        worst = max(worst, STORED.check(got, "perplexity", case, MISTAKES["perplexity"], TOL,
                                        f"your perplexity ({len(counts)} codes, {int((counts == 0).sum())} unused)"))
    return passed_within(worst, TOL)
