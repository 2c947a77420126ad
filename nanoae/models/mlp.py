"""What every model here is built from: a stack of Linear layers, and the checks on its sizes.

``mlp([784, 400, 32], "relu")`` is ``Linear(784, 400), ReLU(), Linear(400, 32)``:
an activation after every layer but the last, whose output is left linear
(or passed through ``last``, e.g. a sigmoid code layer).
"""
from nanoae import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU}


def mlp(sizes, activation, last=None):
    """Linear layers sizes[0] -> sizes[1] -> ... -> sizes[-1], ``activation`` between them.

    ``last``: a module applied after the final layer (None: the output is linear).
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def check_choice(config, field, choices):
    value = getattr(config, field)
    if value not in choices:
        raise ValueError(f"{type(config).__name__}: {field} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")


def check_sizes(config):
    """input_dim and latent_dim positive ints; hidden a sequence of them, stored as a tuple.

    A config read back from JSON has ``hidden`` as a list: it becomes a tuple
    again here, so that it compares equal to the config it was written from.
    """
    name = type(config).__name__
    for field in ("input_dim", "latent_dim"):
        value = getattr(config, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: {field} must be a positive int, got {value!r}")
    if isinstance(config.hidden, (str, int)) or not hasattr(config.hidden, "__iter__"):
        raise ValueError(f"{name}: hidden must be a tuple of layer sizes such as (400,), got {config.hidden!r}")
    config.hidden = tuple(config.hidden)
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in config.hidden):
        raise ValueError(f"{name}: hidden sizes must be positive ints, got {config.hidden!r}")
    check_choice(config, "activation", tuple(ACTIVATIONS))


def check_config(model, config):
    """The model's default config for None; a TypeError for a config of another model."""
    if config is None:
        return model.config_class()
    if not isinstance(config, model.config_class):
        raise TypeError(f"{type(model).__name__} needs a {model.config_class.__name__}, "
                        f"got a {type(config).__name__}")
    return config
