"""Gradient checking: compare the gradients backward computes with finite differences.

For a function f and a random upstream gradient g, the scalar

    L(x) = sum(f(x) * g)

has dL/dx = (what backward returns when given g). Central differences give
the same number independently:

    dL/dx_j  ~  (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)

with an error of order eps^2. Everything is recomputed in float64 so that eps
can be small. The upstream gradient is random, never all ones: with ones, a
backward that forgets to multiply by its upstream gradient would still pass.

Small inputs are checked element by element. For large ones that would take
too long, the check goes along a few random directions v instead:
(L(x + eps v) - L(x - eps v)) / (2 eps) must equal sum(dL/dx * v).
"""
import math

import numpy

from nanoae import backend
from nanoae.autograd import Tensor, grad, no_grad


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree. The message says where and by how much."""


def relative_error(a, b, floor=1e-12):
    """|a - b| / max(floor, |a| + |b|): 0 when equal, 1 when of opposite sign or one is 0."""
    return abs(a - b) / max(floor, abs(a) + abs(b))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, max_elements=256,
              directions=20, names=None):
    """Check ``fn(*inputs)``'s gradient with respect to every floating-point input.

    ``fn`` returns a Tensor (or a tuple of them) computed from its inputs with
    nanoae ops; anything else (a NumPy array, a number) is a TypeError.
    Returns True, or raises :class:`GradcheckError` naming the input, the
    worst element (or random direction), both values and their relative
    error. A value passes when ``|analytic - numerical| <= atol + rtol * |numerical|``.
    """
    rng = numpy.random.default_rng(seed)
    xs = [_float64_leaf(x) for x in inputs]
    checked = [i for i, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    names = names or [f"input {i}" for i in range(len(xs))]

    outputs = _tensors_returned(fn(*xs))
    upstream = [Tensor(backend.to_device(rng.standard_normal(y.shape), y.device)) for y in outputs]
    if not any(y.requires_grad for y in outputs):
        raise GradcheckError("gradcheck: the output does not depend on any input (no graph was recorded)")

    def objective():
        with no_grad():
            return float(sum((y.data * g.data).sum() for y, g in zip(_as_tuple(fn(*xs)), upstream)))

    analytic = _analytic(outputs, upstream, [xs[i] for i in checked])
    for i, ga in zip(checked, analytic):
        x = xs[i]
        if ga is not None and ga.is_sparse:
            ga = ga.to_dense()  # a row-sparse gradient is checked as the dense array it stands for
        ga = backend.to_numpy(x.xp.zeros(x.shape) if ga is None else ga.data).reshape(-1)
        if x.size <= max_elements:
            numeric = [_central_difference(objective, x, _unit(x, j), eps) for j in range(x.size)]
            where = [numpy.unravel_index(j, x.shape) if x.ndim else () for j in range(x.size)]
            pairs = list(zip(ga, numeric, where))
        else:
            pairs = []
            for k in range(directions):
                v = rng.standard_normal(x.shape)
                v /= numpy.linalg.norm(v)
                numeric = _central_difference(objective, x, backend.to_device(v, x.device), eps)
                pairs.append((float(ga @ v.reshape(-1)), numeric, f"random direction {k}"))
        _report(names[i], x.shape, pairs, atol, rtol)
    return True


def _float64_leaf(x):
    data = x.data if isinstance(x, Tensor) else backend.asarray(x)
    if data.dtype.kind != "f":
        return Tensor(data)  # integer and boolean inputs are passed through, not checked
    return Tensor(data.astype("float64"), requires_grad=True)  # a fresh copy we may perturb


def _as_tuple(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def _tensors_returned(y):
    """``fn``'s output as a tuple of Tensors; a TypeError if it holds anything else."""
    outputs = _as_tuple(y)
    for out in outputs:
        if not isinstance(out, Tensor):
            got = _type_name(y) if out is y else f"a {_type_name(y)} holding {_type_name(out)}"
            raise TypeError("gradcheck: fn must return a Tensor (or a tuple of Tensors) built from its inputs "
                            f"with nanoae ops, so that backward can run through it; it returned {got}")
    return outputs


def _type_name(x):
    kind = type(x)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _analytic(outputs, upstream, xs):
    if len(outputs) == 1:
        return grad(outputs[0], xs, grad_output=upstream[0])
    total = sum((y * g).sum() for y, g in zip(outputs, upstream) if y.requires_grad)
    return grad(total, xs)


def _unit(x, j):
    e = x.xp.zeros(x.size)
    e[j] = 1.0
    return e.reshape(x.shape)


def _central_difference(objective, x, direction, eps):
    original = x.data.copy()
    try:
        x.data = original + eps * direction
        up = objective()
        x.data = original - eps * direction
        down = objective()
    finally:
        x.data = original
    return (up - down) / (2 * eps)


def _report(name, shape, pairs, atol, rtol):
    worst, worst_excess = None, 0.0
    for analytic, numeric, where in pairs:
        excess = abs(analytic - numeric) / (atol + rtol * abs(numeric))
        if math.isnan(excess):  # a nan or inf on either side is never a pass (nan > x is False)
            excess = math.inf
        if excess > worst_excess:
            worst, worst_excess = (analytic, numeric, where), excess
    if worst_excess > 1:
        analytic, numeric, where = worst
        at = where if isinstance(where, str) else f"index {tuple(int(i) for i in where)}"
        raise GradcheckError(
            f"gradcheck failed for {name} (shape {tuple(shape)}) at {at}: analytic {analytic:.6g}, "
            f"numerical {numeric:.6g}, relative error {relative_error(analytic, numeric):.3g} "
            f"(allowed: |analytic - numerical| <= {atol:g} + {rtol:g} * |numerical|)")
