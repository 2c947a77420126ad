"""Tensors across the bridge, through DLPack: nanoae Tensor (a NumPy or CuPy array) <-> torch.Tensor.

DLPack is a small C struct that describes an array: where its memory is (and
on which device), its dtype, shape and strides. Libraries that read it pass
each other that description instead of the numbers, so

    torch.from_dlpack(array)      # a torch.Tensor on the memory of a NumPy (CPU) or CuPy (GPU) array
    numpy.from_dlpack(tensor)     # a NumPy array on the memory of a CPU torch.Tensor
    cupy.from_dlpack(tensor)      # a CuPy array on the memory of a CUDA torch.Tensor

copy nothing, however large the array. The two results are two views of ONE
block of memory: writing one (``t[0] = 1``, an optimizer step, any in-place
op) changes the other. Neither engine sees the other's writes: nanoae's check
for in-place changes (``Function.check_inputs``) does not count torch's, and
torch's version counter does not count nanoae's. Copy (``t.clone()``,
``array.copy()``) when you want two independent tensors.

When sharing is impossible or unsafe, ``tensor_to_torch`` copies instead:

- read-only arrays (``numpy.broadcast_to`` views, memory-mapped files opened
  read-only): torch has no read-only tensors and would write through them;
- negative strides (``a[::-1]``): torch tensors have none;
- non-native byte order (``dtype=">f4"``): DLPack has no byte order.

Other non-contiguous arrays (``a.T``, ``a[:, ::2]``) are shared: DLPack
carries the strides. The other way, ``tensor_from_torch`` always shares: every
torch tensor on the CPU or a CUDA GPU can be described to NumPy or CuPy.
"""
import torch

from nanoae import backend
from nanoae.autograd import Tensor


def can_share(array):
    """Whether torch may use the memory of this NumPy or CuPy array as it is (the list above)."""
    writeable = getattr(array.flags, "writeable", True)     # CuPy arrays are always writeable: no such flag
    positive_strides = all(s >= 0 and s % array.itemsize == 0 for s in array.strides)
    return writeable and positive_strides and array.dtype.isnative


def tensor_to_torch(t):
    """A nanoae Tensor, or a NumPy / CuPy array, as a torch.Tensor on the same device.

    Shares memory with ``t`` whenever :func:`can_share` allows it (the module
    docstring says what sharing means: a write to one is a write to both);
    otherwise works on a copy. The result does not require a gradient: it is
    the data, not a place in nanoae's graph.
    """
    array = t.data if isinstance(t, Tensor) else t
    if not backend.is_array(array):
        raise TypeError(f"tensor_to_torch: expected a nanoae Tensor or a NumPy/CuPy array, "
                        f"got {type(t).__name__}")
    if not can_share(array):
        xp = backend.get_array_module(array)
        array = xp.array(array, dtype=array.dtype.newbyteorder("="), order="C")   # a writeable copy
    return torch.from_dlpack(array)


def tensor_from_torch(t):
    """A torch.Tensor as a nanoae Tensor on the same memory: NumPy for a CPU tensor, CuPy for a CUDA one.

    The two share memory (a write to one is a write to both; module docstring).
    A tensor that requires a gradient is detached first: the result holds its
    numbers, still shared, and is a leaf of nanoae's graph that does not
    require a gradient (as ``torch.from_numpy`` gives one in torch's).
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"tensor_from_torch: expected a torch.Tensor, got {type(t).__name__}")
    if t.device.type not in ("cpu", "cuda"):
        raise ValueError(f"tensor_from_torch: nanoae lives on the CPU or a CUDA GPU; this tensor is on "
                         f"{t.device}: move it first, e.g. t.cpu()")
    if t.dtype == torch.bfloat16:
        raise TypeError("tensor_from_torch: NumPy and CuPy have no bfloat16; convert first, e.g. t.float()")
    xp = backend.array_module_for("gpu" if t.device.type == "cuda" else "cpu")
    return Tensor(xp.from_dlpack(t.detach()))
