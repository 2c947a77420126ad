"""Arithmetic: + - * / negation and powers, broadcasting like NumPy.

When an input was broadcast in the forward pass, its gradient has the
broadcast shape; ``sum_to`` adds it back up to the input's own shape. That one
helper is the whole story of broadcasting in backward.

A gradient is only computed for an input that requires one (``None`` for the
others): with data x and weights w, nothing is spent on d/dx.

The formulas take their values through ``operands``: arrays, unless the
backward pass is recorded to be differentiated again (see ``autograd.py``).
"""
from nanoae.autograd import Function, operands
from nanoae.ops.shape import sum_to


class Add(Function):
    """z = a + b.   dz/da = 1, dz/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, gz):
        a, b = self.inputs
        ga = sum_to(gz, a.shape) if a.requires_grad else None
        gb = sum_to(gz, b.shape) if b.requires_grad else None
        return ga, gb


class Sub(Function):
    """z = a - b.   dz/da = 1, dz/db = -1."""

    def forward(self, a, b):
        return a - b

    def backward(self, gz):
        gz, a, b = operands(gz, *self.inputs)
        ga = sum_to(gz, a.shape) if self.inputs[0].requires_grad else None
        gb = sum_to(-gz, b.shape) if self.inputs[1].requires_grad else None
        return ga, gb


class Mul(Function):
    """z = a * b.   dz/da = b, dz/db = a."""

    def forward(self, a, b):
        return a * b

    def backward(self, gz):
        gz, a, b = operands(gz, *self.inputs)
        ga = sum_to(gz * b, a.shape) if self.inputs[0].requires_grad else None
        gb = sum_to(gz * a, b.shape) if self.inputs[1].requires_grad else None
        return ga, gb


class Div(Function):
    """z = a / b.   dz/da = 1 / b, dz/db = -a / b^2."""

    def forward(self, a, b):
        return a / b

    def backward(self, gz):
        gz, a, b = operands(gz, *self.inputs)
        ga = sum_to(gz / b, a.shape) if self.inputs[0].requires_grad else None
        gb = sum_to(-gz * a / (b * b), b.shape) if self.inputs[1].requires_grad else None
        return ga, gb


# --- a tensor and a Python number ------------------------------------------------------------
# ``x * 0.5``, ``loss / len(x)``, ``x + 1``: the number is kept on the op instead of becoming a
# constant tensor input (PyTorch, too, has mul.Scalar beside mul.Tensor). The graph then has one
# input less to record and check, and backward one gradient less to skip. ``1 - x`` and ``2 / x``
# (the number first, where it is not the same op) go the general way, the number as a tensor.

class WithNumber(Function):
    """The base of the four ops below: a tensor and a Python number c, kept on the op as ``self.c``."""

    def __init__(self, c):
        self.c = c


class AddNumber(WithNumber):
    """z = a + c.   dz/da = 1."""

    def forward(self, a):
        return a + self.c

    def backward(self, gz):
        return gz


class SubNumber(WithNumber):
    """z = a - c.   dz/da = 1."""

    def forward(self, a):
        return a - self.c

    def backward(self, gz):
        return gz


class MulNumber(WithNumber):
    """z = a * c.   dz/da = c."""

    def forward(self, a):
        return a * self.c

    def backward(self, gz):
        (gz,) = operands(gz)
        return gz * self.c


class DivNumber(WithNumber):
    """z = a / c.   dz/da = 1 / c."""

    def forward(self, a):
        return a / self.c

    def backward(self, gz):
        (gz,) = operands(gz)
        return gz / self.c


class Neg(Function):
    """z = -a.   dz/da = -1."""

    def forward(self, a):
        return -a

    def backward(self, gz):
        return -gz


class Pow(Function):
    """z = a^p for a constant number p.   dz/da = p * a^(p-1)."""

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, a):
        return a ** self.exponent

    def backward(self, gz):
        (a,) = self.inputs
        p = self.exponent
        if p == 0:  # a^0 = 1 is constant; 0 * a^(-1) would be nan at a = 0
            return gz * 0
        return gz * p * a ** (p - 1)


def is_number(x):
    """A Python int or float. Not a bool, and not a NumPy scalar such as numpy.float64(2), which
    is a float too but would turn float32 values into float64 ones (NumPy lets a Python number
    take the array's dtype, not a NumPy scalar): those become constant tensors of the right dtype."""
    return type(x) is float or type(x) is int


def _commutative(number_op, op, a, b):
    """op()(a, b), or number_op(c)(x) when one of them is a number c: a + c = c + a, a * c = c * a."""
    if is_number(b):
        return number_op(b)(a)
    return number_op(a)(b) if is_number(a) else op()(a, b)


def add(a, b): return _commutative(AddNumber, Add, a, b)
def mul(a, b): return _commutative(MulNumber, Mul, a, b)


def sub(a, b):
    return SubNumber(b)(a) if is_number(b) else Sub()(a, b)


def div(a, b):
    return DivNumber(b)(a) if is_number(b) else Div()(a, b)


def neg(a): return Neg()(a)


def pow(a, exponent):
    """``a ** exponent`` for a Python number ``exponent`` (use exp/log for tensor exponents)."""
    if not isinstance(exponent, (int, float)):
        raise TypeError(f"pow: the exponent must be a Python number, got {type(exponent).__name__}")
    return Pow(exponent)(a)
