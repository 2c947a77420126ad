"""Recurrent layers: GRUCell, LSTMCell, and GRU over a batch of sequences.

The cells follow PyTorch's equations and weight layout, so weights carry over
either way; GRU runs a GRUCell over a padded batch with per-sequence lengths.
Their usual first layer, Embedding, is in ``embedding.py``.
"""
import math

from nanoae import backend, functional as F, ops
from nanoae.autograd import ShapeError, Tensor
from nanoae.nn import init
from nanoae.nn.module import Module, Parameter


def _recurrent_weights(module, input_size, hidden_size, gates, bias, dtype):
    """weight_ih (gates*H, in), weight_hh (gates*H, H) and the two biases, uniform in +-1/sqrt(H) (PyTorch's)."""
    owner = f"{type(module).__name__}({input_size}, {hidden_size})"
    bound = 1 / math.sqrt(hidden_size)
    module.weight_ih = Parameter.empty((gates * hidden_size, input_size), dtype, owner)
    module.weight_hh = Parameter.empty((gates * hidden_size, hidden_size), dtype, owner)
    module.bias_ih = Parameter.empty(gates * hidden_size, dtype, owner) if bias else None
    module.bias_hh = Parameter.empty(gates * hidden_size, dtype, owner) if bias else None
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


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
