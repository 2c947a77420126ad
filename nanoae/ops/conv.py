"""Convolutions: conv2d, conv_transpose2d, and the weight gradient they share (pooling and
upsampling, which reuse im2col, are in ``pool.py``).

Images are (N, C, H, W) as in PyTorch. A 2-D convolution with weight w of
shape (C_out, C_in, kH, kW), stride s and zero padding p is

    y[n, o, a, b] = sum_{c, i, j} w[o, c, i, j] * xpad[n, c, s a + i, s b + j]  (+ bias[o])

with xpad the input padded by p zeros on each side, and H_out = (H + 2p - kH) // s + 1.

**im2col.** Copy every window of the input into a column:
``cols[c, i, j, a, b, n] = xpad[c, s a + i, s b + j, n]``. Then the sum above is
one matrix product for the whole batch, the weight as a (C_out, C_in kH kW)
matrix times the columns as a (C_in kH kW, H_out W_out N) matrix, giving
(C_out, H_out W_out N), which is y with the batch axis moved last. Copying
takes one strided slice per kernel offset (i, j): kH kW slices, each as big as
the output.

**The batch axis goes last**, in the columns and in the padded input xpad
(C, H, W, N), because copying is the slow part and a copy is fast when its
innermost loop is long and contiguous. In memory, one row of xpad[c] is its
pixels one after another, each pixel the N numbers of the batch; the slice for
offset j with stride s = 2 takes every other pixel::

    row s a + i of xpad[c]:  | px j: n = 0..N-1 | px j+1 | px j+2: n = 0..N-1 | px j+3 | ...
    copied to cols[c, i, j, a]:  | b = 0: n = 0..N-1 |       | b = 1: n = 0..N-1 |

so the slice keeps every run of N batch entries whole, whatever the stride and the number of
channels; with the batch first, the innermost run would be the W_out pixels of
one row, s elements apart, only 7 for a 7x7 output. Moving the batch axis costs
one transposing copy of the input, not k^2 of them. The result y is returned as
a view with the axes put back in (N, C, H, W) order, without a copy; a following
conv then reads it batch-last with a plain contiguous copy.

**col2im** goes the other way: it adds each column back onto the window it
came from. Windows overlap when s < k, so elements get several contributions,
which add up. col2im is the adjoint (transpose) of im2col:
<im2col(x), c> = <x, col2im(c)>.

**Three ops, each the others' gradients.** conv2d is linear in x, so its
gradient with respect to x is its adjoint, "conv2d transposed": the
columns W^T dy put back with col2im. That map is itself a useful layer, the
transposed convolution that decoders use to make images larger, so it is an
op of its own, ``conv_transpose2d``. Then

- d conv2d / dx           = conv_transpose2d (with the same weight, stride and padding),
- d conv_transpose2d / dx = conv2d,
- d conv2d / dw  (and d conv_transpose2d / dw) = a correlation of the input with dy,
  :class:`Conv2dWeightGrad`, whose own gradients are conv2d and conv_transpose2d again.

Every backward below is written with these ops, so gradients of gradients work.

The helpers use only the array module ``xp`` (slicing, zeros, matmul), so the
same lines run on NumPy and CuPy.
"""
from nanoae.autograd import Function, ShapeError, Tensor, is_grad_enabled


# --- im2col and col2im --------------------------------------------------------------------------

def pair(value, name, op, minimum):
    """An int or a pair of ints as a pair (for the height and width axes); ``op`` names the caller in errors."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, int) and v >= minimum for v in values):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return values


def _window_slices(kernel, stride, out_size):
    """For each kernel offset (i, j), the slices of the padded input (C, H, W, N) that it meets in every window."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(None), slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))


def im2col(x, kernel, stride, padding, out_size, xp):
    """The windows of x (N, C, H, W) as columns: (C, kH, kW, H_out, W_out, N).

    cols[c, i, j, a, b, n] = xpad[c, s a + i, s b + j, n], one strided slice per (i, j).
    """
    n, c, h, w = x.shape
    (ph, pw), (kh, kw) = padding, kernel
    xpad = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=x.dtype)   # the batch last
    xpad[:, ph:ph + h, pw:pw + w] = x.transpose(1, 2, 3, 0)
    cols = xp.empty((c, kh, kw) + tuple(out_size) + (n,), dtype=x.dtype)
    for i, j, window in _window_slices(kernel, stride, out_size):
        cols[:, i, j] = xpad[window]
    return cols


def col2im(cols, size, stride, padding, xp):
    """Add the columns (C, kH, kW, H_in, W_in, N) back onto their windows: an image (N, C, H, W).

    The adjoint of :func:`im2col`: an element of the image receives the sum of
    every column entry that was copied from it; padding is cut off at the end.
    The image is a view of a (C, H, W, N) array with the batch axis moved first.
    """
    c, kh, kw, hi, wi, n = cols.shape
    (h, w), (ph, pw) = size, padding
    out = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for i, j, window in _window_slices((kh, kw), stride, (hi, wi)):
        out[window] += cols[:, i, j]
    return out[:, ph:ph + h, pw:pw + w].transpose(3, 0, 1, 2)


def batch_last(a, xp):
    """a (N, C, H, W) with its numbers laid out in memory as (C, H, W, N), the order of im2col's
    columns: the same values, a view of that layout (no copy if it is laid out so already).

    A backward pass reads its upstream gradient dy in that order twice, for dx and for dw:
    made once, both read it as a plain contiguous matrix instead of each gathering
    the batch axis from far apart in memory (for chapter 10's first layer, dy is
    (64, 16, 28, 28) and one such gather took 0.7 ms, half a forward and backward).
    """
    t = a.transpose(1, 2, 3, 0)
    return (t if t.flags.c_contiguous else xp.ascontiguousarray(t)).transpose(3, 0, 1, 2)


def product_over_long_axis(a, b, piece=4096):
    """a @ b for a (M, K) and b (K, P) with K far longer than M and P, summed over pieces of K.

    The weight gradient of a conv layer is such a product: (C_out, N H_out W_out)
    times (N H_out W_out, C_in kH kW), K in the tens of thousands, a small matrix
    out. OpenBLAS runs it at a third of its speed: on the 2-core machine of the
    README a (16, 50176) @ (50176, 9) product took 0.58 ms whole, 0.20 ms in
    pieces of 2048 to 6272 (and 0.58 ms again in pieces of 8192 or more): its
    blocking is made for large outputs. Adding up a dozen (M, P) results costs
    next to nothing.

    It is also faster with the longer side of the output first: for M < P this
    computes (b^T a^T)^T, the same numbers as a (P, M) product, transposed back
    (a view; the output is small, so reading it in the other order costs
    nothing). On the same machine a (32, 3136) @ (3136, 144) product, the
    weight gradient of a 16 -> 32 conv layer at batch 64, took 0.31 ms as it
    is and 0.23 ms turned round; when M and P are close, both take the same.
    """
    if a.shape[0] < b.shape[1]:
        return product_over_long_axis(b.T, a.T, piece).T
    k = a.shape[1]
    if k <= 2 * piece:
        return a @ b
    total = a[:, :piece] @ b[:piece]
    for start in range(piece, k, piece):
        total += a[:, start:start + piece] @ b[start:start + piece]
    return total


def _unreached(x_shape, kernel, stride, padding, y_shape):
    """The rows and columns of the padded input that no window of a conv reaches (x -> y).

    (H + 2p - k) // s rounds down, so up to s - 1 rows at the bottom (and
    columns at the right) take no part; conv_transpose2d must add them back as
    ``output_padding`` to map a gradient of y's shape to one of x's.
    """
    return tuple(x_shape[2 + d] + 2 * padding[d] - kernel[d] - (y_shape[2 + d] - 1) * stride[d] for d in range(2))


# --- the ops ----------------------------------------------------------------------------------

class Conv2d(Function):
    """y = conv2d(x, w) + b for x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,): (N, C_out, H_out, W_out).

        y[n, o, a, b] = sum_{c,i,j} w[o, c, i, j] xpad[n, c, s a + i, s b + j] + b[o]

    dx = conv_transpose2d(dy, w)   (the adjoint of the map x -> y, output_padding chosen to give x's size)
    dw[o, c, i, j] = sum_{n,a,b} dy[n, o, a, b] xpad[n, c, s a + i, s b + j]   (Conv2dWeightGrad)
    db[o] = sum_{n,a,b} dy[n, o, a, b]

    The forward pass keeps its columns for dw (until backward frees them, as it
    does every saved array): making them again there cost as much as making
    them here, and they take kH kW / s^2 times the input's memory meanwhile.
    ``columns``, when given, are im2col of x made already by the caller.
    """

    def __init__(self, stride, padding, columns=None):
        self.stride, self.padding, self.columns = stride, padding, columns

    def forward(self, x, weight, bias=None):
        n, c_out = x.shape[0], weight.shape[0]
        out_size = conv2d_output_size(x.shape[2:], weight.shape[2:], self.stride, self.padding)
        if self.columns is None:
            self.columns = im2col(x, weight.shape[2:], self.stride, self.padding, out_size, self.xp)
        cols = self.columns                                                              # (C_in, kH, kW, Ho, Wo, N)
        y = weight.reshape(c_out, -1) @ cols.reshape(-1, out_size[0] * out_size[1] * n)  # (C_out, Ho Wo N)
        y = y.reshape((c_out,) + out_size + (n,)).transpose(3, 0, 1, 2)          # (N, C_out, Ho, Wo)
        if bias is not None:
            y += bias.reshape(-1, 1, 1)
        return y

    def backward(self, gy):
        x, weight, *bias = self.inputs
        kernel = weight.shape[2:]
        gx = gw = gb = None
        if not is_grad_enabled():   # dy laid out once for both products (unless this pass is recorded)
            gy = Tensor(batch_last(gy.data, self.xp))
        if x.requires_grad:
            unreached = _unreached(x.shape, kernel, self.stride, self.padding, gy.shape)
            gx = ConvTranspose2d(self.stride, self.padding, unreached)(gy, weight)
        if weight.requires_grad:
            gw = Conv2dWeightGrad(kernel, self.stride, self.padding, self.columns)(x, gy)
        if bias and bias[0].requires_grad:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw, gb) if bias else (gx, gw)


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) + b for x (N, C_in, H, W), w (C_in, C_out, kH, kW), b (C_out,).

    The adjoint of conv2d with the same weight: every input pixel x[n, c, a, b]
    adds the kernel w[c, :, :, :] times itself onto the window of the output at
    (s a - p, s b - p), which is what conv2d's backward does with dy:

        ypad[n, o, s a + i, s b + j] += sum_c x[n, c, a, b] w[c, o, i, j],   y = ypad without its p-borders

    H_out = (H - 1) s - 2p + kH + output_padding; output_padding (< s) adds rows
    at the bottom (and columns at the right) that no window reaches, so that a
    conv2d with stride s, whose output size rounds down, can be undone exactly.

    dx = conv2d(dy, w)   (the adjoint of the adjoint)
    dw[c, o, i, j] = sum_{n,a,b} x[n, c, a, b] dypad[n, o, s a + i, s b + j]   (Conv2dWeightGrad with dy as input)
    db[o] = sum_{n,a,b} dy[n, o, a, b]
    """

    def __init__(self, stride, padding, output_padding):
        self.stride, self.padding, self.output_padding = stride, padding, output_padding

    def forward(self, x, weight, bias=None):
        n, c_in, h, w = x.shape
        _, c_out, kh, kw = weight.shape
        out_size = conv_transpose2d_output_size((h, w), (kh, kw), self.stride, self.padding, self.output_padding)
        x_rows = x.transpose(1, 2, 3, 0).reshape(c_in, h * w * n)                 # (C_in, H W N)
        cols = weight.reshape(c_in, -1).T @ x_rows                                 # (C_out kH kW, H W N)
        y = col2im(cols.reshape(c_out, kh, kw, h, w, n), out_size, self.stride, self.padding, self.xp)
        if bias is not None:
            y += bias.reshape(-1, 1, 1)
        return y

    def backward(self, gy):
        x, weight, *bias = self.inputs
        gx = gw = gb = None
        columns = None   # dx and dw both read the columns of dy: made once, here
        if x.requires_grad or weight.requires_grad:
            columns = im2col(gy.data, weight.shape[2:], self.stride, self.padding, x.shape[2:], self.xp)
        if x.requires_grad:
            gx = Conv2d(self.stride, self.padding, columns)(gy, weight)
        if weight.requires_grad:
            gw = Conv2dWeightGrad(weight.shape[2:], self.stride, self.padding, columns)(gy, x)
        if bias and bias[0].requires_grad:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw, gb) if bias else (gx, gw)


class Conv2dWeightGrad(Function):
    """dw = the gradient of conv2d with respect to its weight, from its input x and output gradient dy:

        dw[o, c, i, j] = sum_{n,a,b} dy[n, o, a, b] xpad[n, c, s a + i, s b + j]   -> (C_out, C_in, kH, kW)

    im2col of x, then one matrix product: dy as (C_out, N H_out W_out) times the
    columns transposed. ``columns``, when given, are im2col of x made already
    (by conv2d's forward pass, or by a backward pass that needs them twice).

    It is linear in x and in dy. For an upstream gradient g shaped like w,
    <dw(x, dy), g> = <dy, conv2d(x, g)> = <x, conv_transpose2d(dy, g)>, so

        d<dw, g>/d(dy) = conv2d(x, g),   d<dw, g>/dx = conv_transpose2d(dy, g).
    """

    def __init__(self, kernel, stride, padding, columns=None):
        self.kernel, self.stride, self.padding, self.columns = tuple(kernel), stride, padding, columns

    def forward(self, x, gy):
        c_in, c_out = x.shape[1], gy.shape[1]
        cols = self.columns
        if cols is None:
            cols = im2col(x, self.kernel, self.stride, self.padding, gy.shape[2:], self.xp)
        cols = cols.reshape(-1, gy.size // c_out)                                # (C_in kH kW, Ho Wo N)
        gy_rows = gy.transpose(1, 2, 3, 0).reshape(c_out, -1)                    # (C_out, Ho Wo N)
        return product_over_long_axis(gy_rows, cols.T).reshape((c_out, c_in) + self.kernel)

    def backward(self, ggw):
        x, gy = self.inputs
        g_x = g_gy = None
        if x.requires_grad:
            unreached = _unreached(x.shape, self.kernel, self.stride, self.padding, gy.shape)
            g_x = ConvTranspose2d(self.stride, self.padding, unreached)(gy, ggw)
        if gy.requires_grad:
            g_gy = Conv2d(self.stride, self.padding)(x, ggw)
        return g_x, g_gy


# --- sizes and checks ---------------------------------------------------------------------------

def conv2d_output_size(size, kernel, stride, padding):
    """(H_out, W_out) = (H + 2p - k) // s + 1 for each axis."""
    return tuple((size[d] + 2 * padding[d] - kernel[d]) // stride[d] + 1 for d in range(2))


def conv_transpose2d_output_size(size, kernel, stride, padding, output_padding):
    """(H_out, W_out) = (H - 1) s - 2p + k + output_padding for each axis."""
    return tuple((size[d] - 1) * stride[d] - 2 * padding[d] + kernel[d] + output_padding[d] for d in range(2))


def check_image(op, x):
    if x.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}")


def _check_weight(op, x, weight, bias, channel_axis, layout):
    if weight.ndim != 4:
        raise ShapeError(f"{op}: weight must be 4-D {layout}, got shape {weight.shape}")
    if weight.shape[channel_axis] != x.shape[1]:
        raise ShapeError(f"{op}: input has {x.shape[1]} channels (shape {x.shape}) but weight of shape "
                         f"{weight.shape} {layout} expects {weight.shape[channel_axis]}")
    c_out = weight.shape[1 - channel_axis]
    if bias is not None and bias.shape != (c_out,):
        raise ShapeError(f"{op}: bias must have shape ({c_out},) for weight of shape {weight.shape}, "
                         f"got {bias.shape}")


def check_fits(op, x, kernel, padding, what="kernel"):
    padded = tuple(x.shape[2 + d] + 2 * padding[d] for d in range(2))
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ShapeError(f"{op}: {what} {kernel} is larger than the padded input {padded} "
                         f"(input shape {x.shape}, padding {padding})")


def _apply(function, x, weight, bias):
    return function(x, weight) if bias is None else function(x, weight, bias)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as in PyTorch) of x (N, C_in, H, W) with weight
    (C_out, C_in, kH, kW) and optional bias (C_out,) -> (N, C_out, H_out, W_out),
    H_out = (H + 2 padding - kH) // stride + 1. ``stride`` and ``padding`` are ints or (h, w) pairs."""
    stride, padding = pair(stride, "stride", "conv2d", 1), pair(padding, "padding", "conv2d", 0)
    check_image("conv2d", x)
    _check_weight("conv2d", x, weight, bias, 1, "(C_out, C_in, kH, kW)")
    check_fits("conv2d", x, weight.shape[2:], padding)
    return _apply(Conv2d(stride, padding), x, weight, bias)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Transposed convolution of x (N, C_in, H, W) with weight (C_in, C_out, kH, kW) and optional
    bias (C_out,) -> (N, C_out, H_out, W_out), H_out = (H - 1) stride - 2 padding + kH + output_padding.
    The adjoint of conv2d (its gradient with respect to the input); with stride s it makes images
    about s times larger. ``output_padding`` must be smaller than ``stride``."""
    op = "conv_transpose2d"
    stride, padding = pair(stride, "stride", op, 1), pair(padding, "padding", op, 0)
    output_padding = pair(output_padding, "output_padding", op, 0)
    if output_padding[0] >= stride[0] or output_padding[1] >= stride[1]:
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than stride {stride}")
    check_image(op, x)
    _check_weight(op, x, weight, bias, 0, "(C_in, C_out, kH, kW)")
    out_size = conv_transpose2d_output_size(x.shape[2:], weight.shape[2:], stride, padding, output_padding)
    if min(out_size) < 1:
        raise ShapeError(f"{op}: input of shape {x.shape} with kernel {weight.shape[2:]}, stride {stride}, "
                         f"padding {padding} gives an empty output {out_size}")
    return _apply(ConvTranspose2d(stride, padding, output_padding), x, weight, bias)
