"""One test suite for both backends.

Tests that take the ``xp`` fixture run once with NumPy and once with CuPy;
the CuPy run is skipped, with the reason, where CuPy or a GPU is missing.
Inside the test, new tensors are created on that backend.
"""
import os

import pytest
from hypothesis import settings

from nanoae import backend

# In CI the hypothesis tests draw the same examples every run, so that a red
# build always means a change in the code, never a new random draw.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

BACKENDS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.skipif(
        not backend.cupy_available(), reason="CuPy with a CUDA GPU is not available here")),
]


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array module under test (numpy or cupy), also the default for new tensors."""
    with backend.using(request.param):
        yield backend.default_array_module()


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    backend.manual_seed(0)
