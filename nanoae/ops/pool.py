"""Pooling and upsampling for images (N, C, H, W): max_pool2d and upsample_nearest.

Max pooling reads each window the way a convolution does, so it uses conv's
``im2col`` to lay the windows out as columns and takes the maximum of each.
Nearest upsampling is a broadcast and one reshape: one copy of the output, no loop over pixels.
"""
from nanoae.autograd import Function
from nanoae.ops.conv import check_fits, check_image, conv2d_output_size, im2col, pair
from nanoae.ops.shape import getitem, reshape


class MaxPool2d(Function):
    """y[n, c, a, b] = max over the window x[n, c, s a : s a + k, s b : s b + k] (no padding).

    dy/dx = 1 at the window's maximum, 0 elsewhere. Where several elements of a
    window tie for the maximum, the whole gradient goes to the first of them in
    row-major order (as in PyTorch): the gradient of pooling is a selection.
    An element that is the maximum of several overlapping windows (s < k)
    receives the sum of their gradients.

    The forward pass records where each maximum came from; the backward scatters
    dy there (:class:`MaxPool2dBackward`), whose own gradient gathers from there again.
    """

    def __init__(self, kernel, stride):
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        xp = self.xp
        out_size = conv2d_output_size(x.shape[2:], self.kernel, self.stride, (0, 0))
        windows = im2col(x, self.kernel, self.stride, (0, 0), out_size, xp)      # (C, kH, kW, Ho, Wo, N)
        windows = windows.reshape((x.shape[1], -1) + out_size + (x.shape[0],))   # (C, kH kW, Ho, Wo, N)
        first = windows.argmax(axis=1).transpose(3, 0, 1, 2)                     # first maximum: (N, C, Ho, Wo)
        # Where each maximum is in x: row s a + i and column s b + j for offset (i, j) = divmod(first, kW).
        i, j = first // self.kernel[1], first % self.kernel[1]
        rows = self.stride[0] * xp.arange(out_size[0]).reshape(-1, 1) + i
        cols = self.stride[1] * xp.arange(out_size[1]) + j
        n, c = xp.arange(x.shape[0]).reshape(-1, 1, 1, 1), xp.arange(x.shape[1]).reshape(-1, 1, 1)
        self.index = (n, c, rows, cols)                     # broadcast together: (N, C, Ho, Wo) positions
        return x[self.index]

    def backward(self, gy):
        overlapping = self.stride[0] < self.kernel[0] or self.stride[1] < self.kernel[1]
        return MaxPool2dBackward(self.index, self.inputs[0].shape, overlapping)(gy)


class MaxPool2dBackward(Function):
    """dx = zeros with each dy added at the position of its window's maximum (overlaps add up).

    Linear in dy; its adjoint, and so its backward, reads ggx at those positions again.
    """

    def __init__(self, index, shape, overlapping):
        self.index, self.shape, self.overlapping = index, shape, overlapping

    def forward(self, gy):
        gx = self.xp.zeros(self.shape, dtype=gy.dtype)
        if self.overlapping:
            self.xp.add.at(gx, self.index, gy)  # a maximum shared by several windows gets every share
        else:
            gx[self.index] = gy  # each position is the maximum of one window at most
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


class UpsampleNearest(Function):
    """y = x with each pixel repeated into an f x f block: y[n, c, f a + i, f b + j] = x[n, c, a, b].

    dx[n, c, a, b] = sum of dy over the block of (a, b), i.e. dy reshaped to
    (N, C, H, f, W, f) and summed over both f axes.
    """

    def __init__(self, scale):
        self.scale = scale

    def forward(self, x):
        n, c, h, w = x.shape
        f = self.scale
        blocks = self.xp.broadcast_to(x.reshape(n, c, h, 1, w, 1), (n, c, h, f, w, f))
        return blocks.reshape(n, c, h * f, w * f)

    def backward(self, gy):
        n, c, h, w = self.inputs[0].shape
        f = self.scale
        return reshape(gy, (n, c, h, f, w, f)).sum(axis=(3, 5))


def max_pool2d(x, kernel_size, stride=None):
    """The maximum of each kernel_size window of x (N, C, H, W), windows ``stride`` apart
    (default: kernel_size, so they do not overlap); no padding. H_out = (H - k) // stride + 1."""
    kernel = pair(kernel_size, "kernel_size", "max_pool2d", 1)
    stride = kernel if stride is None else pair(stride, "stride", "max_pool2d", 1)
    check_image("max_pool2d", x)
    check_fits("max_pool2d", x, kernel, (0, 0), what="kernel_size")
    return MaxPool2d(kernel, stride)(x)


def upsample_nearest(x, scale_factor):
    """x (N, C, H, W) -> (N, C, f H, f W), each pixel repeated into an f x f block (f an int >= 1)."""
    if not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"upsample_nearest: scale_factor must be an int >= 1, got {scale_factor!r}")
    check_image("upsample_nearest", x)
    return UpsampleNearest(scale_factor)(x)
