"""Graders for chapter 00, backpropagation by hand.

Notation: one layer a = x W^T + b with x (B, D), W (K, D), b (K,), a (B, K);
a sigmoid h = sigmoid(a); the autoencoder's output logits a2 (B, D) with
x_hat = sigmoid(a2) and the loss, in nats per image,

    L = 1/B sum_b sum_i [ -x_bi ln x_hat_bi - (1 - x_bi) ln(1 - x_hat_bi) ].

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``sigmoid_backward(h, grad_h)`` | dL/da given h and dL/dh | central differences of the sigmoid, random upstream gradient |
| ``bce_logits_grad(a2, x)`` | dL/da2 | gradcheck: the student's answer as the backward of L, against finite differences of L |
| ``linear_backward(x, W, grad_a)`` | dL/dx, dL/dW, dL/db given dL/da | gradcheck of the layer, the student's answer as its backward, random upstream gradient |

Each check needs only a forward pass that is not itself an exercise (the
sigmoid, the loss, the layer), never the gradient it is checking. The
gradients are the student's to write: an answer that lets the autograd
engine find them (``Tensor.backward``, ``nanoae.grad``) does not pass.

Inputs have both signs; one linear case is square (B = D = K), so that a
transposed answer or a sum over the wrong axis still has the right shape
and must be caught by its values. When an answer is wrong, the grader
names the usual mistake it matches, from the answers those mistakes give
on these inputs (stored in ``values/ch00_backprop.npz``).
"""
from nanoae import backend
from nanoae.autograd import Function, Tensor, grad
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, compare, diagnose, grader,
                              matches, passed_within, random_array)

TOL = 1e-6
EPS = 1e-5
STORED = StoredValues("ch00_backprop")
ENGINE = (Tensor.backward, grad)          # what would find a gradient for the student
xp = backend.array_module_for("cpu")      # the inputs are made on the CPU, in float64

CASES = (  # the inputs of each exercise, case by case: (shape, seed), (B, D, seed), (B, D, K, seed)
    {"sigmoid": ((6, 5), 1), "loss": (4, 6, 3), "linear": (5, 7, 3, 30)},
    {"sigmoid": ((3, 8), 2), "loss": (7, 3, 4), "linear": (4, 4, 4, 40)},   # the linear case is square
)

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch00_backprop.py).
# A mistake of linear_backward is named after the gradient it is in: grad_x_..., grad_W_..., grad_b_...
MISTAKES = {
    "sigmoid_backward": {
        "no_upstream": "the upstream gradient dL/dh is missing: the chain rule multiplies the sigmoid's "
                       "slope by it",
        "slope_h": "the sigmoid's slope is not h: differentiate 1 / (1 + e^-a) and write the result with h",
        "sigmoid_of_h": "you took the sigmoid of h again: h is already sigmoid(a)",
        "tanh_slope": "1 - h^2 is the slope of tanh, not of the sigmoid",
        "negated": "the sign is flipped",
    },
    "bce_logits_grad": {
        "no_batch_mean": "every entry is B times too large: the loss is a mean over the batch, divide by B",
        "negated": "the sign is flipped: the loss falls as x_hat moves towards x",
        "sigmoid_slope": "there is an extra factor x_hat (1 - x_hat): with the cross-entropy, the sigmoid's "
                         "slope cancels",
        "no_sigmoid": "the sigmoid is missing: the reconstruction is x_hat = sigmoid(a2), not a2",
        "mean_over_pixels": "you divided by the number of pixels too: the loss sums over pixels and averages "
                            "over images only",
    },
    "linear_backward": {
        "grad_x_w_transposed": "grad_x uses W transposed (with a square W the shapes cannot tell)",
        "grad_x_negated": "grad_x has the wrong sign",
        "grad_W_transposed": "grad_W is transposed: it must have the shape (K, D) of W, even where K = D",
        "grad_W_divided_by_batch": "grad_W is divided by B: the batch's gradients add up, as the loss already "
                                   "holds the 1/B",
        "grad_b_mean": "grad_b is a mean over the batch: sum it",
        "grad_b_wrong_axis": "grad_b is summed over the wrong axis: over the batch, axis 0",
    },
}


def _sigmoid(a):
    return 1 / (1 + xp.exp(-a))


# --- the inputs of each case (the stored mistakes were computed on these) -----------------------

def sigmoid_backward_inputs(case):
    """(a, grad_h), each (B, K): pre-activations of both signs and a random upstream gradient (never all ones)."""
    shape, seed = CASES[case]["sigmoid"]
    return 2 * random_array(shape, seed), random_array(shape, seed + 10)


def bce_logits_grad_inputs(case):
    """(a2, x), each (B, D): logits of both signs and pixel intensities in [0, 1)."""
    batch, d, seed = CASES[case]["loss"]
    return 2 * random_array((batch, d), seed), random_array((batch, d), seed + 1, low=0, high=1)


def linear_backward_inputs(case):
    """(x (B, D), W (K, D), b (K,), grad_a (B, K)), grad_a a random upstream gradient."""
    batch, d, k, seed = CASES[case]["linear"]
    return (random_array((batch, d), seed), random_array((k, d), seed + 1), random_array((k,), seed + 2),
            random_array((batch, k), seed + 3))


# --- exercise 1: the backward of a sigmoid ---------------------------------------------

@grader("sigmoid_backward", forbidden=ENGINE)
def grade_sigmoid_backward(sigmoid_backward):
    worst = 0.0
    for case in range(len(CASES)):
        a, grad_h = sigmoid_backward_inputs(case)
        h = _sigmoid(a)
        slope = (_sigmoid(a + EPS) - _sigmoid(a - EPS)) / (2 * EPS)   # dh/da by central differences
        got = as_numpy(sigmoid_backward(h.copy(), grad_h.copy()))
        try:
            worst = max(worst, compare(got, grad_h * slope, TOL, f"your dL/da (shape {a.shape})"))
        except Mismatch as mismatch:
            diagnose(got, [(wrong, MISTAKES["sigmoid_backward"][name])
                           for name, wrong in STORED.mistakes("sigmoid_backward", case).items()], mismatch)
    return passed_within(worst, TOL) + " against central differences of the sigmoid"


# --- exercise 2: the gradient of the loss with respect to the output logits -----------------

def _bce(a2, x):
    """L for arrays: the BCE of sigmoid(a2) against x, summed over pixels, averaged over the batch."""
    softplus = xp.maximum(a2, 0) + xp.log1p(xp.exp(-abs(a2)))   # ln(1 + e^a2), computed stably
    return (softplus - x * a2).sum() / len(a2)


class _StudentLossBackward(Function):
    """L(a2) as one op: forward is the loss, backward is the student's dL/da2."""

    def __init__(self, student_fn, x):
        self.student_fn, self.x = student_fn, x

    def forward(self, a2):
        return _bce(a2, self.x)

    def backward(self, g):
        a2 = self.inputs[0].data
        return g * Tensor(as_numpy(self.student_fn(a2.copy(), self.x.copy())))


@grader("bce_logits_grad", forbidden=ENGINE)
def grade_bce_logits_grad(bce_logits_grad):
    for case in range(len(CASES)):
        a2, x = bce_logits_grad_inputs(case)
        batch, d = a2.shape
        got = as_numpy(bce_logits_grad(a2.copy(), x.copy()))
        if got.shape != a2.shape:
            raise Mismatch(f"return dL/da2 with the shape of a2, {a2.shape}; got {got.shape}")
        try:
            check_gradients(lambda t, x=x: _StudentLossBackward(bce_logits_grad, x)(t), [a2],
                            names=[f"a2 (B={batch}, D={d})"])
        except Mismatch as mismatch:
            diagnose(got, [(wrong, MISTAKES["bce_logits_grad"][name])
                           for name, wrong in STORED.mistakes("bce_logits_grad", case).items()], mismatch)
    return "your dL/da2 matches finite differences of the loss (float64)"


# --- exercise 3: the backward of a linear layer ------------------------------------------

class _StudentLinear(Function):
    """a = x W^T + b as one op: forward is the layer, backward is the student's."""

    def __init__(self, student_fn):
        self.student_fn = student_fn

    def forward(self, x, w, b):
        return x @ w.T + b

    def backward(self, grad_a):
        x, w, _ = self.inputs
        grads = self.student_fn(x.data.copy(), w.data.copy(), grad_a.data.copy())
        return tuple(Tensor(as_numpy(g)) for g in grads)


@grader("linear_backward", forbidden=ENGINE)
def grade_linear_backward(linear_backward):
    for case in range(len(CASES)):
        x, w, b, grad_a = linear_backward_inputs(case)
        (batch, d), k = x.shape, len(w)
        answer = linear_backward(x.copy(), w.copy(), grad_a.copy())
        if not isinstance(answer, (tuple, list)) or len(answer) != 3:
            raise Mismatch("return three arrays: grad_x, grad_W, grad_b (in that order)")
        got = dict(zip(("grad_x", "grad_W", "grad_b"), (as_numpy(g) for g in answer)))
        for (name, g), expected in zip(got.items(), (x.shape, w.shape, b.shape)):
            if g.shape != expected:
                raise Mismatch(f"{name} has shape {g.shape}, expected {expected} (the shape of "
                               f"{name[5:]}) for B={batch}, D={d}, K={k}")
        try:
            check_gradients(lambda *t: _StudentLinear(linear_backward)(*t), [x, w, b],
                            names=[f"x (B={batch}, D={d}, K={k})", "W", "b"])
        except Mismatch as mismatch:
            mistakes = STORED.mistakes("linear_backward", case)
            for name, g in got.items():                  # each gradient against the mistakes made in it
                for mistake, wrong in mistakes.items():
                    if mistake.startswith(name + "_") and matches(g, wrong):
                        raise Mismatch(f"{MISTAKES['linear_backward'][mistake]} ({mismatch})") from None
            raise
    return "grad_x, grad_W and grad_b match finite differences (random upstream gradient, float64)"
