"""Ops that move elements around without changing them.

reshape, transpose, indexing, concatenate/split, and the pair that
broadcasting rests on: ``broadcast_to`` copies an array along new or size-1
axes, and ``sum_to`` adds it back up. Each is the other's backward.
"""
import math

from nanoae.autograd import Function, ShapeError, Tensor


def _sum_to_axes(shape, target):
    """The axes of ``shape`` to sum over (with keepdims) to get ``target``."""
    lead = len(shape) - len(target)
    if lead < 0 or any(t not in (1, s) for s, t in zip(shape[lead:], target)):
        raise ShapeError(f"sum_to: cannot sum an array of shape {shape} to shape {target}")
    return tuple(range(lead)) + tuple(lead + i for i, t in enumerate(target)
                                      if t == 1 and shape[lead + i] != 1)


def _summed_to(x, shape):
    """The array x summed down to ``shape``."""
    return x.sum(axis=_sum_to_axes(x.shape, shape), keepdims=True).reshape(shape)


class SumTo(Function):
    """y = x summed over the axes that broadcasting added or stretched.   dy/dx = 1 (broadcast back)."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return _summed_to(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


class BroadcastTo(Function):
    """y = x repeated along new or size-1 axes.   dx = gy summed back to x's shape."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return self.xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


class Reshape(Function):
    """y = x with a new shape.   dx = gy reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


class Transpose(Function):
    """y = x with its axes permuted.   dx = gy with the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return transpose(gy)
        inverse = [0] * len(self.axes)
        for i, axis in enumerate(self.axes):
            inverse[axis % len(self.axes)] = i
        return transpose(gy, inverse)


def _is_basic_index(index):
    """Ints, slices, None and ... only: each element is picked at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Function):
    """y = x[index] (slices, integers, integer or boolean arrays).   dx = gy put back at index, zero elsewhere."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        x = self.inputs[0]
        return GetItemBackward(self.index, x.shape)(gy)


class GetItemBackward(Function):
    """dx = zeros with gy added at index (repeated indices add up).   Its own backward picks gy[index] again."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        gx = self.xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            gx[self.index] = gy
        else:
            self.xp.add.at(gx, self.index, gy)  # repeated indices add up (gx[index] += gy would not)
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


class Concatenate(Function):
    """y = the inputs joined along ``axis``.   Each dx is its slice of gy."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        return split(gy, [x.shape[self.axis] for x in self.inputs], axis=self.axis)


class Split(Function):
    """ys = x cut along ``axis`` into pieces of the given sizes.   dx = the gys joined (zeros for unused pieces)."""

    def __init__(self, sizes, axis):
        self.sizes, self.axis = list(sizes), axis

    def forward(self, x):
        if sum(self.sizes) != x.shape[self.axis]:
            raise ValueError(f"sizes {self.sizes} do not add up to {x.shape[self.axis]} (axis {self.axis})")
        cuts = [sum(self.sizes[:i + 1]) for i in range(len(self.sizes) - 1)]
        return tuple(self.xp.split(x, cuts, axis=self.axis))

    def backward(self, *gys):
        x = self.inputs[0]
        pieces = []
        for g, size in zip(gys, self.sizes):
            if g is None:  # this piece was not used: its gradient is zero
                shape = list(x.shape)
                shape[self.axis] = size
                g = Tensor(self.xp.zeros(shape, dtype=x.dtype))
            pieces.append(g)
        return concatenate(pieces, axis=self.axis)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting); no op if it already has it.
    ``x`` may also be an array, as in a backward formula on arrays (``autograd.operands``)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape)(x) if isinstance(x, Tensor) else _summed_to(x, shape)


def broadcast_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else BroadcastTo(shape)(x)


def reshape(x, shape):
    """``x`` with a new shape; one axis may be -1, meaning "whatever size is left"."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape and known and x.size % known == 0:
        shape = tuple(x.size // known if n == -1 else n for n in shape)
    return x if x.shape == shape else Reshape(shape)(x)


def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None), as ``numpy.transpose``."""
    return Transpose(axes)(x)


def swap_last_axes(x):
    """Swap the last two axes: the transpose of each matrix in a batch."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return Transpose(axes)(x)


def getitem(x, index):
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return GetItem(index)(x)


def concatenate(xs, axis=0):
    return Concatenate(axis)(*xs)


def split(x, split_size_or_sizes, axis=0):
    """Cut ``x`` along ``axis``, as ``torch.split``: an int is the size of each piece
    (the last may be smaller), a list gives every piece's size."""
    length = x.shape[axis]
    if isinstance(split_size_or_sizes, int):
        step = split_size_or_sizes
        sizes = [min(step, length - start) for start in range(0, length, step)]
    else:
        sizes = list(split_size_or_sizes)
    return Split(sizes, axis)(x)


def chunk(x, chunks, axis=0):
    """Cut ``x`` into ``chunks`` pieces of equal size (the last may be smaller), as ``torch.chunk``."""
    return split(x, -(-x.shape[axis] // chunks), axis)
