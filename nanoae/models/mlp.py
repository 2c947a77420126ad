"""The stack of Linear layers every dense model here is built from.

``mlp([784, 400, 32], "relu")`` is ``Linear(784, 400), ReLU(), Linear(400, 32)``:
an activation after every layer but the last, whose output is left linear
(or passed through ``last``, e.g. a sigmoid code layer).
"""
from nanoae import nn


def mlp(sizes, activation, last=None):
    """Linear layers sizes[0] -> sizes[1] -> ... -> sizes[-1], ``activation`` between them.

    ``activation``: a name in ``nn.ACTIVATIONS``; ``last``: a module applied after
    the final layer (None: the output is linear).
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ACTIVATIONS[activation]())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)
