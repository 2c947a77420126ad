"""Element-wise functions: each output element depends on one input element.

Where a derivative has a kink (relu, abs, clip, maximum) the docstring says
which value the gradient takes there. Masks and slopes enter backward as
plain tensors outside the graph: their own derivative is zero. A boolean mask
stays boolean, since float * bool keeps the float's dtype.

Formulas made of arithmetic alone take their values through ``operands``:
arrays, unless the backward pass is recorded to be differentiated again (see
``autograd.py``).
"""
from nanoae import backend
from nanoae.autograd import Function, Tensor, operands
from nanoae.ops.shape import sum_to


class Exp(Function):
    """y = e^x.   dy/dx = e^x = y."""

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, gy):
        gy, y = operands(gy, self.output)
        return gy * y


class Log(Function):
    """y = ln x.   dy/dx = 1 / x."""

    def forward(self, x):
        return self.xp.log(x)

    def backward(self, gy):
        gy, x = operands(gy, self.inputs[0])
        return gy / x


class Sqrt(Function):
    """y = sqrt(x).   dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, gy):
        gy, y = operands(gy, self.output)
        return gy / (y * 2)


class Tanh(Function):
    """y = tanh x.   dy/dx = 1 - tanh(x)^2 = 1 - y^2."""

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        gy, y = operands(gy, self.output)
        return gy * (1 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x).   dy/dx = y (1 - y).

    This formula is accurate for every x. For x below about -88 (float32),
    e^-x overflows to inf and y = 1 / inf = 0, which is the right answer to
    float precision; the overflow is expected, so NumPy's warning is silenced.
    """

    def forward(self, x):
        return sigmoid_array(self.xp, x)

    def backward(self, gy):
        gy, y = operands(gy, self.output)
        return gy * y * (1 - y)


def sigmoid_array(xp, x):
    """1 / (1 + e^-x) on an array, NumPy's overflow warning for x < -88 silenced (:class:`Sigmoid`)."""
    with backend.overflow_ignored(xp):
        return 1 / (1 + xp.exp(-x))


class Relu(Function):
    """y = max(x, 0).   dy/dx = 1 for x > 0, else 0 (0 at x = 0)."""

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        gy, x = operands(gy, self.inputs[0])
        return gy * (x > 0)           # a boolean mask (a tensor outside the graph, or an array)


class LeakyRelu(Function):
    """y = x for x > 0, slope * x otherwise.   dy/dx = 1 for x > 0, else slope."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return self.xp.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * Tensor(self.xp.where(x.data > 0, 1, self.slope).astype(x.dtype))


def softplus_array(xp, x):
    """ln(1 + e^x) on an array, as max(x, 0) + ln(1 + e^-|x|): no overflow for
    large x, and no loss of precision for very negative x."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Softplus(Function):
    """y = ln(1 + e^x).   dy/dx = sigmoid(x).   Computed stably by :func:`softplus_array`."""

    def forward(self, x):
        return softplus_array(self.xp, x)

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


class Abs(Function):
    """y = |x|.   dy/dx = sign(x) (0 at x = 0)."""

    def forward(self, x):
        return self.xp.abs(x)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * Tensor(self.xp.sign(x.data))


class Clip(Function):
    """y = x limited to [low, high].   dy/dx = 1 for low <= x <= high, else 0."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        return self.xp.clip(x, self.low, self.high)

    def backward(self, gy):
        x = self.inputs[0].data
        inside = self.xp.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return gy * Tensor(inside)


class Maximum(Function):
    """y = max(a, b) element-wise.   dy/da = 1 where a > b, 0 where a < b, 1/2 at a tie (and dy/db the rest).

    Splitting a tie evenly matches the central difference there.
    """

    def forward(self, a, b):
        return self.xp.maximum(a, b)

    def backward(self, gy):
        a, b = self.inputs
        share_a = Tensor(((a.data > b.data) + 0.5 * (a.data == b.data)).astype(gy.dtype))
        return sum_to(gy * share_a, a.shape), sum_to(gy * (1 - share_a), b.shape)


class Where(Function):
    """y = a where condition, else b.   dy/da = condition, dy/db = not condition."""

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        return self.xp.where(self.condition, a, b)

    def backward(self, gy):
        a, b = self.inputs
        return (sum_to(where(self.condition, gy, 0), a.shape),
                sum_to(where(self.condition, 0, gy), b.shape))


def exp(x): return Exp()(x)
def log(x): return Log()(x)
def sqrt(x): return Sqrt()(x)
def tanh(x): return Tanh()(x)
def sigmoid(x): return Sigmoid()(x)
def relu(x): return Relu()(x)
def leaky_relu(x, negative_slope=0.01): return LeakyRelu(negative_slope)(x)
def softplus(x): return Softplus()(x)
def abs(x): return Abs()(x)
def maximum(a, b): return Maximum()(a, b)


def clip(x, low=None, high=None):
    """Limit ``x`` to ``[low, high]``; either bound may be None."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of low and high")
    return Clip(low, high)(x)


def where(condition, a, b):
    """``a`` where ``condition`` is true, else ``b`` (all three broadcast together)."""
    if isinstance(condition, Tensor):
        condition = condition.data
    return Where(condition)(a, b)
