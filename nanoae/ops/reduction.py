"""Reductions: sum, mean, max and logsumexp over all axes or some of them."""
from nanoae.autograd import Function, Tensor
from nanoae.ops.shape import broadcast_to, reshape


def _reduced_axes(shape, axis):
    if axis is None:
        return set(range(len(shape)))
    return {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}


def _kept_shape(shape, axis):
    """``shape`` with the reduced axes set to 1, i.e. the result of keepdims=True."""
    axes = _reduced_axes(shape, axis)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over ``axis``.   dy/dx = 1: each x gets the gradient of the sum it went into."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        if self.axis is not None:  # put the summed axes back as size 1 so that gy broadcasts along them
            gy = reshape(gy, _kept_shape(x.shape, self.axis))
        return broadcast_to(gy, x.shape)


class Max(Function):
    """y = largest x over ``axis``.   dy/dx = 1 at the maximum, 0 elsewhere; k tied maxima get 1/k each."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        x = self.inputs[0]
        kept = _kept_shape(x.shape, self.axis)
        is_max = x.data == self.output.data.reshape(kept)
        share = is_max / is_max.sum(axis=self.axis, keepdims=True)
        return broadcast_to(reshape(gy, kept), x.shape) * Tensor(share.astype(x.dtype))


def sum(x, axis=None, keepdims=False):
    return Sum(axis, keepdims)(x)


def max(x, axis=None, keepdims=False):
    return Max(axis, keepdims)(x)


def mean(x, axis=None, keepdims=False):
    """sum / count, so its gradient is 1/count for every element."""
    total = Sum(axis, keepdims)(x)
    return total * (total.size / x.size)


def logsumexp_shift(xp, data, axis):
    """The shift m of :func:`logsumexp` for an array: the maximum over ``axis`` (kept as a size-1 axis),
    0 where that maximum is infinite."""
    m = data.max(axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def logsumexp(x, axis=None, keepdims=False):
    """ln(sum(e^x)) computed as m + ln(sum(e^(x - m))) with m the maximum, so e^ never overflows.

    The shift m is a constant (detached): the result does not depend on it, so
    no gradient needs to flow through it. The gradient is softmax(x).
    Where the maximum is infinite (a row of -inf) there is nothing to shift by:
    m = 0 there, so a row of -inf gives -inf, as log(0), instead of -inf - -inf = nan.
    """
    m = Tensor(logsumexp_shift(x.xp, x.data, axis))
    y = (x - m).exp().sum(axis=axis, keepdims=True).log() + m
    if keepdims:
        return y
    axes = _reduced_axes(x.shape, axis)
    return reshape(y, tuple(n for i, n in enumerate(x.shape) if i not in axes))
