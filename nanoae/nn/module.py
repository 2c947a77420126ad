"""Module, the base class of every layer and model, and Parameter, a weight of a Module.

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
from nanoae import backend
from nanoae.autograd import ShapeError, Tensor


class Parameter(Tensor):
    """A tensor that is a weight of a Module: it requires a gradient and is registered."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter(" + super().__repr__() + ")"

    @classmethod
    def empty(cls, shape, dtype, owner):
        """A new Parameter of ``shape``, its values not yet set (an init function fills them), made
        with the default array module. A size that cannot fit in memory is refused before anything
        is allocated, naming ``owner`` (the layer, e.g. "Linear(784, 400)") and the size."""
        shape = tuple(int(n) for n in ((shape,) if isinstance(shape, int) else shape))
        backend.check_fits_in_memory(shape, dtype, f"{owner}: a weight of shape {shape} ({dtype})")
        return cls(backend.default_array_module().empty(shape, dtype=dtype))


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
                p.grad = p.grad.to(device) if p.grad.is_sparse else Tensor(backend.to_device(p.grad.data, device))
        return self

    @property
    def device(self):
        """Where the parameters are, "cpu" or "gpu" (all of them: ``to()`` moves them together).

        A module without parameters (an activation, Flatten) has none of its
        own; its device is where new arrays are made (``backend.use``).
        """
        for p in self.parameters():
            return p.device
        return backend.default_device()

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
                p._version += 1                         # changed in place (see Function.check_inputs)

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        inside = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({inside})"
        return f"{type(self).__name__}({inside}\n" + "\n".join(lines) + "\n)"

    def extra_repr(self):
        return ""
