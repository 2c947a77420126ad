"""Graders for chapter 01, the engine.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``SiLU`` | a ``nanoae.Function`` subclass: forward y = x sigmoid(x) on arrays, backward with tensor ops | forward against the closed form; backward by gradcheck (random upstream gradient, float64) |
| ``sum_to(grad, shape)`` | the gradient of a broadcast input: ``grad`` summed down to ``shape`` | the adjoint of broadcasting, built one entry at a time |

The sum_to cases include square shapes, where summing over the wrong axis
still gives the right shape and must be caught by the values. When an answer
is wrong, the grader also tries the usual mistakes and names the one the
answer matches.
"""
import itertools

from nanoae import backend
from nanoae.exercises import matches, Mismatch, as_numpy, check_gradients, compare, grader, passed_within, random_array
from nanoae.autograd import Function, Tensor, grad

TOL = 1e-6
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64


def _sigmoid(a):
    return 1 / (1 + xp.exp(-a))


# --- exercise 1: SiLU as a Function ------------------------------------------------------

SILU_CASES = (((7,), 11), ((3, 4), 12))  # (shape, seed)


@grader("SiLU")
def grade_SiLU(SiLU):
    worst = 0.0
    for shape, seed in SILU_CASES:
        x = 3 * random_array(shape, seed)                    # both signs, past the sigmoid's bend
        op = SiLU()
        if not isinstance(op, Function):
            raise Mismatch("SiLU must be a subclass of nanoae.Function (class SiLU(nanoae.Function): ...)")
        y = op(Tensor(x.copy(), requires_grad=True))
        s = _sigmoid(x)
        worst = max(worst, compare(y, x * s, TOL, f"your forward (shape {shape})"))

        upstream = random_array(shape, seed + 20)            # random, so a forgotten gy cannot hide
        x_t = Tensor(x.copy(), requires_grad=True)
        (gx,) = grad(SiLU()(x_t), [x_t], grad_output=Tensor(upstream))
        if gx is None:
            raise Mismatch("your backward gave no gradient for x: return dL/dx as a Tensor")
        if not isinstance(gx, Tensor):
            raise Mismatch(f"your backward returned a {type(gx).__name__}: build dL/dx with tensor "
                           "operations on gy, self.inputs[0] and self.output, so that it is a Tensor")
        try:
            check_gradients(lambda t: SiLU()(t), [x], names=[f"x (shape {shape})"])
        except Mismatch as mismatch:
            got = as_numpy(gx)
            slope = s * (1 + x * (1 - s))
            for wrong, hint in (
                    (slope, "your backward forgets to multiply by the upstream gradient gy: "
                            "return gy * dy/dx"),
                    (upstream * s, "the product rule's second term is missing: dy/dx = sigmoid(x) + "
                                   "x sigmoid(x) (1 - sigmoid(x))"),
                    (upstream * s * (1 - s), "that is the sigmoid's derivative alone: by the product rule, "
                                             "dy/dx = sigmoid(x) + x sigmoid(x) (1 - sigmoid(x))"),
                    (upstream * x * s * (1 - s), "the product rule's first term, sigmoid(x), is missing"),
                    (upstream * s * (1 - x * (1 - s)), "a sign error in the product rule: "
                                                       "dy/dx = sigmoid(x) (1 + x (1 - sigmoid(x)))")):
                if matches(got, wrong):
                    raise Mismatch(f"{hint} ({mismatch})") from None
            raise
    return (passed_within(worst, TOL) + " in the forward; backward matches finite differences "
            "(random upstream gradient, float64)")


# --- exercise 2: sum_to ------------------------------------------------------------------

SUM_TO_CASES = (  # (shape of the gradient, shape of the input that was broadcast to it)
    ((4, 3), (3,)),
    ((4, 3), (1, 3)),
    ((4, 3), (4, 1)),
    ((3, 3), (3, 1)),          # square: axis 0 and axis 1 give the same shape
    ((3, 3), (1, 3)),
    ((2, 3, 4), (3, 1)),
    ((2, 3, 4), (2, 1, 4)),
    ((3, 2, 3), (3, 1, 1)),
    ((2, 3), ()),              # a scalar broadcast to a matrix
    ((5, 2), (5, 2)),          # nothing was broadcast
)


def _adjoint_of_broadcasting(g, shape):
    """The reference, one entry at a time: entry k of the answer is sum(g * broadcast(e_k)).

    Broadcasting is linear, v -> B v; the gradient of a broadcast input is B^T g, and
    (B^T g)_k = <g, B e_k> for the k-th unit array e_k of the input's shape.
    """
    out = xp.zeros(shape)
    for k in range(out.size):
        e = xp.zeros(shape)
        e.flat[k] = 1.0
        out.flat[k] = (g * xp.broadcast_to(e, g.shape)).sum()
    return out


def _wrong_axes_hint(got, g, shape, right_axes):
    """If ``got`` is ``g`` summed over other axes than ``right_axes``, say so."""
    for n in range(g.ndim + 1):
        for axes in itertools.combinations(range(g.ndim), n):
            if set(axes) == set(right_axes):
                continue
            summed = g.sum(axis=axes)
            if summed.size == got.size and matches(got, summed.reshape(got.shape)):
                return (f"you summed over axes {axes} of the gradient, shape {g.shape}; to get shape "
                        f"{shape} sum over axes {tuple(right_axes)}")
    return None


@grader("sum_to")
def grade_sum_to(sum_to):
    worst = 0.0
    for i, (grad_shape, shape) in enumerate(SUM_TO_CASES):
        g = random_array(grad_shape, 40 + i)
        try:
            got = as_numpy(sum_to(g.copy(), shape))
        except NotImplementedError:
            raise
        except Exception as e:  # say which case broke the student's code
            raise Mismatch(f"for a gradient of shape {grad_shape} and shape={shape}, your function raised "
                           f"{type(e).__name__}: {e}") from None
        expected = _adjoint_of_broadcasting(g, shape)
        if got.shape != expected.shape:
            raise Mismatch(f"for a gradient of shape {grad_shape} and shape={shape}, your answer has shape "
                           f"{got.shape}, expected {shape} (the shape of the input that was broadcast)")
        try:
            worst = max(worst, compare(got.reshape(-1) if got.ndim == 0 else got,      # compare needs an array,
                                       expected.reshape(-1) if got.ndim == 0 else expected,   # not 0-d
                                       TOL, f"your answer (gradient {grad_shape} -> {shape})"))
        except Mismatch as mismatch:
            lead = len(grad_shape) - len(shape)
            right_axes = tuple(range(lead)) + tuple(lead + j for j, n in enumerate(shape)
                                                    if n == 1 and grad_shape[lead + j] != 1)
            if right_axes and matches(got, expected * expected.size / g.size):
                raise Mismatch(f"you averaged: sum instead, each copy of an input entry passes its whole "
                               f"gradient back ({mismatch})") from None
            hint = _wrong_axes_hint(got, g, shape, right_axes)
            if hint:
                raise Mismatch(f"{hint} ({mismatch})") from None
            raise
    return passed_within(worst, TOL) + f" on {len(SUM_TO_CASES)} broadcast shapes"
