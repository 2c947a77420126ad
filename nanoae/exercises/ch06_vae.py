"""Graders for chapter 06, the variational autoencoder.

``mu`` and ``log_var`` are (B, J): a batch of B Gaussians over J latent
dimensions; ``log_var`` is the log of the VARIANCE.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``gaussian_kl(mu, log_var)`` | the batch KL term, a scalar Tensor | the value stored for these inputs; gradcheck of the student's own function |
| ``reparameterize(mu, log_var, eps)`` | z, a Tensor (B, J) | the value stored for these inputs; gradcheck with eps held fixed |
| ``gaussian_kl_grad(mu, log_var)`` | (dKL/dmu, dKL/dlog_var) by hand, each (B, J) | the values stored for these inputs |

Each exercise rules out the library call that would do it: ``F.gaussian_kl``,
``F.reparameterize``, and for the gradient by hand, the autograd engine.
Inputs have both signs, log-variances from -3 to 2 (standard deviations from
0.22 to 2.7) and B != J, so that a mean over the wrong axis changes the
answer. When an answer is wrong, the grader names the usual mistake it matches.
"""
from nanoae import backend, functional as F
from nanoae.autograd import Tensor, grad
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, grader, passed_within,
                              random_array, scalar_answer)

TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
CASES = ((6, 4, 70), (3, 5, 80))  # (B, J, seed): B != J in both
STORED = StoredValues("ch06_vae")
xp = backend.array_module_for("cpu")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch06_vae.py).
MISTAKES = {
    "gaussian_kl": {
        "log_std": "log_var was treated as a log standard deviation: it is the log of the variance",
        "no_half": "the factor 1/2 is missing",
        "negated": "the sign is wrong: the KL is never negative",
        "log_var_sign": "the sign of the log_var term is wrong: it is -log_var (from -log of the standard deviation)",
        "mu_sign": "the sign of the mu^2 term is wrong",
        "mean_over_latent": "you averaged over the latent dimensions: sum over them (the KL of independent "
                            "dimensions adds up), average over the batch",
        "sum_over_batch": "you summed over the batch: average over it (divide by B)",
        "divided_by_latent": "you divided by the number of latent dimensions J instead of the batch size B",
    },
    "reparameterize": {
        "variance_as_std": "exp(log_var) is the variance, not the standard deviation: the factor 0.5 is missing",
        "log_std_twice": "log_var was treated as a log standard deviation with a factor 2",
        "log_var_as_std": "log_var is not the standard deviation",
        "no_exp": "the exponential is missing",
        "exponent_sign": "the sign in the exponent is wrong",
        "no_eps": "eps is missing: z is a draw, mu moved by std times eps",
        "swapped": "mu and std are swapped",
    },
    "gaussian_kl_grad": {
        "no_batch_mean": "every entry is B times too large: the KL is a mean over the batch, so both "
                         "derivatives carry 1/B",
        "no_half": "dKL/dlog_var is missing its factor 1/2",
        "no_minus_one": "dKL/dlog_var is missing the -1 that comes from the -log_var term",
        "log_std": "log_var was treated as a log standard deviation: the variance is exp(log_var)",
        "mu_twice": "dKL/dmu is twice too large",
        "negated": "the signs are wrong: the KL grows as mu moves away from 0",
        "swapped": "the two derivatives are swapped: return (dKL/dmu, dKL/dlog_var)",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def gaussians(case, offset=0):
    """mu (B, J) standard normal and log_var (B, J) uniform in [-3, 2) for case ``case``."""
    batch, latent, seed = CASES[case]
    return (random_array((batch, latent), seed + offset),
            random_array((batch, latent), seed + offset + 1, -3.0, 2.0))


def kl_inputs(case):
    return gaussians(case)


def reparameterize_inputs(case):
    """(mu, log_var, eps), each (B, J)."""
    batch, latent, seed = CASES[case]
    return (*gaussians(case, 5), random_array((batch, latent), seed + 7))


def kl_grad_inputs(case):
    return gaussians(case, 10)


# --- exercise 1: the closed-form KL ------------------------------------------------------

@grader("gaussian_kl", forbidden=(F.gaussian_kl,))
def grade_gaussian_kl(gaussian_kl):
    worst = 0.0
    for case in range(len(CASES)):
        mu, log_var = kl_inputs(case)
        got = scalar_answer(gaussian_kl(Tensor(mu), Tensor(log_var)),
                            ": sum over the latent dimensions, then average over the batch")
        worst = max(worst, STORED.check(got, "gaussian_kl", case, MISTAKES["gaussian_kl"], TOL,
                                        f"your KL (B={mu.shape[0]}, J={mu.shape[1]})"))
        check_gradients(gaussian_kl, [Tensor(mu), Tensor(log_var)], names=["mu", "log_var"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"


# --- exercise 2: the reparameterization ----------------------------------------------------

@grader("reparameterize", forbidden=(F.reparameterize,))
def grade_reparameterize(reparameterize):
    worst = 0.0
    for case in range(len(CASES)):
        mu, log_var, eps = reparameterize_inputs(case)
        out = reparameterize(Tensor(mu), Tensor(log_var), Tensor(eps))
        if not isinstance(out, Tensor):
            raise Mismatch(f"return a Tensor built with nanoae operations (the gradient must flow into mu and "
                           f"log_var), got {type(out).__name__}")
        worst = max(worst, STORED.check(as_numpy(out), "reparameterize", case, MISTAKES["reparameterize"], TOL,
                                        f"your z (B={mu.shape[0]}, J={mu.shape[1]})"))
        eps_fixed = Tensor(eps)                                          # held fixed: not an input of gradcheck
        check_gradients(lambda m, v: reparameterize(m, v, eps_fixed), [Tensor(mu), Tensor(log_var)],
                        names=["mu", "log_var"])
    return passed_within(worst, TOL) + "; gradients into mu and log_var match finite differences (eps fixed)"


# --- exercise 3: the KL's gradient, by hand -------------------------------------------------

@grader("gaussian_kl_grad", forbidden=(Tensor.backward, grad))
def grade_gaussian_kl_grad(gaussian_kl_grad):
    worst = 0.0
    for case in range(len(CASES)):
        mu, log_var = kl_grad_inputs(case)
        answer = gaussian_kl_grad(mu.copy(), log_var.copy())
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            raise Mismatch("return a pair (dKL/dmu, dKL/dlog_var)")
        for name, value in zip(("dKL/dmu", "dKL/dlog_var"), answer):
            if as_numpy(value).shape != mu.shape:
                raise Mismatch(f"return {name} with the shape of mu, {mu.shape}; got {as_numpy(value).shape}")
        both = xp.concatenate([as_numpy(answer[0]).reshape(-1), as_numpy(answer[1]).reshape(-1)])
        worst = max(worst, STORED.check(both, "gaussian_kl_grad", case, MISTAKES["gaussian_kl_grad"], TOL,
                                        f"your (dKL/dmu, dKL/dlog_var) flattened (B={mu.shape[0]}, "
                                        f"J={mu.shape[1]})"))
    return passed_within(worst, TOL) + " for both derivatives"
