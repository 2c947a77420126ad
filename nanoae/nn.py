"""Layers: Module (the base class), Parameter, Linear, Sequential, activations, Dropout,
convolutional layers (Conv2d, ConvTranspose2d, MaxPool2d, Upsample, Flatten, Unflatten),
recurrent layers (GRUCell, LSTMCell, GRU over a sequence) and Embedding.

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
from nanoae import ops
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


# --- recurrent layers and embeddings -----------------------------------------------------

def _recurrent_weights(module, input_size, hidden_size, gates, bias, dtype):
    """weight_ih (gates*H, in), weight_hh (gates*H, H) and the two biases, uniform in +-1/sqrt(H) (PyTorch's)."""
    xp = backend.default_array_module()
    bound = 1 / math.sqrt(hidden_size)
    module.weight_ih = Parameter(xp.empty((gates * hidden_size, input_size), dtype=dtype))
    module.weight_hh = Parameter(xp.empty((gates * hidden_size, hidden_size), dtype=dtype))
    module.bias_ih = Parameter(xp.empty(gates * hidden_size, dtype=dtype)) if bias else None
    module.bias_hh = Parameter(xp.empty(gates * hidden_size, dtype=dtype)) if bias else None
    for p in module.parameters():
        weight_init.uniform_(p, -bound, bound)


def _check_step_input(name, x, input_size, state, hidden_size):
    """x must be (N, input_size) and each state tensor (N, hidden_size)."""
    if x.ndim != 2 or x.shape[1] != input_size:
        raise ShapeError(f"{name}: input has shape {x.shape}, expected (N, {input_size})")
    for s in state:
        if s.shape != (x.shape[0], hidden_size):
            raise ShapeError(f"{name}: state has shape {s.shape}, expected (N, hidden_size) = "
                             f"{(x.shape[0], hidden_size)} for an input of shape {x.shape}")


class GRUCell(Module):
    """One step of a gated recurrent unit (Cho et al. 2014), with PyTorch's equations and layout.

    For an input x (N, input_size) and the previous state h (N, H):

        r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          reset gate,  (N, H)
        z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          update gate, (N, H)
        n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))       candidate state, (N, H)
        h' = (1 - z) * n + z * h                             the new state, (N, H)

    ``*`` is element-wise. ``weight_ih`` (3H, input_size) stacks W_ir, W_iz, W_in
    in that order, ``weight_hh`` (3H, H) stacks W_hr, W_hz, W_hn, and likewise the
    biases. z near 1 keeps the old state (the gradient then flows back through
    ``z * h`` almost unchanged, which is how a GRU remembers over many steps);
    z near 0 replaces it by the candidate n. r decides how much of the old state
    the candidate may read. All weights start uniform in +-1/sqrt(H).
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype="float32"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        _recurrent_weights(self, input_size, hidden_size, 3, bias, dtype)

    def forward(self, x, h=None):
        """x (N, input_size), h (N, H) or None (zeros) -> h' (N, H)."""
        if h is None:
            h = Tensor(x.xp.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
        _check_step_input("GRUCell", x, self.input_size, [h], self.hidden_size)
        return self.step(F.linear(x, self.weight_ih, self.bias_ih), h)

    def step(self, x_gates, h):
        """h' from the input's part of the gates, x_gates = W_ih x + b_ih (N, 3H), and h (N, H).

        :class:`GRU` computes x_gates for all time steps with one matrix product
        and calls this at each step.
        """
        h_gates = F.linear(h, self.weight_hh, self.bias_hh)         # (N, 3H)
        x_r, x_z, x_n = ops.split(x_gates, self.hidden_size, axis=1)  # (N, H) each
        h_r, h_z, h_n = ops.split(h_gates, self.hidden_size, axis=1)
        r = F.sigmoid(x_r + h_r)
        z = F.sigmoid(x_z + h_z)
        n = F.tanh(x_n + r * h_n)
        return (1 - z) * n + z * h

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class LSTMCell(Module):
    """One step of a long short-term memory cell (Hochreiter & Schmidhuber 1997), PyTorch's equations.

    For x (N, input_size) and the state (h, c), each (N, H):

        i  = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     input gate
        f  = sigmoid(W_if x + b_if + W_hf h + b_hf)     forget gate
        g  = tanh(W_ig x + b_ig + W_hg h + b_hg)        candidate cell content
        o  = sigmoid(W_io x + b_io + W_ho h + b_ho)     output gate
        c' = f * c + i * g                              the new cell state
        h' = o * tanh(c')                               the new hidden state

    ``weight_ih`` (4H, input_size) and ``weight_hh`` (4H, H) stack the gates in
    the order i, f, g, o. The cell state c is the memory: while f is near 1 and
    i near 0 it is carried from step to step unchanged, and so is its gradient.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype="float32"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        _recurrent_weights(self, input_size, hidden_size, 4, bias, dtype)

    def forward(self, x, state=None):
        """x (N, input_size), state (h, c) or None (zeros) -> (h', c'), each (N, H)."""
        if state is None:
            zeros = x.xp.zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
            state = (Tensor(zeros), Tensor(zeros))
        h, c = state
        _check_step_input("LSTMCell", x, self.input_size, [h, c], self.hidden_size)
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)  # (N, 4H)
        i, f, g, o = ops.split(gates, self.hidden_size, axis=1)                                       # (N, H) each
        c_new = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
        h_new = F.sigmoid(o) * F.tanh(c_new)
        return h_new, c_new

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class GRU(Module):
    """A :class:`GRUCell` run over a batch of sequences, batch first.

    ``gru(x, h0=None, lengths=None)`` with x (N, T, input_size) returns
    ``(outputs, h_last)``: outputs (N, T, H) holds the state after every step,
    h_last (N, H) the state after the last one.

    Sequences of different lengths are padded to T and passed with ``lengths``
    (N,) ints in [0, T]. Sequence n is updated only at steps t < lengths[n]:

        h_t = GRUCell(x_t, h_{t-1})   if t < lengths[n],   else h_{t-1},

    so h_last[n] is the state after its last real step, whatever the padding
    holds, and outputs[n, t] is zero for t >= lengths[n]. The step is chosen
    with ``where``, whose gradient is zero on the side not chosen: padding gets
    no gradient and gives none.

    Backpropagation through time is ordinary backward through the unrolled
    graph of T steps; the engine's backward is iterative, so long sequences
    need no recursion.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype="float32"):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.cell = GRUCell(input_size, hidden_size, bias, dtype)

    def forward(self, x, h0=None, lengths=None):
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ShapeError(f"GRU: input has shape {x.shape}, expected (N, T, {self.input_size}) (batch first)")
        n, steps, hidden = x.shape[0], x.shape[1], self.hidden_size
        h = Tensor(x.xp.zeros((n, hidden), dtype=x.dtype)) if h0 is None else h0
        if h.shape != (n, hidden):
            raise ShapeError(f"GRU: h0 has shape {h.shape}, expected (N, hidden_size) = {(n, hidden)}")
        lengths = None if lengths is None else _check_lengths("GRU", lengths, n, steps)
        run = steps if lengths is None else int(lengths.max(initial=0))  # no step changes anything after that
        # The input's part of every gate at every step, in one matrix product, cut into steps once.
        x_gates = F.linear(x if run == steps else x[:, :run], self.cell.weight_ih, self.cell.bias_ih)  # (N, run, 3H)
        outputs = []
        for t, x_t in enumerate(ops.split(x_gates, 1, axis=1) if run else []):
            h_new = self.cell.step(x_t.reshape(n, 3 * hidden), h)                 # (N, H)
            if lengths is not None and (lengths <= t).any():
                active = Tensor(x.xp.asarray(lengths > t)[:, None])              # (N, 1) bool
                h_new = ops.where(active, h_new, h)
                outputs.append(ops.where(active, h_new, 0.0))
            else:
                outputs.append(h_new)
            h = h_new
        if run < steps:
            outputs.append(Tensor(x.xp.zeros((n, steps - run, hidden), dtype=x.dtype)))
        outputs = [o.reshape(n, 1, hidden) if o.ndim == 2 else o for o in outputs]
        return ops.concatenate(outputs, axis=1), h                                 # (N, T, H), (N, H)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, batch_first=True"


def _check_lengths(name, lengths, n, steps):
    """``lengths`` as a NumPy int array (N,) with values in [0, T], or a clear error."""
    lengths = backend.to_numpy(lengths.data if isinstance(lengths, Tensor) else lengths)
    if lengths.shape != (n,) or lengths.dtype.kind not in "iu":
        raise ShapeError(f"{name}: lengths must be {n} integers (one per sequence), "
                         f"got shape {lengths.shape} and dtype {lengths.dtype}")
    if n and (lengths.min() < 0 or lengths.max() > steps):
        raise ValueError(f"{name}: lengths must be in [0, T] = [0, {steps}], "
                         f"got {int(lengths.min())}..{int(lengths.max())}")
    return lengths


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``: ``emb(indices)`` looks them up.

    For integer indices of any shape (...), the result is ``weight[indices]``
    with shape (..., embedding_dim). It equals one_hot(indices) @ weight, so the
    gradient of a row of ``weight`` is the sum of the upstream gradients of
    every position that picked it (repeated indices add up; rows never picked
    get zero). The weights start standard normal, as in PyTorch.
    """

    def __init__(self, num_embeddings, embedding_dim, dtype="float32"):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        xp = backend.default_array_module()
        self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype=dtype))
        weight_init.normal_(self.weight)

    def forward(self, indices):
        """indices: ints (...), a Tensor or an array -> (..., embedding_dim)."""
        index = backend.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if index.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {index.dtype}")
        if index.size and (int(index.min()) < 0 or int(index.max()) >= self.num_embeddings):
            raise IndexError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): indices must be in "
                             f"[0, {self.num_embeddings}), got {int(index.min())}..{int(index.max())}")
        return self.weight[backend.to_device(index, self.weight.device)]

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
