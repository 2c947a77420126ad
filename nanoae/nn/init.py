"""Initial values for weights, filled in place (as ``torch.nn.init``).

For a weight of shape (out, in): fan_in = in, fan_out = out.

- ``xavier_*`` (Glorot & Bengio 2010) keeps the variance of activations and
  gradients equal across layers: Var(W) = 2 / (fan_in + fan_out). Good for
  tanh and sigmoid.
- ``kaiming_*`` (He et al. 2015) makes up for ReLU zeroing half its inputs:
  Var(W) = 2 / fan_in.
- nn.Linear's default is PyTorch's: W and b uniform in +-1/sqrt(fan_in).

Values are drawn from nanoae's seeded CPU generator and then moved to the
tensor's device, so a seed gives the same weights on CPU and GPU.
"""
import math

from nanoae import backend


def _fill(tensor, values):
    tensor.data[...] = backend.to_device(values.astype(tensor.dtype), tensor.device)
    tensor._version += 1     # an in-place change: a graph that used the old values must not backpropagate
    return tensor


def _fans(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in/out need a weight with at least 2 dimensions, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])  # 1 for a dense layer
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor, low, high):
    return _fill(tensor, backend.cpu_generator().uniform(low, high, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill(tensor, backend.cpu_generator().normal(mean, std, tensor.shape))


def zeros_(tensor):
    tensor.data[...] = 0
    tensor._version += 1
    return tensor


def xavier_uniform_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor):
    fan_in, _ = _fans(tensor)
    bound = math.sqrt(6.0 / fan_in)  # Var(U(-b, b)) = b^2 / 3 = 2 / fan_in
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor):
    fan_in, _ = _fans(tensor)
    return normal_(tensor, 0.0, math.sqrt(2.0 / fan_in))
