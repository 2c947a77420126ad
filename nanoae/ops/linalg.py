"""Matrix products: matmul, and linear (x W^T + b), the op inside nn.Linear."""
import math

from nanoae.autograd import Function, operands
from nanoae.ops.shape import sum_to, swap_last_axes


class MatMul(Function):
    """Y = A @ B (batched over leading axes, which broadcast).   dA = dY @ B^T,  dB = A^T @ dY."""

    def forward(self, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError("matmul needs arrays with at least 2 dimensions (use reshape for vectors)")
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy @ swap_last_axes(b), a.shape) if a.requires_grad else None
        gb = sum_to(swap_last_axes(a) @ gy, b.shape) if b.requires_grad else None
        return ga, gb


class Linear(Function):
    """y = x W^T + b, with W of shape (out, in) as in PyTorch.

    dx = dy W,   dW = dy^T x (summed over the batch),   db = dy summed over the batch
    (down to b's own shape, which may be (out,) or (1, out)).
    One op instead of matmul + transpose + add: fewer temporaries, and dW comes
    out as one contiguous matrix.

    For x with more than two axes, e.g. a sequence model's (N, T, in), the
    leading axes are merged into rows first: one (N T, in) @ (in, out) product.
    ``x @ W.T`` on the 3-D array would give the same numbers, but NumPy runs it
    as N separate small products, about twice as slow here (chapter 15's prior:
    (256, 49, 128) @ (128, 512) takes 18 ms that way, 9.5 ms as one product).
    """

    def forward(self, x, weight, bias=None):
        if x.ndim < 2:
            raise ValueError("linear expects a batch: x of shape (N, in_features) or (..., in_features)")
        y = x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) @ weight.T  # (rows, in) @ (in, out) -> (rows, out)
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, gy):
        need_x, need_weight, *need_bias = [t.requires_grad for t in self.inputs]
        g, x, weight = operands(gy, *self.inputs[:2])           # arrays unless create_graph
        g_rows = rows(g)                                        # (rows, out)
        gx = reshaped(g_rows @ weight, x.shape) if need_x else None              # (..., in)
        gw = g_rows.T @ rows(x) if need_weight else None                        # (out, in)
        if not need_bias:
            return gx, gw
        gb = reshaped(g_rows.sum(axis=0), self.inputs[2].shape) if need_bias[0] else None
        return gx, gw, gb


def rows(t):
    """t (a tensor or an array) as a matrix (N, features), N = all leading axes together; a matrix
    is left as it is."""
    return t if t.ndim == 2 else t.reshape(-1, t.shape[-1])


def reshaped(t, shape):
    """t with ``shape``: t itself if it has it (an array's reshape would return a view, which
    backward() copies before storing it as a ``.grad``)."""
    return t if t.shape == shape else t.reshape(shape)


def matmul(a, b):
    return MatMul()(a, b)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` for x of shape (..., in) and weight of shape (out, in)."""
    return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)
