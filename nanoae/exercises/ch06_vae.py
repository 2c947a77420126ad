"""Graders for chapter 06, the variational autoencoder.

Notation: a batch of B Gaussians q(z | x_b) = N(mu_b, diag(exp(log_var_b))) over
J latent dimensions; ``mu`` and ``log_var`` are (B, J); ``log_var`` is the log of
the VARIANCE, so the standard deviation is exp(log_var / 2). The KL term of the
VAE's loss, summed over the latent dimensions and averaged over the batch:

    KL = 1/B sum_b sum_j 1/2 (mu_bj^2 + exp(log_var_bj) - 1 - log_var_bj)

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``gaussian_kl(mu, log_var)`` | KL above, a scalar Tensor | the general KL of two Gaussians, log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2; gradcheck |
| ``reparameterize(mu, log_var, eps)`` | z = mu + std * eps, a Tensor (B, J) | z built from std = sqrt(exp(log_var)); gradcheck with eps held fixed |
| ``gaussian_kl_grad(mu, log_var)`` | (dKL/dmu, dKL/dlog_var) by hand, each (B, J) | gradcheck: finite differences of KL, random upstream gradient |

Inputs have both signs, log-variances from -3 to 2 (standard deviations from
0.22 to 2.7) and B != J, so that a mean over the wrong axis changes the
answer. When an answer is wrong, the grader also tries the usual mistakes and
names the one the answer matches.
"""
from nanoae import backend
from nanoae.exercises import diagnose, scalar_answer, Mismatch, as_numpy, check_gradients, compare, grader, passed_within, random_array
from nanoae.autograd import Function, Tensor

TOL = 1e-9      # the references are exact closed forms in float64: a right answer agrees to ~1e-15
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64
CASES = ((6, 4, 70), (3, 5, 80))  # (B, J, seed): B != J in both


# --- references and helpers ------------------------------------------------------------

def _gaussians(batch, latent, seed):
    """mu (B, J) standard normal and log_var (B, J) uniform in [-3, 2): both of both signs."""
    return random_array((batch, latent), seed), random_array((batch, latent), seed + 1, -3.0, 2.0)


def _kl_two_gaussians(m1, s1, m2, s2):
    """KL( N(m1, s1^2) || N(m2, s2^2) ) per element, from the standard deviations."""
    return xp.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


# --- exercise 1: the closed-form KL ------------------------------------------------------

@grader("gaussian_kl")
def grade_gaussian_kl(gaussian_kl):
    worst = 0.0
    for batch, latent, seed in CASES:
        mu, log_var = _gaussians(batch, latent, seed)
        std = xp.sqrt(xp.exp(log_var))
        expected = _kl_two_gaussians(mu, std, 0.0, 1.0).sum() / batch
        per_element = 0.5 * (mu ** 2 + xp.exp(log_var) - 1 - log_var)          # the right terms, to build mistakes
        mistakes = [
            ((0.5 * (mu ** 2 + xp.exp(2 * log_var) - 1 - 2 * log_var)).sum() / batch,
             "log_var was treated as a log standard deviation: it is the log of the variance, "
             "so the variance is exp(log_var), not exp(2 log_var)"),
            ((2 * per_element).sum() / batch, "the factor 1/2 is missing: KL = 1/2 (mu^2 + exp(log_var) - 1 - log_var)"),
            (-per_element.sum() / batch, "the sign is wrong: the KL is never negative"),
            ((0.5 * (mu ** 2 + xp.exp(log_var) - 1 + log_var)).sum() / batch,
             "the sign of the log_var term is wrong: it is -log_var (from -log of the standard deviation)"),
            ((0.5 * (-mu ** 2 + xp.exp(log_var) - 1 - log_var)).sum() / batch,
             "the sign of the mu^2 term is wrong: it is +mu^2"),
            (per_element.sum() / (batch * latent), "you averaged over the latent dimensions: sum over them "
                                                   "(the KL of independent dimensions adds up), average over the batch"),
            (per_element.sum(), "you summed over the batch: average over it (divide by B)"),
            (per_element.sum() / latent, "you divided by the number of latent dimensions J instead of the batch size B"),
        ]
        got = scalar_answer(gaussian_kl(Tensor(mu), Tensor(log_var)),
                           ": sum over the latent dimensions, then average over the batch")
        try:
            worst = max(worst, compare(got, xp.reshape(expected, 1), TOL, f"your KL (B={batch}, J={latent})"))
        except Mismatch as mismatch:
            diagnose(got, mistakes, mismatch)
        check_gradients(gaussian_kl, [Tensor(mu), Tensor(log_var)], names=["mu", "log_var"])
    return (passed_within(worst, TOL) + " against the KL of two Gaussians from their standard deviations; "
            "its backward matches finite differences")


# --- exercise 2: the reparameterization ----------------------------------------------------

@grader("reparameterize")
def grade_reparameterize(reparameterize):
    worst = 0.0
    for batch, latent, seed in CASES:
        mu, log_var = _gaussians(batch, latent, seed + 5)
        eps = random_array((batch, latent), seed + 7)
        std = xp.sqrt(xp.exp(log_var))
        out = reparameterize(Tensor(mu), Tensor(log_var), Tensor(eps))
        if not isinstance(out, Tensor):
            raise Mismatch(f"return a Tensor built with nanoae operations (the gradient must flow into mu and "
                           f"log_var), got {type(out).__name__}")
        got = as_numpy(out)
        try:
            worst = max(worst, compare(got, mu + std * eps, TOL, f"your z (B={batch}, J={latent})"))
        except Mismatch as mismatch:
            diagnose(got, [
                (mu + xp.exp(log_var) * eps, "exp(log_var) is the variance, not the standard deviation: "
                                             "the factor 0.5 is missing, std = exp(0.5 * log_var)"),
                (mu + xp.exp(2 * log_var) * eps, "log_var was treated as a log standard deviation with a factor 2: "
                                                 "std = exp(0.5 * log_var)"),
                (mu + log_var * eps, "log_var is not the standard deviation: std = exp(0.5 * log_var)"),
                (mu + 0.5 * log_var * eps, "the exponential is missing: std = exp(0.5 * log_var)"),
                (mu + xp.exp(-0.5 * log_var) * eps, "the sign in the exponent is wrong: std = exp(+0.5 * log_var)"),
                (mu + std, "eps is missing: z = mu + std * eps"),
                (mu * eps + std, "mu and std are swapped: z = mu + std * eps"),
            ], mismatch)
        eps_fixed = Tensor(eps)                                          # held fixed: not an input of gradcheck
        check_gradients(lambda m, v: reparameterize(m, v, eps_fixed), [Tensor(mu), Tensor(log_var)],
                        names=["mu", "log_var"])
    return (passed_within(worst, TOL) + " against mu + sqrt(exp(log_var)) * eps; "
            "gradients into mu and log_var match finite differences (eps fixed)")


# --- exercise 3: the KL's gradient, by hand -------------------------------------------------

class _StudentBackward(Function):
    """KL(mu, log_var) as one op: forward is the reference KL, backward is the student's gradient."""

    def __init__(self, student_fn):
        self.student_fn = student_fn

    def forward(self, mu, log_var):
        return 0.5 * (mu ** 2 + xp.exp(log_var) - 1 - log_var).sum() / len(mu)

    def backward(self, g):
        mu, log_var = (t.data for t in self.inputs)
        g_mu, g_log_var = self.student_fn(mu.copy(), log_var.copy())
        return g * Tensor(as_numpy(g_mu)), g * Tensor(as_numpy(g_log_var))


@grader("gaussian_kl_grad")
def grade_gaussian_kl_grad(gaussian_kl_grad):
    for batch, latent, seed in CASES:
        mu, log_var = _gaussians(batch, latent, seed + 10)
        answer = gaussian_kl_grad(mu.copy(), log_var.copy())
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            raise Mismatch("return a pair (dKL/dmu, dKL/dlog_var)")
        for name, value in zip(("dKL/dmu", "dKL/dlog_var"), answer):
            if as_numpy(value).shape != mu.shape:
                raise Mismatch(f"return {name} with the shape of mu, {mu.shape}; got {as_numpy(value).shape}")
        try:
            check_gradients(lambda m, v: _StudentBackward(gaussian_kl_grad)(m, v), [Tensor(mu), Tensor(log_var)],
                            names=[f"mu (B={batch}, J={latent})", f"log_var (B={batch}, J={latent})"])
        except Mismatch as mismatch:
            got = xp.concatenate([as_numpy(a).reshape(-1) for a in answer])
            right_mu, right_lv = mu / batch, (xp.exp(log_var) - 1) / (2 * batch)

            def pair(g_mu, g_lv):
                return xp.concatenate([g_mu.reshape(-1), g_lv.reshape(-1)])
            diagnose(got, [
                (pair(mu, (xp.exp(log_var) - 1) / 2), "every entry is B times too large: the KL is a mean over "
                                                       "the batch, so both derivatives carry 1/B"),
                (pair(right_mu, (xp.exp(log_var) - 1) / batch), "dKL/dlog_var is missing its factor 1/2: "
                                                                "d/dlog_var 1/2 (exp(log_var) - log_var) = (exp(log_var) - 1) / 2"),
                (pair(right_mu, xp.exp(log_var) / (2 * batch)), "dKL/dlog_var is missing the -1 that comes from "
                                                                "the -log_var term"),
                (pair(right_mu, (xp.exp(2 * log_var) - 1) / batch), "log_var was treated as a log standard "
                                                                    "deviation: the variance is exp(log_var)"),
                (pair(2 * right_mu, right_lv), "dKL/dmu is twice too large: d/dmu 1/2 mu^2 = mu"),
                (pair(-right_mu, -right_lv), "the signs are wrong: the KL grows as mu moves away from 0"),
                (pair(right_lv, right_mu), "the two derivatives are swapped: return (dKL/dmu, dKL/dlog_var)"),
            ], mismatch)
    return "your dKL/dmu and dKL/dlog_var match finite differences of the KL (random upstream gradient, float64)"
