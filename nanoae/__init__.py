"""nanoae: autoencoders from scratch, on a tiny autograd engine you can read.

The names follow PyTorch so that what you learn here carries over::

    import nanoae
    from nanoae import nn, optim
    from nanoae import functional as F
"""
import os

from nanoae import backend
from nanoae.backend import manual_seed
from nanoae.autograd import Function, ShapeError, Tensor, enable_grad, grad, is_grad_enabled, no_grad
from nanoae.creation import ones, rand, randn, tensor, zeros, zeros_like
from nanoae.ops import *  # noqa: F401,F403  (nanoae.exp, nanoae.matmul, ...)
from nanoae import functional, nn, optim
from nanoae.gradcheck import GradcheckError, gradcheck
from nanoae.serialization import load, save

__version__ = "0.1.0"

if not os.environ.get("NANOAE_DEFAULT_MALLOC"):
    backend.keep_freed_memory()   # freed arrays are reused, not handed back to the system (see its docstring)
