"""The bridge to PyTorch: nanoae models, layers and tensors as PyTorch ones, and back.

::

    from nanoae.interop import to_torch, from_torch

    module = to_torch(model)                   # a torch.nn.Module: the same layers, the same weights
    ...                                        # train it with torch.optim, run it on torch's GPU, ...
    model = from_torch(module, like=model)     # its weights back in (a copy of) the nanoae model

| function | file | what it does |
| --- | --- | --- |
| ``to_torch(model)`` | ``convert.py`` | a nanoae model, Sequential or layer -> a torch.nn.Module, weights copied |
| ``from_torch(module, like)`` | ``convert.py`` | its weights back, into a copy of ``like`` (``inplace=True``: into ``like``) |
| ``parameter_names(model)`` | ``layers.py`` | {nanoae parameter name: key in the torch state_dict()} |
| ``tensor_to_torch(t)`` | ``tensors.py`` | a nanoae Tensor or array -> a torch.Tensor, sharing memory where it can |
| ``tensor_from_torch(t)`` | ``tensors.py`` | a torch.Tensor -> a nanoae Tensor on the same memory (DLPack) |

Each layer of ``nanoae.nn`` becomes the ``torch.nn`` layer of the same name
(the table is in ``layers.py``). Each model becomes a small ``torch.nn.Module``
that mirrors it, method for method (``encode``, ``decode_logits``, ``decode``,
``forward``, ``reconstruct``, ``code``, ``loss``), with the same sub-module
names, so its ``state_dict()`` keys are the nanoae model's parameter names
(a GRU's are renamed: see ``layers.py``). Read the two side by side:

| ``nanoae.train`` name | nanoae model (``nanoae/models/``) | its mirror (here) |
| --- | --- | --- |
| ae, dae, sparse, cae, conv-ae, aae, hash | ``autoencoder.py`` and the files of its subclasses | ``autoencoders.py`` |
| ``vae`` | ``vae.py`` | ``vae.py`` |
| ``seq2seq`` | ``seq2seq.py`` | ``seq2seq.py`` |
| ``vq-vae`` | ``vq_vae.py`` | ``vq_vae.py`` |

Where a nanoae loss draws noise (the VAE's eps, the denoising autoencoder's
corruption, the AAE's prior draws, the hashing model's noise), the mirror's
``loss`` takes that noise as an argument, so both sides can be given the same
draw and compared exactly; left out, the mirror draws it from torch's generator.

PyTorch is optional: besides this package, only chapter 13's graders (the
chapter about PyTorch) import it, and ``tests/test_structure.py`` keeps it so.
This package imports it first thing, as anyone who imports it wants PyTorch.
"""
try:
    import torch  # noqa: F401
except ImportError as error:
    raise ImportError('nanoae.interop needs PyTorch: pip install -e ".[torch]" '
                      '(or pip install torch==2.13.0)', name="torch") from error

from nanoae.interop.convert import from_torch, to_torch
from nanoae.interop.layers import parameter_names
from nanoae.interop.tensors import tensor_from_torch, tensor_to_torch

__all__ = ["from_torch", "parameter_names", "tensor_from_torch", "tensor_to_torch", "to_torch"]
