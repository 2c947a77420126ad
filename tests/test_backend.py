"""The NumPy/CuPy backend: choosing the array module, devices, seeds, and the rule
that only nanoae/backend.py may import numpy or cupy.

CuPy is not needed: a CuPy array is imitated by a tiny class that lives in a
module called "cupy", which is all the backend looks at.
"""
import ast
from pathlib import Path

import numpy as np
import pytest

import nanoae
from nanoae import backend


class FakeCupyArray:
    """Looks like a CuPy array to the backend: a class named ndarray in a module called "cupy"."""

    __module__ = "cupy"
    shape = (2,)


FakeCupyArray.__name__ = "ndarray"


def cupy_array():
    """A real CuPy array where there is a GPU, else the fake (the refusal happens before any GPU work)."""
    if backend.cupy_available():
        import cupy
        return cupy.zeros(2)
    return FakeCupyArray()


# --- the array module ------------------------------------------------------------------

def test_get_array_module_is_numpy_for_numpy_arrays():
    assert backend.get_array_module(np.zeros(3)) is np
    assert backend.get_array_module(np.zeros(3), np.ones((2, 2))) is np


def test_get_array_module_is_numpy_for_non_arrays():
    assert backend.get_array_module(1.5, [1, 2], "text", None) is np
    assert backend.get_array_module() is np


def test_get_array_module_refuses_to_mix_numpy_and_cupy_arrays():
    with pytest.raises(TypeError, match="cannot mix a NumPy .* and a CuPy"):
        backend.get_array_module(np.zeros(2), cupy_array())


def test_an_op_refuses_a_cupy_array_next_to_a_cpu_tensor():
    with pytest.raises(TypeError, match="cannot mix"):
        nanoae.tensor([1.0, -2.0]) * cupy_array()


# --- choosing the backend for new tensors ------------------------------------------------

def test_use_numpy_makes_new_tensors_numpy_arrays():
    with backend.using("numpy"):  # puts back whatever was chosen before this test
        backend.use("numpy")
        assert backend.current() == "numpy"
        assert backend.default_array_module() is np
        assert isinstance(nanoae.tensor([1.0, -2.0]).data, np.ndarray)


def test_use_of_an_unknown_backend_raises_value_error():
    with pytest.raises(ValueError, match="tensorflow"):
        backend.use("tensorflow")
    assert backend.current() == "numpy"


@pytest.mark.skipif(backend.cupy_available(), reason="CuPy and a GPU are available here")
def test_use_cupy_without_cupy_raises_a_clear_runtime_error():
    with pytest.raises(RuntimeError, match="CuPy is not installed or no CUDA GPU"):
        backend.use("cupy")
    assert backend.current() == "numpy"


def test_using_restores_the_previous_backend_even_after_an_exception(monkeypatch):
    # Pretend CuPy is there: use("cupy") then only records the name (no tensor is made).
    monkeypatch.setattr(backend, "cupy_available", lambda: True)
    with backend.using("cupy"):
        with pytest.raises(KeyError):
            with backend.using("numpy"):
                assert backend.current() == "numpy"
                raise KeyError("inside")
        assert backend.current() == "cupy"
    assert backend.current() == "numpy"


# --- devices --------------------------------------------------------------------------------

def test_to_the_device_it_is_on_returns_the_same_tensor(xp):
    t = nanoae.tensor(xp.asarray([1.0, -2.0]), requires_grad=True)
    assert t.to(t.device) is t  # t.to("cpu") on the NumPy run


def test_to_an_unknown_device_raises_value_error(xp):
    t = nanoae.tensor(xp.asarray([1.0, -2.0]), requires_grad=True)
    with pytest.raises(ValueError, match="tpu"):
        t.to("tpu")
    with pytest.raises(ValueError, match="tpu"):
        (t * 2).to("tpu")


def test_to_of_a_non_leaf_raises(xp):
    t = nanoae.tensor(xp.asarray([1.0, -2.0]), requires_grad=True)
    other_device = "gpu" if t.device == "cpu" else "cpu"
    with pytest.raises(RuntimeError, match="computed by an op"):
        (t * 2).to(other_device)


# --- random numbers -------------------------------------------------------------------------

def test_manual_seed_makes_randn_and_rand_reproducible(xp):
    nanoae.manual_seed(123)
    first = nanoae.randn(4, 5).numpy(), nanoae.rand(3).numpy()
    nanoae.manual_seed(123)
    again = nanoae.randn(4, 5).numpy(), nanoae.rand(3).numpy()
    nanoae.manual_seed(124)
    other = nanoae.randn(4, 5).numpy()
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other)
    assert first[0].dtype == np.float32


def test_get_and_set_rng_state_round_trip():
    # The state is the NumPy generator's, so the tensors are drawn on the CPU.
    nanoae.randn(3, device="cpu")
    state = backend.get_rng_state()
    first = nanoae.randn(6, device="cpu").numpy()
    assert not np.array_equal(first, nanoae.randn(6, device="cpu").numpy())
    backend.set_rng_state(state)
    np.testing.assert_array_equal(nanoae.randn(6, device="cpu").numpy(), first)


# --- only backend.py imports numpy or cupy ----------------------------------------------------

ROOT = Path(nanoae.__file__).parent
MODULES_THAT_FOLLOW_THEIR_INPUTS = sorted((ROOT / "ops").glob("*.py")) + [
    ROOT / name for name in ("autograd.py", "optim.py", "functional.py", "creation.py")] + sorted((ROOT / "nn").glob("*.py"))
# Files, checkpoints, the bridge and the text pipeline work on the CPU's arrays: they ask backend for that module too.
MODULES_ON_THE_CPU = [ROOT / name for name in ("checkpoint.py", "safetensors.py", "export.py", "runs.py", "train.py",
                                              "train_skipgram.py")] \
    + sorted((ROOT / "interop").glob("*.py")) + sorted((ROOT / "text").glob("*.py"))


def array_module_imports(source):
    """The names of numpy/cupy modules that ``source`` imports (``import numpy``, ``from cupy import x``...)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in ("numpy", "cupy", "cupyx")]
    return found


def test_array_module_imports_flags_numpy_and_cupy_imports():
    assert array_module_imports("import numpy as np") == ["numpy"]
    assert array_module_imports("def f():\n    from cupy.random import default_rng") == ["cupy.random"]
    assert array_module_imports("import math\nfrom nanoae import backend\nfrom . import numpy_like") == []


@pytest.mark.parametrize("path", MODULES_THAT_FOLLOW_THEIR_INPUTS + MODULES_ON_THE_CPU,
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_module_takes_its_array_module_from_its_inputs(path):
    assert path.exists(), f"{path} is missing"
    assert array_module_imports(path.read_text()) == [], (
        f"{path.name} imports numpy or cupy; ask the inputs instead (x.xp, backend.get_array_module)")


def test_keep_freed_memory_is_set_by_import_on_glibc_and_left_alone_when_asked():
    # mallopt's thresholds cannot be read back, so the test asks a fresh interpreter what import did.
    import os
    import platform
    import subprocess
    import sys
    on_glibc = platform.libc_ver()[0] == "glibc"
    assert backend.keep_freed_memory() is on_glibc
    probe = ("import nanoae, unittest.mock as m\n"
             "with m.patch.object(nanoae.backend, 'keep_freed_memory') as k:\n"
             "    import importlib; importlib.reload(nanoae)\n"
             "print(k.called)")
    for env, called in (({}, True), ({"NANOAE_DEFAULT_MALLOC": "1"}, False)):
        environment = {k: v for k, v in os.environ.items() if k != "NANOAE_DEFAULT_MALLOC"} | env
        out = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True)
        assert out.stdout.strip() == str(called), out.stderr
