"""Graders for chapter 05, the contractive autoencoder.

Notation: a sigmoid encoder layer h = sigmoid(W x + b) with W (K, D), b (K,);
its Jacobian at one input x, J = dh/dx (K, D); a batch x (B, D) and the penalty

    P = 1/B sum_b ||J(x_b)||_F^2.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``sigmoid_jacobian(x, W, b)`` | J at one input x (D,), shape (K, D) | a Jacobian of the layer by central finite differences |
| ``contractive_penalty(x, W, b)`` | P for a batch, as a scalar Tensor | the squared Frobenius norms of finite-difference Jacobians; gradcheck of the student's own function |
| ``contractive_penalty_grad_W(x, W, b)`` | dP/dW by hand, shape (K, D) | the values stored for these inputs |

The first two need no reference answer: finite differences of the layer
itself give the Jacobian, and with it the penalty. Each exercise rules out
the library call that would do it: ``ContractiveAutoencoder.jacobian`` and the
autograd engine for the Jacobian, ``ContractiveAutoencoder.jacobian_penalty``
for the penalty, the autograd engine for the gradient by hand.

Every input has entries of both signs. One case has K = D, so that an answer
with W transposed, or summed over the wrong axis, still has the right shape
and must be caught by its values. When an answer is wrong, the grader names
the usual mistake it matches (their answers are stored for these inputs).
"""
from nanoae import backend
from nanoae.autograd import Tensor, grad
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, compare, diagnose, grader,
                              passed_within, random_array, scalar_answer)
from nanoae.models.contractive import ContractiveAutoencoder

FD_TOL = 1e-5   # finite differences with eps = 1e-5 in float64 agree with the exact answer to about 1e-9
TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
EPS = 1e-5
CASES = ((5, 6, 4, 50), (3, 4, 4, 60))  # (B, D, K, seed); the second has K = D
STORED = StoredValues("ch05_contractive")
xp = backend.array_module_for("cpu")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch05_contractive.py).
MISTAKES = {
    "sigmoid_jacobian": {
        "w_alone": "your Jacobian is W alone: the chain rule also brings the sigmoid's slope",
        "h_as_slope": "you used h_j as the sigmoid's slope: the slope is sigmoid'(a_j), not h_j",
        "transposed": "your Jacobian is transposed: row j holds the derivatives of h_j, "
                      "column i those with respect to x_i",
        "w_transposed": "the slope is right but W is transposed",
        "squared": "that is J squared elementwise: the penalty squares the entries of J, J itself does not",
    },
    "contractive_penalty": {
        "slope_not_squared": "the slope h (1 - h) must be squared too: every entry of J carries it once, "
                             "and the penalty squares every entry",
        "w_wrong_axis": "W is summed over the wrong axis: the squares of W are summed over the inputs i, "
                        "along each row",
        "sum_over_batch": "you summed over the batch: average it (divide by B)",
        "mean_over_units": "you averaged over the units as well: sum over j, average over the batch only",
        "sums_apart": "the sum over j must pair each unit's slope with its own row of W, "
                      "not every slope with every row",
    },
    "contractive_penalty_grad_W": {
        "only_through_norms": "only the term from sum_i W_ji^2 is there: W also moves h, and with it "
                              "the slope h (1 - h)",
        "only_through_h": "the term from sum_i W_ji^2 is missing: W is in the row norms too, not only in h",
        "no_batch_mean": "every entry is B times too large: the penalty is a mean over the batch",
        "no_one_minus_two_h": "the derivative of the slope is missing its (1 - 2h) factor",
    },
}


# --- the inputs of each case -------------------------------------------------------------

def layer(case, offset=0):
    """W (K, D) and b (K,) of a sigmoid layer, standard normal: pre-activations of both signs."""
    _, d, k, seed = CASES[case]
    return random_array((k, d), seed + offset), random_array((k,), seed + offset + 1)


def jacobian_inputs(case):
    """(x, W, b): one input x (D,) and the layer."""
    _, d, _, seed = CASES[case]
    return (random_array((d,), seed + 2), *layer(case))


def penalty_inputs(case):
    """(x, W, b): a batch x (B, D) and the layer."""
    batch, d, _, seed = CASES[case]
    return (random_array((batch, d), seed + 3), *layer(case))


def penalty_grad_inputs(case):
    """(x, W, b): a batch x (B, D) and another layer."""
    batch, d, _, seed = CASES[case]
    return (random_array((batch, d), seed + 13), *layer(case, 10))


# --- what the grader compares with: the layer itself, by finite differences -------------------

def _layer_output(x, w, b):
    """h = sigmoid(x W^T + b) for a batch x (N, D): (N, K). The layer, not an exercise."""
    return 1 / (1 + xp.exp(-(x @ w.T + b)))


def _finite_difference_jacobian(x, w, b):
    """dh/dx at one x (D,) by central differences, column i from x +- EPS e_i: (K, D)."""
    steps = EPS * xp.eye(len(x))                             # (D, D), row i is EPS e_i
    up, down = _layer_output(x + steps, w, b), _layer_output(x - steps, w, b)   # (D, K)
    return ((up - down) / (2 * EPS)).T


def _name_the_mistake(got, exercise, case, mismatch):
    """Re-raise ``mismatch``, naming the stored mistake of this case that ``got`` equals, if any."""
    hints = MISTAKES[exercise]
    diagnose(got, [(value, hints[name]) for name, value in STORED.mistakes(exercise, case).items()], mismatch)


# --- exercise 1: the Jacobian of a sigmoid layer -----------------------------------------

@grader("sigmoid_jacobian", forbidden=(ContractiveAutoencoder.jacobian, Tensor.backward, grad))
def grade_sigmoid_jacobian(sigmoid_jacobian):
    worst = 0.0
    for case in range(len(CASES)):
        x, w, b = jacobian_inputs(case)
        d, k = len(x), len(w)
        got = as_numpy(sigmoid_jacobian(x.copy(), w.copy(), b.copy()))
        if got.shape == (d, k) and d != k:
            raise Mismatch(f"your Jacobian has shape {got.shape}, expected (K, D) = {(k, d)}: row j holds "
                           "the derivatives of h_j, column i those with respect to x_i")
        try:
            worst = max(worst, compare(got, _finite_difference_jacobian(x, w, b), FD_TOL,
                                       f"your Jacobian (D={d}, K={k})"))
        except Mismatch as mismatch:
            _name_the_mistake(got, "sigmoid_jacobian", case, mismatch)
    return passed_within(worst, FD_TOL) + " against a finite-difference Jacobian"


# --- exercise 2: the penalty in closed form --------------------------------------------

@grader("contractive_penalty", forbidden=(ContractiveAutoencoder.jacobian_penalty, ContractiveAutoencoder.jacobian))
def grade_contractive_penalty(contractive_penalty):
    worst = 0.0
    for case in range(len(CASES)):
        x, w, b = penalty_inputs(case)
        (batch, d), k = x.shape, len(w)
        jacobians = [_finite_difference_jacobian(x_b, w, b) for x_b in x]
        from_jacobians = sum(float((j * j).sum()) for j in jacobians) / batch
        got = scalar_answer(contractive_penalty(Tensor(x), Tensor(w), Tensor(b)))
        try:
            worst = max(worst, compare(got, xp.reshape(from_jacobians, 1), FD_TOL,
                                       f"the penalty (B={batch}, D={d}, K={k})"))
        except Mismatch as mismatch:
            _name_the_mistake(got, "contractive_penalty", case, mismatch)
        check_gradients(contractive_penalty, [Tensor(x), Tensor(w), Tensor(b)], names=["x", "W", "b"])
    return (passed_within(worst, FD_TOL) + " against ||J||_F^2 of finite-difference Jacobians; "
            "its backward matches finite differences")


# --- exercise 3: the penalty's gradient with respect to W, by hand -------------------------

@grader("contractive_penalty_grad_W", forbidden=(Tensor.backward, grad))
def grade_contractive_penalty_grad_W(contractive_penalty_grad_W):
    worst = 0.0
    for case in range(len(CASES)):
        x, w, b = penalty_grad_inputs(case)
        (batch, d), k = x.shape, len(w)
        got = as_numpy(contractive_penalty_grad_W(x.copy(), w.copy(), b.copy()))
        if got.shape != w.shape:
            raise Mismatch(f"return dP/dW with the shape of W, {w.shape}; got {got.shape}")
        worst = max(worst, STORED.check(got, "contractive_penalty_grad_W", case,
                                        MISTAKES["contractive_penalty_grad_W"], TOL,
                                        f"your dP/dW (B={batch}, D={d}, K={k})"))
    return passed_within(worst, TOL)
