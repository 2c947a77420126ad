"""Layers: Module (the base class), Parameter, Linear, Sequential, activations, Dropout,
and convolutional layers (Conv2d, ConvTranspose2d, MaxPool2d, Upsample, Flatten, Unflatten).

A Module finds its parameters by itself: assigning a Parameter or another
Module to an attribute registers it, so ``parameters()``, ``zero_grad()``,
``state_dict()`` and ``to()`` reach every weight of every sub-module::

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(784, 400)   # registered as "hidden"
            self.code = nn.Linear(400, 20)      # registered as "code"

        def forward(self, x):                   # x: (B, 784)
            return self.code(F.relu(self.hidden(x)))   # (B, 20)
"""
import math

from nanoae import backend, functional as F
from nanoae import init as weight_init
from nanoae.tensor import ShapeError, Tensor


class Parameter(Tensor):
    """A tensor that is a weight of a Module: it requires a gradient and is registered."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter(" + super().__repr__() + ")"


class Module:
    """Base class of every layer and model. Subclasses write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        registers = isinstance(value, (Parameter, Module))
        if registers and "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning parameters or sub-modules (while setting {name!r})")
        if "_parameters" in self.__dict__:
            # Forget what was registered under this name before, so that
            # ``layer.bias = None`` really removes the bias from parameters().
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        if registers:
            (self._parameters if isinstance(value, Parameter) else self._modules)[name] = value
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Python calls this only when the normal lookup fails. For these three
        # names the cause is a subclass whose __init__ skipped super().__init__().
        if name in ("_parameters", "_modules", "training"):
            raise AttributeError(f"{type(self).__name__} has no {name!r}: its __init__ must call "
                                 "super().__init__() first")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # --- what is inside -----------------------------------------------------------
    def named_parameters(self, prefix=""):
        """("encoder.hidden.weight", Parameter) for every parameter, sub-modules included."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def children(self):
        return list(self._modules.values())

    def modules(self):
        """This module and all modules inside it, depth first."""
        yield self
        for m in self._modules.values():
            yield from m.modules()

    # --- modes and gradients --------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active). ``eval()`` is ``train(False)``."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        """Forget the accumulated gradients (backward adds to ``.grad``, it does not overwrite)."""
        for p in self.parameters():
            p.grad = None

    def to(self, device):
        """Move every parameter to ``"cpu"`` or ``"gpu"`` in place; returns self."""
        for p in self.parameters():
            p.data = backend.to_device(p.data, device)
            if p.grad is not None:
                p.grad = Tensor(backend.to_device(p.grad.data, device))
        return self

    # --- saving -----------------------------------------------------------------------
    def state_dict(self):
        """{parameter name: array}. The arrays are the parameters' own (not copies)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into the parameters, in place, keeping their dtype and device.

        Every name and shape is checked first; a mismatch raises an error that
        lists the missing, unexpected and mis-shaped entries, and nothing is
        changed. With ``strict=False`` missing and unexpected names are allowed.
        """
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in state_dict]
        unexpected = [n for n in state_dict if n not in params]
        misshaped = [f"{n}: {tuple(backend.asarray(state_dict[n]).shape)} given, {p.shape} expected"
                     for n, p in params.items()
                     if n in state_dict and tuple(backend.asarray(state_dict[n]).shape) != p.shape]
        problems = [f"{label} {items}" for label, items in
                    (("missing", missing if strict else []), ("unexpected", unexpected if strict else []),
                     ("wrong shape", misshaped)) if items]
        if problems:
            raise ShapeError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for name, p in params.items():
            if name in state_dict:
                p.data[...] = backend.to_device(backend.asarray(state_dict[name]), p.device)

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        inside = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({inside})"
        return f"{type(self).__name__}({inside}\n" + "\n".join(lines) + "\n)"

    def extra_repr(self):
        return ""


class Linear(Module):
    """y = x W^T + b for x of shape (B, in_features); W has shape (out_features, in_features).

    ``init`` chooses the initial weights:

    - ``"default"``: PyTorch's: W and b uniform in +-1/sqrt(in_features);
    - ``"xavier_uniform"`` / ``"xavier_normal"``: Glorot, for tanh or sigmoid layers;
    - ``"he_uniform"`` / ``"he_normal"``: Kaiming He's, for ReLU layers.

    Apart from the default, biases start at zero.
    """

    INITS = {"xavier_uniform": weight_init.xavier_uniform_, "xavier_normal": weight_init.xavier_normal_,
             "he_uniform": weight_init.kaiming_uniform_, "he_normal": weight_init.kaiming_normal_}

    def __init__(self, in_features, out_features, bias=True, init="default", dtype="float32"):
        super().__init__()
        if init != "default" and init not in self.INITS:
            raise ValueError(f"Linear: init must be 'default' or one of {sorted(self.INITS)}, got {init!r}")
        self.in_features, self.out_features = in_features, out_features
        xp = backend.default_array_module()
        self.weight = Parameter(xp.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(xp.zeros(out_features, dtype=dtype)) if bias else None
        if init == "default":
            bound = 1 / math.sqrt(in_features)
            weight_init.uniform_(self.weight, -bound, bound)
            if bias:
                weight_init.uniform_(self.bias, -bound, bound)
        else:
            self.INITS[init](self.weight)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ShapeError(f"Linear({self.in_features}, {self.out_features}): input has shape "
                             f"{x.shape}, its last axis should be {self.in_features}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(784, 400), ReLU(), Linear(400, 20))``."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getitem__(self, i):
        """``seq[0]`` is the first layer; a slice such as ``seq[:2]`` is a Sequential sharing those layers."""
        layers = list(self._modules.values())
        return Sequential(*layers[i]) if isinstance(i, slice) else layers[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Identity(Module):
    def forward(self, x):
        return x


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Softplus(Module):
    def forward(self, x):
        return F.softplus(x)


class Dropout(Module):
    """Zeroes each element with probability p while training; identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


# --- convolutional layers: images (N, C, H, W) --------------------------------------------

def _conv_parameters(module, weight_shape, out_channels, fan_in, bias, dtype):
    """PyTorch's default: weight and bias uniform in +-1/sqrt(fan_in), fan_in = channels x kH x kW."""
    xp = backend.default_array_module()
    bound = 1 / math.sqrt(fan_in)
    module.weight = weight_init.uniform_(Parameter(xp.empty(weight_shape, dtype=dtype)), -bound, bound)
    module.bias = (weight_init.uniform_(Parameter(xp.empty(out_channels, dtype=dtype)), -bound, bound)
                   if bias else None)


def _kernel_pair(kernel_size):
    return tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)


class Conv2d(Module):
    """y = conv2d(x, W) + b: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out),
    H_out = (H + 2 padding - kernel_size) // stride + 1.

    W has shape (out_channels, in_channels, kH, kW). Initial W and b are uniform in
    +-1/sqrt(fan_in) with fan_in = in_channels kH kW, PyTorch's default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, dtype="float32"):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = _kernel_pair(kernel_size), stride, padding
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
        self.kernel_size, self.stride, self.padding = _kernel_pair(kernel_size), stride, padding
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


class Flatten(Module):
    """Join the axes from ``start_dim`` on into one: (N, C, H, W) -> (N, C H W) with start_dim=1."""

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return x.reshape(x.shape[:self.start_dim % x.ndim] + (-1,))

    def extra_repr(self):
        return f"start_dim={self.start_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28) with dim=1, size (1, 28, 28)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        if math.prod(self.unflattened_size) != x.shape[dim]:
            raise ShapeError(f"Unflatten: axis {self.dim} of the input (shape {x.shape}) has {x.shape[dim]} "
                             f"elements, not {math.prod(self.unflattened_size)} = prod{self.unflattened_size}")
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

