"""Layers, as in ``torch.nn``: one file per family, matching the ops they are built on.

| file | what is inside | its ops |
| --- | --- | --- |
| ``module.py`` | ``Module`` (the base class of every layer and model), ``Parameter`` | |
| ``layers.py`` | ``Linear``, ``Sequential``, activations and ``ACTIVATIONS``, ``TopK``, ``Dropout``, ``Flatten``, ``Unflatten`` | ``ops/linalg.py``, ``ops/elementwise.py``, ``ops/sparse.py`` |
| ``conv.py`` | ``Conv2d``, ``ConvTranspose2d``, ``MaxPool2d``, ``Upsample`` | ``ops/conv.py``, ``ops/pool.py`` |
| ``recurrent.py`` | ``GRUCell``, ``LSTMCell``, ``GRU`` | ``ops/shape.py`` (split, where) |
| ``embedding.py`` | ``Embedding`` (dense or row-sparse gradient) | ``ops/shape.py`` (getitem), ``ops/embedding.py`` |
| ``init.py`` | initial weights: uniform, normal, Xavier, Kaiming (``nn.init``) | |
"""
from nanoae.nn import init
from nanoae.nn.conv import Conv2d, ConvTranspose2d, MaxPool2d, Upsample
from nanoae.nn.layers import (ACTIVATIONS, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU, Sequential,
                              Sigmoid, Softplus, Tanh, TopK, Unflatten)
from nanoae.nn.module import Module, Parameter
from nanoae.nn.embedding import Embedding
from nanoae.nn.recurrent import GRU, GRUCell, LSTMCell

__all__ = ["ACTIVATIONS", "Conv2d", "ConvTranspose2d", "Dropout", "Embedding", "Flatten", "GRU", "GRUCell",
           "Identity", "LSTMCell", "LeakyReLU", "Linear", "MaxPool2d", "Module", "Parameter", "ReLU", "Sequential",
           "Sigmoid", "Softplus", "Tanh", "TopK", "Unflatten", "Upsample", "init"]
