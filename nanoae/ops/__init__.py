"""Every op of the engine, by family. Each op is a small Function subclass with
``forward`` and ``backward`` side by side, and a lowercase function that applies it.

- ``arithmetic``: add, sub, mul, div, neg, pow
- ``elementwise``: exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, softplus, abs, clip, maximum, where
- ``reduction``: sum, mean, max, logsumexp
- ``shape``: reshape, transpose, getitem, concatenate, split, chunk, broadcast_to, sum_to
- ``linalg``: matmul, linear
- ``loss``: bce_with_logits (binary cross-entropy fused into one op), cross_entropy (of a softmax, likewise),
  negative_sampling_loss (skip-gram's)
- ``gaussian``: reparameterize and gaussian_kl, the VAE's sampling step and its KL term
- ``conv``: conv2d, conv_transpose2d (images (N, C, H, W))
- ``pool``: max_pool2d, upsample_nearest
- ``embedding``: sparse_embedding, a table lookup whose gradient is ``SparseRows`` (only the rows it read)
- ``quantize``: straight_through (the VQ-VAE's straight-through estimator), nearest_code, squared_distances
- ``sparse``: topk, keep the k largest entries of each row (the TopK sparse autoencoder's activation)

To add an op: write its Function subclass in the file of its family (forward
on arrays with ``self.xp``, backward with tensor ops, the derivative in the
docstring), add the lowercase function that applies it, import that here,
and add a case to ``nanoae/gradcheck_cases.py`` so that ``nanoae gradcheck``
and the tests check it on every backend.
"""
from nanoae.ops.arithmetic import add, div, mul, neg, pow, sub
from nanoae.ops.conv import conv2d, conv_transpose2d
from nanoae.ops.embedding import SparseRows, sparse_embedding
from nanoae.ops.elementwise import (abs, clip, exp, leaky_relu, log, maximum, relu, sigmoid,
                                    softplus, sqrt, tanh, where)
from nanoae.ops.gaussian import gaussian_kl, reparameterize
from nanoae.ops.linalg import linear, matmul
from nanoae.ops.loss import bce_with_logits, cross_entropy, negative_sampling_loss
from nanoae.ops.pool import max_pool2d, upsample_nearest
from nanoae.ops.quantize import nearest_code, squared_distances, straight_through
from nanoae.ops.reduction import logsumexp, max, mean, sum
from nanoae.ops.shape import (broadcast_to, chunk, concatenate, getitem, reshape, split, sum_to,
                              swap_last_axes, transpose)
from nanoae.ops.sparse import topk
