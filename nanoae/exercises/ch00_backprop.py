"""Graders for chapter 00, backpropagation by hand.

Notation: one layer a = x W^T + b with x (B, D), W (K, D), b (K,), a (B, K);
a sigmoid h = sigmoid(a); the autoencoder's output logits a2 (B, D) with
x_hat = sigmoid(a2) and the loss, in nats per image,

    L = 1/B sum_b sum_i [ -x_bi ln x_hat_bi - (1 - x_bi) ln(1 - x_hat_bi) ].

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``sigmoid_backward(h, grad_h)`` | dL/da given h and dL/dh | central differences of the sigmoid, random upstream gradient |
| ``bce_logits_grad(a2, x)`` | dL/da2 | gradcheck: finite differences of L |
| ``linear_backward(x, W, grad_a)`` | dL/dx, dL/dW, dL/db given dL/da | gradcheck of the layer, the student's answer as its backward, random upstream gradient |

Inputs have both signs; one linear case is square (B = D = K), so that a
transposed answer or a sum over the wrong axis still has the right shape
and must be caught by its values. When an answer is wrong, the grader also
tries the usual mistakes and names the one the answer matches.
"""
from nanoae import backend
from nanoae.exercises import matches, diagnose, Mismatch, as_numpy, check_gradients, compare, grader, passed_within, random_array
from nanoae.autograd import Function, Tensor

TOL = 1e-6
EPS = 1e-5
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64


def _sigmoid(a):
    return 1 / (1 + xp.exp(-a))


# --- exercise 1: the backward of a sigmoid ---------------------------------------------

@grader("sigmoid_backward")
def grade_sigmoid_backward(sigmoid_backward):
    worst = 0.0
    for shape, seed in (((6, 5), 1), ((3, 8), 2)):
        a = 2 * random_array(shape, seed)                    # pre-activations of both signs
        h = _sigmoid(a)
        grad_h = random_array(shape, seed + 10)              # a random upstream gradient, never all ones
        slope = (_sigmoid(a + EPS) - _sigmoid(a - EPS)) / (2 * EPS)   # dh/da by central differences
        got = as_numpy(sigmoid_backward(h.copy(), grad_h.copy()))
        try:
            worst = max(worst, compare(got, grad_h * slope, TOL, f"your dL/da (shape {shape})"))
        except Mismatch as mismatch:
            diagnose(got, [
                (h * (1 - h), "the upstream gradient dL/dh is missing: dL/da = dL/dh * h (1 - h)"),
                (grad_h * h, "the sigmoid's slope is h (1 - h), not h"),
                (grad_h * _sigmoid(h) * (1 - _sigmoid(h)),
                 "you took the sigmoid of h again: h is already sigmoid(a), so the slope is h (1 - h)"),
                (grad_h * (1 - h * h), "1 - h^2 is the slope of tanh; the sigmoid's is h (1 - h)"),
                (-grad_h * h * (1 - h), "the sign is flipped"),
            ], mismatch)
    return passed_within(worst, TOL) + " against central differences of the sigmoid"


# --- exercise 2: the gradient of the loss with respect to the output logits -----------------

def _bce(a2, x):
    """L for arrays: the BCE of sigmoid(a2) against x, summed over pixels, averaged over the batch."""
    softplus = xp.maximum(a2, 0) + xp.log1p(xp.exp(-abs(a2)))   # ln(1 + e^a2), computed stably
    return (softplus - x * a2).sum() / len(a2)


class _StudentLossBackward(Function):
    """L(a2) as one op: forward is the reference loss, backward is the student's dL/da2."""

    def __init__(self, student_fn, x):
        self.student_fn, self.x = student_fn, x

    def forward(self, a2):
        return _bce(a2, self.x)

    def backward(self, g):
        a2 = self.inputs[0].data
        return g * Tensor(as_numpy(self.student_fn(a2.copy(), self.x.copy())))


@grader("bce_logits_grad")
def grade_bce_logits_grad(bce_logits_grad):
    for batch, d, seed in ((4, 6, 3), (7, 3, 4)):
        a2 = 2 * random_array((batch, d), seed)              # logits of both signs
        x = random_array((batch, d), seed + 1, low=0, high=1)  # pixel intensities in [0, 1]
        got = as_numpy(bce_logits_grad(a2.copy(), x.copy()))
        if got.shape != a2.shape:
            raise Mismatch(f"return dL/da2 with the shape of a2, {a2.shape}; got {got.shape}")
        try:
            check_gradients(lambda t, x=x: _StudentLossBackward(bce_logits_grad, x)(t), [a2],
                            names=[f"a2 (B={batch}, D={d})"])
        except Mismatch as mismatch:
            x_hat = _sigmoid(a2)
            diagnose(got, [
                (x_hat - x, "every entry is B times too large: the loss is a mean over the batch, divide by B"),
                ((x - x_hat) / batch, "the sign is flipped: dL/da2 = (x_hat - x) / B"),
                ((x_hat - x) * x_hat * (1 - x_hat) / batch,
                 "there is an extra factor x_hat (1 - x_hat): with the cross-entropy, the sigmoid's slope "
                 "cancels, dL/da2 = (x_hat - x) / B"),
                ((a2 - x) / batch, "the sigmoid is missing: compare x_hat = sigmoid(a2) with x, not a2"),
                ((x_hat - x) / (batch * d), "you divided by the number of pixels too: the loss sums over "
                                            "pixels and averages over images only"),
            ], mismatch)
    return "your dL/da2 matches finite differences of the loss (float64)"


# --- exercise 3: the backward of a linear layer ------------------------------------------

class _StudentLinear(Function):
    """a = x W^T + b as one op: forward is the reference, backward is the student's."""

    def __init__(self, student_fn):
        self.student_fn = student_fn

    def forward(self, x, w, b):
        return x @ w.T + b

    def backward(self, grad_a):
        x, w, _ = self.inputs
        grads = self.student_fn(x.data.copy(), w.data.copy(), grad_a.data.copy())
        return tuple(Tensor(as_numpy(g)) for g in grads)


LINEAR_CASES = ((5, 7, 3, 30), (4, 4, 4, 40))  # (B, D, K, seed); the second is square


@grader("linear_backward")
def grade_linear_backward(linear_backward):
    for batch, d, k, seed in LINEAR_CASES:
        x, w, b = random_array((batch, d), seed), random_array((k, d), seed + 1), random_array((k,), seed + 2)
        grad_a = random_array((batch, k), seed + 3)          # a random upstream gradient
        answer = linear_backward(x.copy(), w.copy(), grad_a.copy())
        if not isinstance(answer, (tuple, list)) or len(answer) != 3:
            raise Mismatch("return three arrays: grad_x, grad_W, grad_b (in that order)")
        got = [as_numpy(g) for g in answer]
        for name, g, expected in zip(("grad_x", "grad_W", "grad_b"), got, (x.shape, w.shape, b.shape)):
            if g.shape != expected:
                raise Mismatch(f"{name} has shape {g.shape}, expected {expected} (the shape of "
                               f"{name[5:]}) for B={batch}, D={d}, K={k}")
        try:
            check_gradients(lambda *t: _StudentLinear(linear_backward)(*t), [x, w, b],
                            names=[f"x (B={batch}, D={d}, K={k})", "W", "b"])
        except Mismatch as mismatch:
            mistakes = {
                "grad_x": [(grad_a @ w.T if k == d else None, "grad_x uses W transposed: grad_x = grad_a @ W"),
                           (-(grad_a @ w), "grad_x has the wrong sign")],
                "grad_W": [(x.T @ grad_a if k == d else None,
                            "grad_W is transposed: grad_W = grad_a^T @ x has the shape (K, D) of W"),
                           (grad_a.T @ x / batch, "grad_W is divided by B: the batch's gradients add up, "
                                                  "as the loss already holds the 1/B")],
                "grad_b": [(grad_a.mean(axis=0),
                            "grad_b is a mean over the batch: sum it, grad_b = grad_a.sum(axis=0)"),
                           (grad_a.sum(axis=1) if batch == k else None,
                            "grad_b is summed over the wrong axis: over the batch, axis 0")],
            }
            for name, g in zip(("grad_x", "grad_W", "grad_b"), got):
                for wrong, hint in mistakes[name]:
                    if wrong is not None and matches(g, wrong):
                        raise Mismatch(f"{hint} ({mismatch})") from None
            raise
    return "grad_x, grad_W and grad_b match finite differences (random upstream gradient, float64)"
