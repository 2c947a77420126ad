"""Graders for chapter 05, the contractive autoencoder.

Notation: a sigmoid encoder layer h = sigmoid(W x + b) with W (K, D), b (K,);
its Jacobian at one input x, J = dh/dx (K, D); a batch x (B, D) and the penalty

    P = 1/B sum_b ||J(x_b)||_F^2 = 1/B sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``sigmoid_jacobian(x, W, b)`` | J at one input x (D,), shape (K, D) | a Jacobian by central finite differences |
| ``contractive_penalty(x, W, b)`` | P for a batch, as a scalar Tensor | the squared Frobenius norms of finite-difference Jacobians; gradcheck of its backward |
| ``contractive_penalty_grad_W(x, W, b)`` | dP/dW by hand, shape (K, D) | gradcheck: finite differences of P, random upstream gradient |

Every input has entries of both signs. One case has K = D, so that an answer
with W transposed, or summed over the wrong axis, still has the right shape
and must be caught by its values. When an answer is wrong, the grader also
tries the usual mistakes and names the one the answer matches.
"""
from nanoae import backend
from nanoae.exercises import diagnose, scalar_answer, Mismatch, as_numpy, check_gradients, compare, grader, passed_within, random_array
from nanoae.autograd import Function, Tensor

TOL = 1e-5      # finite differences with eps = 1e-5 in float64 agree with the exact answer to about 1e-9
EPS = 1e-5
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64
CASES = ((5, 6, 4, 50), (3, 4, 4, 60))  # (B, D, K, seed); the second has K = D


# --- references ----------------------------------------------------------------------

def _sigmoid(a):
    return 1 / (1 + xp.exp(-a))


def _layer(seed, d, k):
    """W (K, D) and b (K,) of a sigmoid layer, standard normal: pre-activations of both signs."""
    return random_array((k, d), seed), random_array((k,), seed + 1)


def _finite_difference_jacobian(x, w, b):
    """dh/dx at one x (D,) by central differences, column i from x +- EPS e_i: (K, D)."""
    steps = EPS * xp.eye(len(x))                             # (D, D), row i is EPS e_i
    up, down = _sigmoid((x + steps) @ w.T + b), _sigmoid((x - steps) @ w.T + b)   # (D, K)
    return ((up - down) / (2 * EPS)).T


# --- exercise 1: the Jacobian of a sigmoid layer -----------------------------------------

@grader("sigmoid_jacobian")
def grade_sigmoid_jacobian(sigmoid_jacobian):
    worst = 0.0
    for _, d, k, seed in CASES:
        w, b = _layer(seed, d, k)
        x = random_array((d,), seed + 2)
        h = _sigmoid(w @ x + b)                               # (K,)
        got = as_numpy(sigmoid_jacobian(x.copy(), w.copy(), b.copy()))
        if got.shape == (d, k) and d != k:
            raise Mismatch(f"your Jacobian has shape {got.shape}, expected (K, D) = {(k, d)}: row j holds "
                           "the derivatives of h_j, column i those with respect to x_i")
        try:
            worst = max(worst, compare(got, _finite_difference_jacobian(x, w, b), TOL,
                                       f"your Jacobian (D={d}, K={k})"))
        except Mismatch as mismatch:
            jacobian = (h * (1 - h))[:, None] * w                # the closed form, to build the mistakes
            diagnose(got, [
                (w, "your Jacobian is W alone: the chain rule also brings the sigmoid's slope, "
                    "J_ji = h_j (1 - h_j) W_ji"),
                (h[:, None] * w, "the sigmoid's slope is h_j (1 - h_j), not h_j"),
                (jacobian.T, "your Jacobian is transposed: row j holds the derivatives of h_j, "
                             "column i those with respect to x_i"),
                ((h * (1 - h))[:, None] * w.T if d == k else None, "the slope is right but W is transposed"),
                (jacobian ** 2, "that is J squared elementwise: J itself is h_j (1 - h_j) W_ji"),
            ], mismatch)
    return passed_within(worst, TOL) + " against a finite-difference Jacobian"


# --- exercise 2: the penalty in closed form --------------------------------------------

@grader("contractive_penalty")
def grade_contractive_penalty(contractive_penalty):
    worst = 0.0
    for batch, d, k, seed in CASES:
        w, b = _layer(seed, d, k)
        x = random_array((batch, d), seed + 3)
        jacobians = [_finite_difference_jacobian(x_b, w, b) for x_b in x]
        expected = sum(float((j * j).sum()) for j in jacobians) / batch
        h = _sigmoid(x @ w.T + b)                             # (B, K)
        slope = h * (1 - h)
        mistakes = [
            ((slope * (w * w).sum(axis=1)).sum() / batch,
             "the slope h (1 - h) must be squared too: J_ji^2 = (h_j (1 - h_j))^2 W_ji^2"),
            ((slope ** 2 * (w * w).sum(axis=0)).sum() / batch if d == k else None,
             "W is summed over the wrong axis: sum_i W_ji^2 is over the inputs i, (W * W).sum(axis=1)"),
            ((slope ** 2 * (w * w).sum(axis=1)).sum(), "you summed over the batch: average it (divide by B)"),
            ((slope ** 2 * (w * w).sum(axis=1)).mean(), "you averaged over the units as well: sum over j, "
                                                        "average over the batch only"),
            ((slope ** 2).sum() * (w * w).sum() / batch, "the sum over j must pair each unit's slope with its "
                                                         "own row of W: sum_j slope_j^2 sum_i W_ji^2"),
        ]
        out = contractive_penalty(Tensor(x), Tensor(w), Tensor(b))
        got = scalar_answer(out)
        try:
            worst = max(worst, compare(got, xp.reshape(expected, 1), TOL,
                                       f"the penalty (B={batch}, D={d}, K={k})"))
        except Mismatch as mismatch:
            diagnose(got, mistakes, mismatch)
        check_gradients(contractive_penalty, [Tensor(x), Tensor(w), Tensor(b)], names=["x", "W", "b"])
    return (passed_within(worst, TOL) + " against ||J||_F^2 of finite-difference Jacobians; "
            "its backward matches finite differences")


# --- exercise 3: the penalty's gradient with respect to W, by hand -------------------------

class _StudentBackward(Function):
    """P(W) as one op: forward is the reference penalty, backward is the student's dP/dW."""

    def __init__(self, student_fn, x, b):
        self.student_fn, self.x, self.b = student_fn, x, b

    def forward(self, w):
        h = _sigmoid(self.x @ w.T + self.b)
        return ((h * (1 - h)) ** 2 * (w * w).sum(axis=1)).sum() / len(self.x)

    def backward(self, g):
        w = self.inputs[0].data
        return g * Tensor(as_numpy(self.student_fn(self.x.copy(), w.copy(), self.b.copy())))


@grader("contractive_penalty_grad_W")
def grade_contractive_penalty_grad_W(contractive_penalty_grad_W):
    for batch, d, k, seed in CASES:
        w, b = _layer(seed + 10, d, k)
        x = random_array((batch, d), seed + 13)
        got = as_numpy(contractive_penalty_grad_W(x.copy(), w.copy(), b.copy()))
        if got.shape != w.shape:
            raise Mismatch(f"return dP/dW with the shape of W, {w.shape}; got {got.shape}")
        try:
            check_gradients(lambda t, x=x, b=b: _StudentBackward(contractive_penalty_grad_W, x, b)(t),
                            [Tensor(w)], names=[f"W (B={batch}, D={d}, K={k})"])
        except Mismatch as mismatch:
            h = _sigmoid(x @ w.T + b)
            slope, norms = h * (1 - h), (w * w).sum(axis=1)        # (B, K), (K,)
            through_h = 2 * (slope ** 2 * (1 - 2 * h) * norms).T @ x / batch
            through_norms = 2 * (slope ** 2).sum(axis=0)[:, None] * w / batch
            diagnose(got, [
                (through_norms, "only the term from sum_i W_ji^2 is there: W also moves h, and with it the "
                                "slope h (1 - h), whose derivative is h (1 - h) (1 - 2h)"),
                (through_h, "the term from sum_i W_ji^2 is missing: it gives 2 W_ji sum_b (h_bj (1 - h_bj))^2 / B"),
                ((through_h + through_norms) * batch, "every entry is B times too large: the penalty is a mean "
                                                      "over the batch"),
                (2 * (slope ** 2 * norms).T @ x / batch + through_norms,
                 "the derivative of the slope is missing its (1 - 2h) factor: "
                 "d/da [sigmoid(a) (1 - sigmoid(a))] = h (1 - h) (1 - 2h)"),
            ], mismatch)
    return "your dP/dW matches finite differences of the penalty (random upstream gradient, float64)"
