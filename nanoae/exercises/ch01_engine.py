"""Graders for chapter 01, the engine.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``SiLU(nanoae.Function)`` | an op: forward y = x sigmoid(x) on arrays, backward with tensor ops | the forward against the values stored for these inputs; the backward by gradcheck of the student's own forward (random upstream gradient, float64) |
| ``sum_to(grad, shape)`` | the gradient of a broadcast input: ``grad`` summed down to ``shape`` | the values stored for ten broadcast shapes |

The backward is the student's to write: one that lets the autograd engine
differentiate the forward for it (``Tensor.backward`` or ``nanoae.grad``
inside ``backward``) does not pass, and neither does a ``sum_to`` that calls
the library's own (``nanoae.ops.sum_to``, ``Tensor.sum_to``).

The sum_to cases include square shapes, where summing over the wrong axis
still gives the right shape and must be caught by the values. When an answer
is wrong, the grader names the usual mistake it matches, from the answers
those mistakes give on these inputs (stored in ``values/ch01_engine.npz``).
"""
from nanoae.autograd import Function, Tensor, grad
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, diagnose, grader, passed_within,
                              random_array, watched)
from nanoae.ops import shape as shape_ops

TOL = 1e-6
STORED = StoredValues("ch01_engine")
ENGINE = (Tensor.backward, grad)          # what would differentiate SiLU for the student

SILU_CASES = (((7,), 11), ((3, 4), 12))  # (shape, seed)
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
CASES = range(len(SUM_TO_CASES))  # the stored values' case numbers: SiLU's are the first len(SILU_CASES)

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch01_engine.py).
# SiLU's forward is stored as "SiLU_forward" and the mistakes of its backward as "SiLU_backward".
MISTAKES = {
    "SiLU_backward": {
        "no_upstream": "your backward forgets to multiply by the upstream gradient gy",
        "no_second_term": "the product rule's second term is missing: y = x sigmoid(x) is a product, and both "
                          "factors depend on x",
        "sigmoid_derivative": "that is the sigmoid's derivative alone: y = x sigmoid(x) is a product, "
                              "differentiate it with the product rule",
        "no_first_term": "the product rule's first term, sigmoid(x), is missing",
        "sign_error": "a sign error in the product rule",
    },
    "sum_to": {    # for a sum over wrong axes, the grader adds which axes were right for that case
        "mean": "you averaged: sum instead, each copy of an input entry passes its whole gradient back",
        "axes_0": "you summed over axes (0,) of the gradient",
        "axes_1": "you summed over axes (1,) of the gradient",
        "axes_0_1": "you summed over axes (0, 1) of the gradient",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def SiLU_inputs(case):
    """(x, upstream) of SiLU's case ``case``: x of both signs, past the sigmoid's bend; a random upstream
    gradient, so that a forgotten gy cannot hide."""
    shape, seed = SILU_CASES[case]
    return 3 * random_array(shape, seed), random_array(shape, seed + 20)


def sum_to_inputs(case):
    """(grad, shape): a random gradient of the broadcast result, and the shape of the input."""
    grad_shape, shape = SUM_TO_CASES[case]
    return random_array(grad_shape, 40 + case), shape


# --- exercise 1: SiLU as a Function ------------------------------------------------------

def _op(SiLU):
    """A new instance of the student's op, its forward and backward watched for calls to the engine.

    The grader decorator watches only the call that makes the op; its forward
    and backward run later, inside the engine, so they are watched here.
    """
    op = SiLU()
    if not isinstance(op, Function):
        raise Mismatch("SiLU must be a subclass of nanoae.Function (class SiLU(nanoae.Function): ...)")
    op.forward, op.backward = watched(op.forward, ENGINE), watched(op.backward, ENGINE)
    return op


@grader("SiLU", forbidden=ENGINE)
def grade_SiLU(SiLU):
    worst = 0.0
    for case in range(len(SILU_CASES)):
        x, upstream = SiLU_inputs(case)
        y = _op(SiLU)(Tensor(x.copy(), requires_grad=True))
        worst = max(worst, STORED.check(as_numpy(y), "SiLU_forward", case, {}, TOL,
                                        f"your forward (shape {x.shape})"))

        x_t = Tensor(x.copy(), requires_grad=True)
        y = _op(SiLU)(x_t)
        # Called directly, with grad mode on, as a recorded backward pass (create_graph=True) calls it:
        # the gradient must then be a Tensor built of ops, so that it can be differentiated again.
        gx = y.creator.backward(Tensor(upstream))
        gx = gx[0] if isinstance(gx, tuple) and len(gx) == 1 else gx
        if gx is None:
            raise Mismatch("your backward gave no gradient for x: return dL/dx as a Tensor")
        if not isinstance(gx, Tensor):
            raise Mismatch(f"your backward returned a {type(gx).__name__}: build dL/dx with tensor "
                           "operations on gy, self.inputs[0] and self.output, so that it is a Tensor")
        try:
            check_gradients(lambda t: _op(SiLU)(t), [x], names=["x"])
        except Mismatch as mismatch:
            diagnose(gx, [(wrong, MISTAKES["SiLU_backward"][name])
                          for name, wrong in STORED.mistakes("SiLU_backward", case).items()], mismatch)
    return (passed_within(worst, TOL) + " in the forward; backward matches finite differences "
            "(random upstream gradient, float64)")


# --- exercise 2: sum_to ------------------------------------------------------------------

@grader("sum_to", forbidden=(shape_ops.sum_to, shape_ops.SumTo.forward, shape_ops._sum_to_axes))
def grade_sum_to(sum_to):
    worst = 0.0
    for case in CASES:
        g, shape = sum_to_inputs(case)
        try:
            got = as_numpy(sum_to(g.copy(), shape))
        except (NotImplementedError, Mismatch):
            raise
        except Exception as e:  # say which case broke the student's code
            raise Mismatch(f"for a gradient of shape {g.shape} and shape={shape}, your function raised "
                           f"{type(e).__name__}: {e}") from None
        if got.shape != tuple(shape):
            raise Mismatch(f"for a gradient of shape {g.shape} and shape={shape}, your answer has shape "
                           f"{got.shape}, expected {shape} (the shape of the input that was broadcast)")
        right = tuple(int(axis) for axis in STORED.arrays()[f"sum_to/{case}/axes"])
        hints = {name: hint if name == "mean" else f"{hint}, shape {g.shape}; to get shape {shape} sum over "
                                                   f"axes {right}"
                 for name, hint in MISTAKES["sum_to"].items()}
        worst = max(worst, STORED.check(got.reshape(-1) if got.ndim == 0 else got,    # stored as (1,), not 0-d
                                        "sum_to", case, hints, TOL,
                                        f"your answer (gradient {g.shape} -> {shape})"))
    return passed_within(worst, TOL) + f" on {len(SUM_TO_CASES)} broadcast shapes"
