"""Tensor, Function and backward: the whole reverse-mode autograd engine.

A :class:`Tensor` wraps an array (``.data``). When an op is applied to tensors
that require gradients, the op (a :class:`Function`) remembers its inputs and
becomes the ``.creator`` of its output. The tensors and functions form a graph::

    x ──┐
        ├─ Mul ── y ── Sum ── loss        loss.creator is Sum, y.creator is Mul
    w ──┘

``loss.backward()`` orders the functions so that each comes after every
function that used its outputs, then walks them once, root first, calling each
function's hand-written ``backward`` with the gradient of its output and
passing the results on to its inputs. Gradients that meet at a tensor used
twice are summed. Leaves (tensors no op made) collect their gradient in
``.grad``.

Backward formulas are written with tensor ops themselves, so with
``create_graph=True`` the backward pass is recorded like any other computation
and can be differentiated again (higher-order gradients). Without it, nothing
will differentiate them, and most formulas compute on the plain arrays instead
(:func:`operands`): the same lines, without a graph op for every operation.

This module and :mod:`nanoae.ops` import each other, the one import loop in
nanoae, and on purpose: Tensor's operators (``a + b``, ``x.sum()``) call the
ops, and every op is a Function of Tensors. The ops are therefore imported at
the bottom of this file, once Tensor and Function exist. (The file is named
autograd rather than tensor so that ``nanoae.tensor`` is, as ``torch.tensor``,
the function that makes a tensor: see ``creation.py``.)
"""
import contextlib
import math
import operator
import weakref

from nanoae import backend

# --- grad mode ---------------------------------------------------------------
# Whether ops record the graph. Read in one place, Function.__call__, and only
# changed by the context managers below, which restore it in `finally`.
_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def _grad_mode(enabled):
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """``with no_grad():`` computes without recording the graph (evaluation, updates)."""
    return _grad_mode(False)


def enable_grad():
    """``with enable_grad():`` records the graph again inside a ``no_grad`` block."""
    return _grad_mode(True)


class ShapeError(ValueError):
    """An op was given arrays whose shapes do not fit together."""


class Function:
    """Base class of every op: ``forward`` on arrays, ``backward`` on tensors.

    A subclass writes

    * ``forward(*arrays)``: the result as an array (or a tuple of arrays), using
      ``self.xp``, the array module of the inputs (numpy or cupy);
    * ``backward(*grads)``: given the gradient of each output (a Tensor), the
      gradient of each input, written with tensor ops so that it can itself be
      differentiated; ``None`` where an input needs no gradient. A formula
      written with what tensors and arrays share (``+ - * / @``, ``.T``,
      ``.reshape``, ``.sum``) may take its values through :func:`operands`:
      then it computes on plain arrays unless the backward pass is being
      recorded, and may return arrays, which the engine makes tensors.

    In ``backward`` the inputs are ``self.inputs`` and the outputs
    ``self.output`` (or ``self.outputs`` for several). This class does all the graph
    bookkeeping, so an op never has to.
    """

    def __call__(self, *inputs):
        for x in inputs:   # loops and lists here, not generators: every op runs these lines
            if not isinstance(x, Tensor):   # a number or an array among the inputs
                inputs = self._with_constants(type(self).__name__, inputs)
                break
        arrays = [x.data for x in inputs]
        self.xp = backend.get_array_module(*arrays)
        try:
            ys = self.forward(*arrays)
        except ValueError as e:
            shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
            raise ShapeError(f"{type(self).__name__}: inputs of shapes {shapes} do not fit: {e}") from None
        several = type(ys) is tuple
        if not (_grad_enabled and any([x.requires_grad for x in inputs])):
            # Nothing to record (under no_grad, as every op inside a backward pass is, or no input
            # needs a gradient): the results are new leaves.
            return tuple([self._wrap(y) for y in ys]) if several else self._wrap(ys)
        self.inputs = inputs
        # What check_inputs compares in backward: version, array, and a sample of a leaf's values.
        self._input_states = [(x._version, x.data, backend.value_sample(x.data) if x.creator is None else None)
                              for x in inputs]
        if not several:   # the common case, one output, written out
            y = self._wrap(ys, requires_grad=True)
            y.creator = self
            self._output_refs = [weakref.ref(y)]   # held weakly: a tensor keeps its creator alive, not the other way
            return y
        outputs = tuple([self._wrap(y, requires_grad=True) for y in ys])
        for y in outputs:
            y.creator = self
        self._output_refs = [weakref.ref(y) for y in outputs]
        return outputs

    def _wrap(self, y, requires_grad=False):
        """A result as a Tensor. A reduction to one number gives a NumPy scalar, not an array: it
        becomes one, with the array module of the inputs (not the default one of ``backend.use``)."""
        return Tensor(y if backend.is_array(y) else self.xp.asarray(y), requires_grad)

    @staticmethod
    def _with_constants(op, inputs):
        """Numbers and arrays among the inputs become constant tensors, on the device of the
        tensors and in the dtype of the first one if it is a float (no float64 creep).
        Anything else (None, a string) is a TypeError naming the op."""
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        others = [x for x in inputs if not isinstance(x, Tensor)]
        for x in others:
            if not (isinstance(x, (int, float, list, tuple)) or backend.is_array(x) or backend.is_scalar(x)):
                raise TypeError(f"{op}: an input is {type(x).__name__} {x!r:.40}; ops take Tensors, arrays and numbers")
        xp = backend.get_array_module(*[t.data for t in tensors], *[x for x in others if backend.is_array(x)])
        dtype = tensors[0].dtype if tensors and tensors[0].dtype.kind == "f" else None
        return [x if isinstance(x, Tensor) else Tensor(xp.asarray(x, dtype=dtype)) for x in inputs]

    @property
    def outputs(self):
        return [ref() for ref in self._output_refs]

    @property
    def output(self):
        return self._output_refs[0]()

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grads):
        raise NotImplementedError

    def check_inputs(self):
        """A RuntimeError if an input was changed in place since this op used it.

        backward reads the inputs as they are *now*; had one changed, the
        gradient would silently come from the new values. Three witnesses, the
        first two exact: the tensor's version (every in-place change nanoae
        makes adds one: ``optimizer.step()``, the ``nn.init`` functions,
        ``load_state_dict``), the identity of its array (``x.data = ...``), and,
        for a leaf on the CPU, a sample of 16 of its values, which catches
        writes into the array itself (``x.data[...] = 0``, ``p.data -= ...``)
        whenever they touch a sampled value.
        """
        for i, (x, (version, data, sample)) in enumerate(zip(self.inputs, self._input_states)):
            unchanged = (x._version == version and x.data is data
                         and (sample is None or backend.value_sample(data) == sample))
            if not unchanged:
                made_by = "a leaf" if x.creator is None else f"made by {type(x.creator).__name__}"
                raise RuntimeError(
                    f"{type(self).__name__}.backward: its input {i} (shape {x.shape}, {made_by}) was changed in "
                    f"place after {type(self).__name__} used it, so the gradient would come from the new values. "
                    "Change tensors after backward() (e.g. optimizer.step() after loss.backward()), or compute "
                    "the loss again after the change")

    def release(self):
        """Drop everything saved for backward, so that intermediate arrays can be freed."""
        self.__dict__.clear()
        self.inputs = None


_FREED = ("backward through a graph that was already freed: the first backward() released "
          "the saved tensors to save memory; pass retain_graph=True to it to go through the "
          "graph twice")


def operands(*tensors):
    """What a backward formula computes with: the tensors themselves while the backward pass is
    recorded (``create_graph=True``, to be differentiated again), their arrays otherwise.

    Arrays and tensors share the arithmetic operators and ``.T``, ``.reshape`` and ``.sum``, so
    a formula written with those runs on either. On arrays each operation is one NumPy call; on
    tensors it is also a graph op (a Function, a Tensor, a check), which in a small layer costs
    more than the arithmetic. Usage, in ``Mul.backward``::

        gz, a, b = operands(gz, *self.inputs)
        return sum_to(gz * b, a.shape), sum_to(gz * a, b.shape)
    """
    return tensors if _grad_enabled else [t.data for t in tensors]


def _topological_order(root):
    """The functions that ``root`` depends on, each before every function it feeds into.

    An iterative depth-first search (no recursion, so a chain of 10,000 ops is
    fine). A function is appended once all functions it depends on are, then the
    list is reversed: the root's creator comes first.
    """
    order, seen = [], set()
    stack = [(root.creator, False)]
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            order.append(fn)
            continue
        if fn in seen:
            continue
        seen.add(fn)
        if fn.inputs is None:
            raise RuntimeError(_FREED)
        stack.append((fn, True))
        for x in fn.inputs:
            if x.creator is not None and x.creator not in seen:
                stack.append((x.creator, False))
    order.reverse()
    return order


def _backward(root, root_grad, retain_graph, create_graph, keep=()):
    """Propagate ``root_grad`` from ``root`` to every tensor it depends on.

    Returns ``{id(t): (t, grad)}`` for the leaves and for the tensors in
    ``keep`` (and those marked with ``retain_grad()``). While a gradient waits
    in ``pending`` the entry holds its tensor, so the tensor stays alive until
    its own creator has used the gradient.
    """
    keep_ids = {id(t) for t in keep}
    pending = {id(root): (root, root_grad)}
    finished = {}
    with _grad_mode(create_graph):
        order = _topological_order(root) if root.creator is not None else []
        for fn in order:
            grads, reached = [], False   # reached: some output of fn has a gradient
            for ref in fn._output_refs:
                y = ref()                # None if the output tensor is gone: then nothing reached it
                entry = pending.pop(id(y), None) if y is not None else None
                if entry is None:
                    grads.append(None)
                    continue
                if y._retain_grad or id(y) in keep_ids:
                    finished[id(y)] = entry
                grads.append(entry[1])
                reached = True
            if reached:
                fn.check_inputs()
                input_grads = fn.backward(*grads)
                if not isinstance(input_grads, tuple):
                    input_grads = (input_grads,)
                for x, gx in zip(fn.inputs, input_grads):
                    if gx is None or not x.requires_grad:
                        continue
                    if getattr(gx, "is_sparse", None) is None:   # an array or a NumPy scalar: see operands
                        gx = fn._wrap(gx)
                    if gx.shape != x.shape:
                        raise ShapeError(f"{type(fn).__name__}.backward returned a gradient of shape "
                                         f"{gx.shape} for an input of shape {x.shape}")
                    entry = pending.get(id(x))
                    pending[id(x)] = (x, gx if entry is None else _sum_of_gradients(entry[1], gx))
            if not retain_graph:
                fn.release()
    finished.update(pending)  # what is left is leaves (and a root without creator)
    return finished


def _sum_of_gradients(a, b):
    """a + b for two gradients of one tensor: an op while the backward pass is recorded, else one
    addition of arrays. Either may be a row-sparse gradient (``SparseRows``, from
    ``ops/embedding.py``), which knows how to add itself to a Tensor; a Tensor's ``+`` is an op
    and takes only Tensors."""
    if a.is_sparse or b.is_sparse:
        return b + a if b.is_sparse else a + b
    return a + b if _grad_enabled else Tensor(a.data + b.data)


def _storage_id(g):
    """What two gradients share when they are the same numbers: the array (two tensors may wrap
    one array); a row-sparse gradient is its own."""
    return id(g) if g.is_sparse else id(g.data)


def grad(output, inputs, grad_output=None, retain_graph=None, create_graph=False):
    """The gradients of ``output`` with respect to each of ``inputs``, as a list.

    Like ``output.backward()`` but returns the gradients instead of adding them
    to ``.grad`` (which is left untouched). With ``create_graph=True`` the
    returned gradients are part of the graph and can be differentiated again.
    An input that ``output`` does not depend on gets ``None``.
    """
    retain_graph = create_graph if retain_graph is None else retain_graph
    results = _backward(output, output._root_grad(grad_output), retain_graph, create_graph, keep=inputs)
    return [results[id(x)][1] if id(x) in results else None for x in inputs]


class Tensor:
    """An array with a gradient.

    ``data`` is a NumPy or CuPy array; ``grad`` is a Tensor (or None) that
    backward adds to; ``requires_grad`` says whether gradients flow to it;
    ``creator`` is the Function that made it (None for a leaf).
    """

    is_sparse = False  # a gradient may instead be row-sparse: see ops/embedding.py
    # A tensor has these attributes and no others: a typo such as ``t.requires_gard = True`` is an
    # AttributeError instead of a new attribute nobody reads, and the many small tensors of a
    # training step are lighter (no dictionary each). __weakref__: a Function holds its outputs weakly.
    __slots__ = ("data", "grad", "requires_grad", "creator", "_retain_grad", "_version", "__weakref__")

    # --- NumPy meets a Tensor ------------------------------------------------------
    # `ndarray * tensor` asks NumPy first, and NumPy hands the ufunc to __array_ufunc__:
    # the arithmetic operators are sent back to the Tensor's own (reflected) method, so
    # the result is a Tensor in the graph. Any other NumPy function (np.exp, np.sum, ...)
    # would see a plain object and lose the graph: it stops with a hint instead.
    _NUMPY_OPERATORS = {  # ufunc name -> (method when the Tensor is first, when it is second)
        "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"),
        "multiply": ("__mul__", "__rmul__"), "divide": ("__truediv__", "__rtruediv__"),
        "power": ("__pow__", "__rpow__"), "matmul": ("__matmul__", "__rmatmul__"),
        "less": ("__lt__", "__gt__"), "less_equal": ("__le__", "__ge__"),
        "greater": ("__gt__", "__lt__"), "greater_equal": ("__ge__", "__le__"),
    }

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        methods = self._NUMPY_OPERATORS.get(ufunc.__name__)
        if method == "__call__" and methods and len(inputs) == 2 and not kwargs:
            first, second = inputs
            if isinstance(first, Tensor):
                return getattr(first, methods[0])(second)
            return getattr(second, methods[1])(first)
        raise TypeError(_numpy_hint(f"np.{ufunc.__name__}"))

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(_numpy_hint(f"np.{func.__name__}"))

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None or not backend.is_array(data):
            data = backend.asarray(data, dtype=dtype)
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {data.dtype}")
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad
        self.creator = None
        self._retain_grad = False
        self._version = 0      # in-place changes made by nanoae add one (see Function.check_inputs)

    # --- what it is -----------------------------------------------------------
    # The array's own attributes. operator.attrgetter("data.shape") is the function
    # lambda self: self.data.shape, written in C: shape is read many times in every step.
    shape = property(operator.attrgetter("data.shape"))
    dtype = property(operator.attrgetter("data.dtype"))
    ndim = property(operator.attrgetter("data.ndim"))
    size = property(operator.attrgetter("data.size"))
    device = property(lambda self: backend.device_of(self.data), doc="'cpu' or 'gpu'")

    @property
    def xp(self):
        """The array module of ``data``: numpy or cupy."""
        return backend.get_array_module(self.data)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        device = ", device='gpu'" if self.device == "gpu" else ""
        # NumPy's repr, re-indented for the one letter "tensor(" has over "array(".
        body = repr(backend.to_numpy(self.data)).replace("array(", "").rstrip(")").replace("\n", "\n ")
        return f"tensor({body}{grad}{device})"

    def numpy(self):
        """The data as a NumPy array (copied from the GPU if it is there)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def __float__(self):
        return float(self.item())

    def detach(self):
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor(self.data)

    def to(self, device):
        """A copy on ``"cpu"`` or ``"gpu"`` (this tensor itself if it is already there).

        Only leaves can move: moving a tensor in the middle of a graph would cut
        the graph, so move the inputs and parameters instead.
        """
        backend.check_device(device)
        if self.device == device:
            return self
        if self.creator is not None:
            raise RuntimeError("to(): this tensor was computed by an op; move its inputs and "
                               "parameters to the device instead (Module.to, Tensor.to on leaves)")
        return Tensor(backend.to_device(self.data, device), requires_grad=self.requires_grad)

    # --- autograd ---------------------------------------------------------------
    def _root_grad(self, grad):
        if grad is None:
            if self.size != 1:
                raise RuntimeError(
                    f"backward() on a tensor of shape {self.shape} needs a gradient: pass "
                    "grad=... of the same shape, or reduce it to a scalar first (e.g. loss.sum())")
            return Tensor(self.xp.ones(self.shape, dtype=self.dtype))
        if not isinstance(grad, Tensor) or grad.dtype != self.dtype:
            # A float64 upstream gradient must not turn float32 gradients into float64 ones.
            grad = Tensor(grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise ShapeError(f"backward(): grad has shape {grad.shape}, the tensor has shape {self.shape}")
        return grad

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Add d(self)/d(leaf) to ``.grad`` of every leaf that requires a gradient.

        Gradients *accumulate*: calling backward twice adds both results, so
        zero them between steps (``optimizer.zero_grad()`` / ``model.zero_grad()``).
        ``grad`` is the upstream gradient, taken in this tensor's dtype; it may be
        left out only for a one-element tensor. The graph's saved tensors are freed afterwards
        unless ``retain_graph=True`` (the default when ``create_graph=True``).
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require a gradient (no input had "
                               "requires_grad=True, or it was computed under no_grad())")
        retain_graph = create_graph if retain_graph is None else retain_graph
        root_grad = self._root_grad(grad)
        results = _backward(self, root_grad, retain_graph, create_graph)
        given = {_storage_id(root_grad)}  # gradients some tensor (or the caller) already holds
        with _grad_mode(create_graph):
            for t, g in results.values():
                if not (t.creator is None or t._retain_grad):
                    continue
                if t.grad is not None:
                    t.grad = _sum_of_gradients(t.grad, g)
                elif create_graph:
                    t.grad = g  # part of the new graph: keep it as it is
                else:
                    # Each tensor owns its .grad. Copy g when another tensor got the same
                    # gradient (a + b passes one gradient to both) or when it is a view
                    # of another array (such as the read-only broadcast behind sum()).
                    storage = _storage_id(g)
                    view = g.is_view() if g.is_sparse else g.data.base is not None
                    shared = storage in given or view
                    t.grad = (g.copy() if g.is_sparse else Tensor(g.data.copy())) if shared else g
                    given.add(storage)

    def retain_grad(self):
        """Also keep ``.grad`` for this non-leaf tensor during backward."""
        self._retain_grad = True
        return self

    def zero_grad(self):
        self.grad = None

    # --- operators and methods: thin wrappers over nanoae.ops ---------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __neg__(self): return ops.neg(self)
    def __pow__(self, exponent): return ops.pow(self, exponent)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __getitem__(self, index): return ops.getitem(self, index)

    def __abs__(self):
        """``abs(x)``, the built-in, is ``x.abs()``."""
        return ops.abs(self)

    def __rpow__(self, base):
        """``base ** x`` for a number base > 0, computed as e^(x ln base): d/dx base^x = base^x ln base."""
        if not (isinstance(base, (int, float)) and base > 0):
            raise ValueError(f"base ** tensor: the base must be a Python number > 0, got {base!r}")
        return ops.exp(self * math.log(base))

    # Comparisons give boolean tensors (masks) outside the graph. `==` is left as
    # identity so that tensors can be kept in sets and dicts.
    def __lt__(self, other): return Tensor(self.data < _data(other))
    def __le__(self, other): return Tensor(self.data <= _data(other))
    def __gt__(self, other): return Tensor(self.data > _data(other))
    def __ge__(self, other): return Tensor(self.data >= _data(other))

    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def abs(self): return ops.abs(self)
    def clip(self, low=None, high=None): return ops.clip(self, low, high)

    def pow(self, exponent):
        """``x.pow(p)`` is ``x ** p``, for a Python number p."""
        return ops.pow(self, exponent)

    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def logsumexp(self, axis=None, keepdims=False): return ops.logsumexp(self, axis, keepdims)
    def reshape(self, *shape): return ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes):  # x.transpose(1, 0, 2) or x.transpose((1, 0, 2)), as in NumPy
        return ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def split(self, split_size_or_sizes, axis=0):
        """Pieces along ``axis`` of one size or of the sizes listed, as ``torch.split``."""
        return ops.split(self, split_size_or_sizes, axis)

    def chunk(self, chunks, axis=0):
        """``chunks`` pieces of equal size along ``axis`` (the last may be smaller), as ``torch.chunk``."""
        return ops.chunk(self, chunks, axis)

    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def sum_to(self, shape): return ops.sum_to(self, shape)

    @property
    def T(self):
        """All axes reversed, as NumPy's ``.T``."""
        return ops.transpose(self)

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed)."""
        return ops.swap_last_axes(self)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _numpy_hint(function):
    """The error for a NumPy function given a Tensor: it would compute outside the graph."""
    return (f"{function} was given a nanoae Tensor: NumPy's functions work on arrays and know nothing of "
            f"the graph, so no gradient could flow back. Use the Tensor's own method (e.g. x.exp(), "
            f"x.sum(axis=1), x.reshape(...)) or nanoae.functional; for the plain numbers, use x.data")


# The ops are built on Tensor and Function above, so they are imported after them.
from nanoae import ops  # noqa: E402
