"""Convolutional layers for images (N, C, H, W): Conv2d, ConvTranspose2d, MaxPool2d, Upsample.

Each is a thin Module around the op of the same name in ``nanoae/ops/conv.py``
(``ops/pool.py`` for the last two),
which holds the forward and backward passes; the layer holds the weights and
their PyTorch-style initial values.
"""
import math

from nanoae import functional as F
from nanoae.nn import init
from nanoae.nn.module import Module, Parameter
from nanoae.ops.conv import pair


def _conv_parameters(module, weight_shape, out_channels, fan_in, bias, dtype):
    """PyTorch's default: weight and bias uniform in +-1/sqrt(fan_in), fan_in = channels x kH x kW."""
    owner = f"{type(module).__name__}{weight_shape[:2]}"
    bound = 1 / math.sqrt(fan_in)
    module.weight = init.uniform_(Parameter.empty(weight_shape, dtype, owner), -bound, bound)
    module.bias = init.uniform_(Parameter.empty(out_channels, dtype, owner), -bound, bound) if bias else None


class Conv2d(Module):
    """y = conv2d(x, W) + b: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out),
    H_out = (H + 2 padding - kernel_size) // stride + 1.

    W has shape (out_channels, in_channels, kH, kW). Initial W and b are uniform in
    +-1/sqrt(fan_in) with fan_in = in_channels kH kW, PyTorch's default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, dtype="float32"):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", type(self).__name__, 1)
        self.stride, self.padding = stride, padding
        kh, kw = self.kernel_size
        _conv_parameters(self, (out_channels, in_channels, kh, kw), out_channels, in_channels * kh * kw, bias, dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")


class ConvTranspose2d(Module):
    """The transposed convolution (the adjoint of Conv2d), the decoder's way to make images larger:
    (N, in_channels, H, W) -> (N, out_channels, H_out, W_out),
    H_out = (H - 1) stride - 2 padding + kernel_size + output_padding.

    W has shape (in_channels, out_channels, kH, kW), as in PyTorch. Initial W and b
    are uniform in +-1/sqrt(fan_in) with fan_in = out_channels kH kW (PyTorch reads
    the fan from W's second axis, which here is out_channels).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, bias=True,
                 dtype="float32"):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", type(self).__name__, 1)
        self.stride, self.padding = stride, padding
        self.output_padding = output_padding
        kh, kw = self.kernel_size
        _conv_parameters(self, (in_channels, out_channels, kh, kw), out_channels, out_channels * kh * kw, bias, dtype)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}, bias={self.bias is not None}")


class MaxPool2d(Module):
    """The maximum of each kernel_size window, windows ``stride`` apart (default: kernel_size)."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Upsample(Module):
    """Nearest-neighbour upsampling: each pixel becomes a scale_factor x scale_factor block."""

    def __init__(self, scale_factor=2):
        super().__init__()
        self.scale_factor = scale_factor

    def forward(self, x):
        return F.upsample_nearest(x, self.scale_factor)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode='nearest'"
