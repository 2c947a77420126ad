"""The dense layers and the modules that go between them.

- ``Linear``: y = x W^T + b, with a choice of initial weights;
- ``Sequential``: modules applied one after another;
- activations (``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``, ``Softplus``,
  ``Identity``) and ``ACTIVATIONS``, the table of them by name that model
  configs use (``activation="relu"``);
- ``Dropout``;
- ``Flatten`` and ``Unflatten``, which reshape between images and rows.
"""
import math

from nanoae import functional as F
from nanoae.autograd import ShapeError
from nanoae.nn.init import kaiming_normal_, kaiming_uniform_, uniform_, xavier_normal_, xavier_uniform_, zeros_
from nanoae.nn.module import Module, Parameter


class Linear(Module):
    """y = x W^T + b for x of shape (B, in_features); W has shape (out_features, in_features).

    ``init`` chooses the initial weights:

    - ``"default"``: PyTorch's: W and b uniform in +-1/sqrt(in_features);
    - ``"xavier_uniform"`` / ``"xavier_normal"``: Glorot, for tanh or sigmoid layers;
    - ``"he_uniform"`` / ``"he_normal"``: Kaiming He's, for ReLU layers.

    Apart from the default, biases start at zero.
    """

    INITS = {"xavier_uniform": xavier_uniform_, "xavier_normal": xavier_normal_,
             "he_uniform": kaiming_uniform_, "he_normal": kaiming_normal_}

    def __init__(self, in_features, out_features, bias=True, init="default", dtype="float32"):
        super().__init__()
        if init != "default" and init not in self.INITS:
            raise ValueError(f"Linear: init must be 'default' or one of {sorted(self.INITS)}, got {init!r}")
        self.in_features, self.out_features = in_features, out_features
        owner = f"Linear({in_features}, {out_features})"
        self.weight = Parameter.empty((out_features, in_features), dtype, owner)
        self.bias = Parameter.empty(out_features, dtype, owner) if bias else None
        if init == "default":
            bound = 1 / math.sqrt(in_features)
            uniform_(self.weight, -bound, bound)
            if bias:
                uniform_(self.bias, -bound, bound)
        else:
            self.INITS[init](self.weight)
            if bias:
                zeros_(self.bias)

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


class TopK(Module):
    """Keeps the k largest entries of each row (the last axis) and zeroes the rest: ``F.topk``.

    The activation of the TopK sparse autoencoder; the gradient flows only
    through the k kept entries (ties: see ``nanoae/ops/sparse.py``).
    """

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return F.topk(x, self.k)

    def extra_repr(self):
        return f"k={self.k}"


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


# The activations by the names model configs use (``activation="relu"``).
ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "leaky_relu": LeakyReLU}
