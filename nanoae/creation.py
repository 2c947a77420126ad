"""Ways to make new leaf tensors: from data, zeros, ones and random ones.

``nanoae.tensor(data)`` wraps existing data, as ``torch.tensor`` does; the
others fill a new array, on the backend chosen by ``nanoae.backend.use`` (or
on ``device``), in float32 unless another dtype is asked for.
"""
from nanoae import backend
from nanoae.autograd import Tensor

DEFAULT_DTYPE = "float32"


def _shape(shape):
    """zeros(2, 3) and zeros((2, 3)) both mean shape (2, 3), as in PyTorch."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _xp(device):
    return backend.default_array_module() if device is None else backend.array_module_for(device)


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A leaf tensor holding ``data``, like ``torch.tensor``: floats default to float32."""
    t = Tensor(data, requires_grad=requires_grad, dtype=dtype)
    return t if device is None else t.to(device)


def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, device=None):
    return Tensor(_xp(device).zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, device=None):
    return Tensor(_xp(device).ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, requires_grad=False):
    return Tensor(t.xp.zeros(t.shape, dtype=t.dtype), requires_grad=requires_grad)


def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, device=None):
    """Standard normal samples from nanoae's seeded generator (``nanoae.manual_seed``)."""
    xp = _xp(device)
    data = backend.generator_for(xp).standard_normal(_shape(shape), dtype=dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, device=None):
    """Uniform samples in [0, 1) from nanoae's seeded generator."""
    xp = _xp(device)
    data = backend.generator_for(xp).random(_shape(shape), dtype=dtype)
    return Tensor(data, requires_grad=requires_grad)
