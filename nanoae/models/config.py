"""What the models' config dataclasses share: the checks of the MLP fields, and None for the defaults.

Each config checks its own fields in ``__post_init__`` with :mod:`nanoae.checks`;
the fields that every MLP autoencoder has (``input_dim``, ``hidden``,
``latent_dim``, ``activation``) are checked here once.
"""
from nanoae import checks
from nanoae.nn import ACTIVATIONS


def check_mlp_fields(config):
    """input_dim and latent_dim positive ints, hidden a tuple of them, activation a known name.

    A config read back from JSON has ``hidden`` as a list: it becomes a tuple
    again here, so that it compares equal to the config it was written from.
    """
    name = type(config).__name__
    checks.positive_int(name, "input_dim", config.input_dim)
    checks.positive_int(name, "latent_dim", config.latent_dim)
    config.hidden = checks.sizes(name, "hidden", config.hidden)
    checks.choice(name, "activation", config.activation, tuple(ACTIVATIONS))


def config_or_default(model, config):
    """The model's default config for None; ``config`` itself if it is of the model's config class."""
    if config is None:
        return model.config_class()
    if not isinstance(config, model.config_class):
        raise TypeError(f"{type(model).__name__} needs a {model.config_class.__name__}, "
                        f"got a {type(config).__name__}")
    return config
