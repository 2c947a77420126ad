"""The array backend: NumPy always, CuPy when it is installed and a GPU is present.

This is the only module that decides between NumPy and CuPy. Everything else
asks its inputs which array module they live in::

    xp = get_array_module(x, y)   # numpy or cupy
    z = xp.exp(x) * y             # the same line runs on both

Nothing here imports CuPy (and so touches CUDA) until a CuPy array is seen or
``use("cupy")`` / ``to_device(..., "gpu")`` asks for the GPU. A machine
without a GPU therefore imports nanoae and runs its tests with NumPy alone.

``use(name)`` only chooses where *new* arrays are created (``nanoae.tensor``,
layer initialization). Ops never read it: they follow their inputs.
"""
import contextlib
import ctypes
import functools
import importlib
import math
import os

import numpy

DEVICES = {"cpu": "numpy", "gpu": "cupy"}

_default_backend = "numpy"
_numpy_rng = numpy.random.default_rng(0)
_cupy_rng = None
_seed = 0
_cupy_module = None  # set by _cupy() on first use


def _is_cupy_array(a):
    if type(a) is numpy.ndarray:  # the common case, asked by every op and every optimizer step
        return False
    if _cupy_module is not None:  # the quick test, once nanoae has imported CuPy
        return isinstance(a, _cupy_module.ndarray)
    return type(a).__module__.split(".")[0] == "cupy" and type(a).__name__ == "ndarray"


def cupy_available():
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        cupy = importlib.import_module("cupy")
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDA present but unusable
        return False


def _cupy():
    """The cupy module, imported on first use (every op on the GPU asks, so it is kept)."""
    global _cupy_module
    if _cupy_module is None:
        try:
            _cupy_module = importlib.import_module("cupy")
        except ImportError as e:
            raise RuntimeError(
                "the GPU backend needs CuPy: pip install -e '.[gpu]' on a machine with CUDA 12"
            ) from e
    return _cupy_module


def use(name):
    """Create new tensors with ``"numpy"`` (CPU) or ``"cupy"`` (GPU) from now on."""
    global _default_backend
    if name not in ("numpy", "cupy"):
        raise ValueError(f"backend must be 'numpy' or 'cupy', got {name!r}")
    if name == "cupy" and not cupy_available():
        raise RuntimeError("use('cupy'): CuPy is not installed or no CUDA GPU is visible")
    _default_backend = name


@contextlib.contextmanager
def using(name):
    """``with using("cupy"): ...`` creates new tensors on that backend, then restores."""
    previous = _default_backend
    use(name)
    try:
        yield
    finally:
        use(previous)


def current():
    """The backend new tensors are created with: ``"numpy"`` or ``"cupy"``."""
    return _default_backend


def default_device():
    """The device new arrays are created on: ``"cpu"`` for NumPy, ``"gpu"`` for CuPy."""
    return "cpu" if _default_backend == "numpy" else "gpu"


def default_array_module():
    """The module new arrays are created with, as chosen by :func:`use`."""
    return numpy if _default_backend == "numpy" else _cupy()


def check_device(device):
    """Raise ValueError unless ``device`` is ``"cpu"`` or ``"gpu"``."""
    if device not in DEVICES:
        raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")


def array_module_for(device):
    """numpy for ``"cpu"``, cupy for ``"gpu"``."""
    check_device(device)
    return numpy if device == "cpu" else _cupy()


def get_array_module(*arrays):
    """The array module (numpy or cupy) of ``arrays``; non-arrays are ignored.

    Mixing NumPy and CuPy arrays is an error, not a silent copy between devices.
    """
    for a in arrays:  # the common case, all NumPy arrays, checked first (a loop: every op asks)
        if type(a) is not numpy.ndarray:
            break
    else:
        return numpy
    on_cpu = {isinstance(a, numpy.ndarray) for a in arrays if is_array(a)}
    if on_cpu == {True, False}:
        raise TypeError(
            "cannot mix a NumPy (CPU) array and a CuPy (GPU) array in one operation; "
            "move both to the same device with .to('cpu') or .to('gpu')"
        )
    return _cupy() if on_cpu == {False} else numpy


def device_of(array):
    """``"gpu"`` for a CuPy array, ``"cpu"`` otherwise."""
    return "gpu" if _is_cupy_array(array) else "cpu"


def to_device(array, device):
    """Move an array to ``"cpu"`` (NumPy) or ``"gpu"`` (CuPy); a no-op if it is there."""
    xp = array_module_for(device)
    if device_of(array) == device:
        return array
    return array.get() if device == "cpu" else xp.asarray(array)


def value_sample(array, n=16):
    """The bytes of up to ``n`` values spread evenly over ``array``: a cheap witness of what it
    holds now (see ``Function.check_inputs`` in autograd.py), compared as bytes, so NaN equals
    NaN. None for a CuPy array: reading values back from the GPU would make every op wait for it."""
    if type(array) is not numpy.ndarray:
        return None
    return array.flat[::max(1, array.size // n)].tobytes()


def memory_available(device):
    """Bytes of memory free for new arrays on ``device``: the GPU's free memory, or the CPU's
    available memory (MemAvailable on Linux; elsewhere the machine's total, a generous bound)."""
    if device == "gpu":
        return _cupy().cuda.runtime.memGetInfo()[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits_in_memory(shape, dtype, what):
    """A MemoryError, before anything is allocated, if an array of ``shape`` and ``dtype`` would not
    fit in the memory free on the default device; ``what`` names it in the message."""
    nbytes = math.prod(shape) * numpy.dtype(dtype).itemsize
    device = default_device()
    free = memory_available(device)
    if nbytes > free:
        raise MemoryError(f"{what} would take {readable_size(nbytes)}, more than the {readable_size(free)} of memory "
                          f"free on the {device.upper()}")


def readable_size(nbytes):
    """A number of bytes as people read it: 812 -> '812 bytes', 1.5e9 -> '1.4 GiB' (powers of 1024)."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.1f} {unit}" if unit != "bytes" else f"{nbytes} bytes"
        nbytes /= 1024


def to_numpy(array):
    """A NumPy copy-or-view of any array or scalar (for saving and printing)."""
    return numpy.asarray(to_device(array, "cpu") if hasattr(array, "shape") else array)


def asarray(data, dtype=None):
    """Turn lists, scalars and arrays into an array.

    Arrays keep their device (and their dtype unless ``dtype`` is given). Lists
    and scalars go to the backend chosen by :func:`use`, and Python floats
    become float32, the default dtype for data and parameters in nanoae.
    """
    if is_array(data):
        return data if dtype is None else data.astype(dtype, copy=False)
    xp = default_array_module()
    array = xp.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == numpy.float64 and not hasattr(data, "dtype"):
        array = array.astype(numpy.float32)
    return array


def overflow_ignored(xp):
    """A block in which overflow to inf is expected: NumPy would warn, CuPy never does."""
    return numpy.errstate(over="ignore") if xp is numpy else contextlib.nullcontext()


def nonfinite_ignored(xp):
    """A block in which NaN and infinity are expected (when looking for them): NumPy would warn."""
    return numpy.errstate(over="ignore", invalid="ignore") if xp is numpy else contextlib.nullcontext()


@functools.cache
def elementwise_kernel(in_params, out_params, operation, name):
    """One CUDA kernel that computes a whole element-wise formula (CuPy's ElementwiseKernel).

    Each CuPy array operation is a kernel launch, and for small arrays the
    launch, not the arithmetic, takes the time. Code that runs a chain of
    element-wise operations on every step (the optimizer update) keeps its
    NumPy lines as the readable definition and, on the GPU, calls one kernel
    with the same formula written in C. The kernel is compiled on first use
    and cached.
    """
    return _cupy().ElementwiseKernel(in_params, out_params, operation, name)


# --- random numbers ---------------------------------------------------------
# One seeded generator per backend, so that a run is reproducible. Layer
# initialization always draws from the NumPy generator (the same seed gives
# the same weights on CPU and GPU); noise inside a computation (dropout,
# reparameterization) is drawn on the device of the data it is added to.

def keep_freed_memory():
    """Ask the C library (glibc, on Linux) to keep freed memory for the next array; True if it agreed.

    A training step makes and frees the same arrays at every step. By default
    glibc serves a big allocation (from 128 KiB on) with fresh pages from the
    operating system and hands them back when the array is freed, so every
    step pays again for the kernel to find and zero those pages; how often it
    does so depends on the order of earlier allocations, which makes timings
    jump from run to run. Two settings (``mallopt``) stop that:

    - M_MMAP_THRESHOLD = 32 MiB: arrays up to 32 MiB come from the process's
      heap, where freed blocks are reused;
    - M_TRIM_THRESHOLD = 512 MiB: the heap is not shrunk when its top is free.

    Measured on the 2-core machine of the README: chapter 15's prior trains at
    173 ms per step instead of 210. The cost is that the process keeps the
    most memory it ever used instead of giving it back. ``import nanoae``
    calls this unless the environment variable ``NANOAE_DEFAULT_MALLOC`` is
    set; elsewhere than glibc it does nothing and returns False.
    """
    m_trim_threshold, m_mmap_threshold = -1, -3          # the option numbers of glibc's malloc.h
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):                   # not Linux, or a C library without mallopt
        return False
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 512 << 20))


def manual_seed(seed):
    """Seed every generator nanoae draws from."""
    global _numpy_rng, _cupy_rng, _seed
    _seed = int(seed)
    _numpy_rng = numpy.random.default_rng(_seed)
    _cupy_rng = None  # re-created from _seed when first needed


def cpu_generator():
    """The NumPy ``Generator`` used for initialization and CPU noise."""
    return _numpy_rng


def generator_for(xp):
    """The seeded generator that draws arrays of ``xp`` (numpy or cupy)."""
    global _cupy_rng
    if xp is numpy:
        return _numpy_rng
    if _cupy_rng is None:
        _cupy_rng = xp.random.default_rng(_seed)
    return _cupy_rng


def new_generator(seed):
    """A fresh NumPy generator of one's own, e.g. for graders and benchmarks, seeded by ``seed``."""
    return numpy.random.default_rng(seed)


def get_rng_state():
    """The NumPy generator's state (a dict of plain ints), e.g. for checkpoints."""
    return _numpy_rng.bit_generator.state


def set_rng_state(state):
    _numpy_rng.bit_generator.state = state


def is_array(x):
    """True for a NumPy or CuPy ndarray (not for lists, scalars or tensors)."""
    return isinstance(x, numpy.ndarray) or _is_cupy_array(x)


def is_scalar(x):
    """True for a NumPy scalar (numpy.float32(2.0), numpy.int64(3), numpy.bool_(True))."""
    return isinstance(x, numpy.generic)
