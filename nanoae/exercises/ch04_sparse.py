"""Graders for chapter 04, the sparse autoencoder.

Notation: a batch of codes h (B, K) with values in (0, 1), the mean activation
of unit j over the batch rho_hat_j = 1/B sum_b h_bj, a target rho in (0, 1),
and the penalty

    P = sum_j KL(rho || rho_hat_j),
    KL(rho || q) = rho ln(rho / q) + (1 - rho) ln((1 - rho) / (1 - q)).

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``sparsity_kl(h, rho)`` | P, as a scalar Tensor | the closed form in float64, then gradcheck of its backward |
| ``sparsity_grad_preactivation(a, rho)`` | dP/da for h = sigmoid(a) | gradcheck: finite differences, random upstream gradient |

When an answer is wrong, the grader also tries the usual mistakes (the KL's
arguments swapped, the (1 - rho) term left out, no mean over the batch, ...)
and names the one that the answer matches.
"""
from nanoae import backend
from nanoae.exercises import diagnose, scalar_answer, Mismatch, as_numpy, check_gradients, compare, grader, passed_within, random_array
from nanoae.autograd import Function, Tensor

TOL = 1e-6
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64
CASES = ((7, 5, 0.05, 10), (4, 3, 0.2, 20))  # (B, K, rho, seed): rho_hat lands on both sides of rho


# --- references, and the mistakes the graders recognise ------------------------------

def _sigmoid(a):
    return 1 / (1 + xp.exp(-a))


def _kl(rho, q):
    """KL(rho || q) elementwise, for arrays q in (0, 1)."""
    return rho * xp.log(rho / q) + (1 - rho) * xp.log((1 - rho) / (1 - q))


def _preactivations(batch, units, seed):
    """(B, K) of both signs, unit j shifted by an offset from -4 to 1: some units are mostly off
    (rho_hat_j below rho), others mostly on, so dKL/drho_hat_j takes both signs."""
    return random_array((batch, units), seed) + xp.linspace(-4, 1, units)


def _codes(batch, units, seed):
    """Codes in (0, 1) as a sigmoid encoder makes them."""
    return _sigmoid(_preactivations(batch, units, seed))


# --- exercise 1: the penalty -----------------------------------------------------------

@grader("sparsity_kl")
def grade_sparsity_kl(sparsity_kl):
    worst = 0.0
    for batch, units, rho, seed in CASES:
        h = _codes(batch, units, seed)
        rho_hat = h.mean(axis=0)                              # (K,)
        expected = _kl(rho, rho_hat).sum()
        mistakes = [
            (_kl(rho_hat, rho).sum(), "this is sum_j KL(rho_hat_j || rho): the arguments are swapped; "
                                      "the target rho comes first, KL(rho || rho_hat_j)"),
            ((rho * xp.log(rho / rho_hat)).sum(), "the (1 - rho) ln((1 - rho) / (1 - rho_hat_j)) term is missing"),
            (_kl(rho, h).sum(), "you took the KL of every h_bj: first average each unit over the batch, "
                                "rho_hat_j = h[:, j].mean(), then take KL(rho || rho_hat_j)"),
            (_kl(rho, h).sum() / batch, "you averaged the KL of every h_bj over the batch: average the "
                                        "activations first (rho_hat_j = h[:, j].mean()), then take the KL"),
            (_kl(rho, rho_hat).mean(), "you averaged over the units: the penalty is the SUM over units j"),
            (_kl(rho, h.mean(axis=1)).sum(), "you averaged over the wrong axis: rho_hat_j is the mean of unit j "
                                             "over the batch, h.mean(axis=0)"),
        ]
        out = sparsity_kl(Tensor(h), rho)
        got = scalar_answer(out)
        try:
            worst = max(worst, compare(got, xp.reshape(expected, 1), TOL,
                                       f"the penalty (B={batch}, K={units}, rho={rho})"))
        except Mismatch as mismatch:
            diagnose(got, mistakes, mismatch)
        check_gradients(lambda t, rho=rho: sparsity_kl(t, rho), [Tensor(h)], names=["h"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"


# --- exercise 2: through the sigmoid to the pre-activations --------------------------------

class _StudentBackward(Function):
    """The penalty P(a) as one op: forward is the reference, backward is the student's dP/da.

    gradcheck then compares the student's gradient, times a random upstream
    gradient, with central differences of the forward.
    """

    def __init__(self, student_fn, rho):
        self.student_fn, self.rho = student_fn, rho

    def forward(self, a):
        return _kl(self.rho, _sigmoid(a).mean(axis=0)).sum()

    def backward(self, g):
        a = self.inputs[0].data
        return g * Tensor(as_numpy(self.student_fn(a.copy(), self.rho)))


def _reference_grad_a(a, rho):
    h = _sigmoid(a)
    rho_hat = h.mean(axis=0)
    return (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / len(a), h


@grader("sparsity_grad_preactivation")
def grade_sparsity_grad_preactivation(sparsity_grad_preactivation):
    for batch, units, rho, seed in CASES:
        a = _preactivations(batch, units, seed + 100)
        got = as_numpy(sparsity_grad_preactivation(a.copy(), rho))
        if got.shape != a.shape:
            raise Mismatch(f"return dP/da with the shape of a, {a.shape}; got {got.shape}")
        try:
            check_gradients(lambda t, rho=rho: _StudentBackward(sparsity_grad_preactivation, rho)(t),
                            [Tensor(a)], names=[f"a (B={batch}, K={units}, rho={rho})"])
        except Mismatch as mismatch:
            per_unit, h = _reference_grad_a(a, rho)            # dP/drho_hat_j / B, and h
            diagnose(got, [
                (per_unit * len(a) * h * (1 - h), "every entry is B times too large: rho_hat_j is a mean over "
                                                  "the batch, so drho_hat_j/dh_bj = 1/B"),
                (per_unit + 0 * h, "the sigmoid's derivative is missing: dh_bj/da_bj = h_bj (1 - h_bj)"),
                (per_unit * h, "the sigmoid's derivative is h_bj (1 - h_bj), not h_bj"),
                (-per_unit * h * (1 - h), "the sign is flipped"),
            ], mismatch)
    return "your dP/da matches finite differences of the penalty (random upstream gradient, float64)"
