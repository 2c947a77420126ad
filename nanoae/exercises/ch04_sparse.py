"""Graders for chapter 04, the sparse autoencoder.

Notation: a batch of codes h (B, K) with values in (0, 1), the mean activation
of unit j over the batch rho_hat_j, a target rho in (0, 1), and the penalty
P = sum_j KL(rho || rho_hat_j) of the notebook.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``sparsity_kl(h, rho)`` | P, as a scalar Tensor | the value stored for these inputs, then gradcheck of the student's own function |
| ``sparsity_grad_preactivation(a, rho)`` | dP/da for h = sigmoid(a), by hand | the values stored for these inputs |

The stored values (``values/ch04_sparse.npz``) hold the answers of the usual
mistakes too (the KL's arguments swapped, the (1 - rho) term left out, no
mean over the batch, ...): when an answer is wrong, the FAIL line names the
one it matches. Each exercise is the student's to write: an answer that
calls the library's penalty (``F.kl_bernoulli``,
``SparseAutoencoder.sparsity_penalty``) or lets the autograd engine find the
gradient (``Tensor.backward``, ``nanoae.grad``) does not pass.
"""
from nanoae import backend, functional as F
from nanoae.autograd import Tensor, grad
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, grader, passed_within,
                              random_array, scalar_answer)
from nanoae.models.sparse import SparseAutoencoder

TOL = 1e-6
STORED = StoredValues("ch04_sparse")
xp = backend.array_module_for("cpu")  # the inputs are made on the CPU, in float64
CASES = ((7, 5, 0.05, 10), (4, 3, 0.2, 20))  # (B, K, rho, seed): rho_hat lands on both sides of rho

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch04_sparse.py).
MISTAKES = {
    "sparsity_kl": {
        "swapped": "this is sum_j KL(rho_hat_j || rho): the arguments are swapped; the target rho comes first, "
                   "KL(rho || rho_hat_j)",
        "no_one_minus_rho": "the KL's (1 - rho) term is missing",
        "kl_of_every_h": "you took the KL of every h_bj: first average each unit over the batch, then take "
                         "the KL of that mean",
        "mean_of_kl_of_every_h": "you averaged the KL of every h_bj over the batch: average the activations "
                                 "first, then take the KL",
        "mean_over_units": "you averaged over the units: the penalty is the SUM over units j",
        "wrong_axis": "you averaged over the wrong axis: rho_hat_j is the mean of unit j over the batch (the rows)",
    },
    "sparsity_grad_preactivation": {
        "no_batch_mean": "every entry is B times too large: rho_hat_j is a mean over the batch, so "
                         "drho_hat_j/dh_bj = 1/B",
        "no_sigmoid_slope": "the sigmoid's derivative is missing: h = sigmoid(a) passes the gradient on to a "
                            "times its slope",
        "slope_h": "the sigmoid's derivative is not h_bj: differentiate 1 / (1 + e^-a) and write it with h_bj",
        "negated": "the sign is flipped",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def _preactivations(batch, units, seed):
    """(B, K) of both signs, unit j shifted by an offset from -4 to 1: some units are mostly off
    (rho_hat_j below rho), others mostly on, so dKL/drho_hat_j takes both signs."""
    return random_array((batch, units), seed) + xp.linspace(-4, 1, units)


def sparsity_kl_inputs(case):
    """(h, rho): codes h (B, K) in (0, 1) as a sigmoid encoder makes them, and the target rho."""
    batch, units, rho, seed = CASES[case]
    return 1 / (1 + xp.exp(-_preactivations(batch, units, seed))), rho


def sparsity_grad_preactivation_inputs(case):
    """(a, rho): pre-activations a (B, K) and the target rho."""
    batch, units, rho, seed = CASES[case]
    return _preactivations(batch, units, seed + 100), rho


# --- exercise 1: the penalty -----------------------------------------------------------

@grader("sparsity_kl", forbidden=(F.kl_bernoulli, SparseAutoencoder.sparsity_penalty))
def grade_sparsity_kl(sparsity_kl):
    worst = 0.0
    for case in range(len(CASES)):
        h, rho = sparsity_kl_inputs(case)
        got = scalar_answer(sparsity_kl(Tensor(h), rho))
        worst = max(worst, STORED.check(got, "sparsity_kl", case, MISTAKES["sparsity_kl"], TOL,
                                        f"the penalty (B={h.shape[0]}, K={h.shape[1]}, rho={rho})"))
        check_gradients(lambda t, rho=rho: sparsity_kl(t, rho), [Tensor(h)], names=["h"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"


# --- exercise 2: through the sigmoid to the pre-activations --------------------------------

@grader("sparsity_grad_preactivation", forbidden=(Tensor.backward, grad))
def grade_sparsity_grad_preactivation(sparsity_grad_preactivation):
    worst = 0.0
    for case in range(len(CASES)):
        a, rho = sparsity_grad_preactivation_inputs(case)
        got = as_numpy(sparsity_grad_preactivation(a.copy(), rho))
        if got.shape != a.shape:
            raise Mismatch(f"return dP/da with the shape of a, {a.shape}; got {got.shape}")
        worst = max(worst, STORED.check(got, "sparsity_grad_preactivation", case,
                                        MISTAKES["sparsity_grad_preactivation"], TOL,
                                        f"your dP/da (B={a.shape[0]}, K={a.shape[1]}, rho={rho})"))
    return passed_within(worst, TOL)
