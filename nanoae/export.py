"""Exporting a trained model's weights to a file of their own, and building the model from one.

``.safetensors`` is the format PyTorch and the model hubs read
(:mod:`nanoae.safetensors` writes it); ``.npz`` is nanoae's own
(:func:`nanoae.save`). Both hold the weights under the names of
``model.state_dict()`` ("encoder.0.weight", ...), and beside them what it takes
to build the model again, as text (.safetensors metadata is strings):
``format`` ("nanoae"), ``nanoae_model`` (its name, "vae") and ``nanoae_config``
(its config as JSON). A .npz export is ``{"weights": ..., "metadata": ...}``.
Unlike a checkpoint, an export has no optimizer state or history: it is for
using a model, not for training it further. ``nanoae export`` is the command.
"""
import dataclasses
import json
import os
import reprlib

from nanoae.models import MODELS, build_model
from nanoae.safetensors import load_safetensors, save_safetensors
from nanoae.serialization import save


def export_metadata(model):
    """What an export holds beside the weights, all strings: enough to build the model again."""
    return {"format": "nanoae", "nanoae_model": type(model).name,
            "nanoae_config": json.dumps(dataclasses.asdict(model.config))}


def write_safetensors(model, path):
    save_safetensors(model.state_dict(), path, metadata=export_metadata(model))


def write_npz(model, path):
    save({"weights": model.state_dict(), "metadata": export_metadata(model)}, path)


WRITERS = {".safetensors": write_safetensors, ".npz": write_npz}


WRITERS = {".safetensors": write_safetensors, ".npz": write_npz}




def export_model(model, path):
    """Write ``model``'s weights and what builds it again to ``path``; its ending chooses the format."""
    WRITERS[os.path.splitext(path)[1]](model, path)


def model_from_safetensors(path, device="cpu"):
    """The model of a .safetensors file written by ``nanoae export``: built from its metadata,
    its weights loaded, on ``device``.

    A file that is not such an export, or whose weights do not fit the model
    its metadata describes, is a ValueError naming the file and the problem.
    """
    weights, metadata = load_safetensors(path)
    if metadata.get("format") != "nanoae" or not {"nanoae_model", "nanoae_config"} <= metadata.keys():
        raise ValueError(f"{path} is not a model written by nanoae export: its metadata must have format 'nanoae', "
                         f"nanoae_model and nanoae_config; it has {reprlib.repr(metadata)}")
    name = metadata["nanoae_model"]
    if name not in MODELS:
        raise ValueError(f"{path}: nanoae_model {name!r} is not a nanoae model; the models are "
                         f"{', '.join(sorted(MODELS))}")
    try:
        config = json.loads(metadata["nanoae_config"])
        if not isinstance(config, dict):
            raise ValueError(f"it is {reprlib.repr(config)}, not a JSON object")
        model = build_model(name, config)
    except (ValueError, TypeError, RecursionError, MemoryError) as e:   # not JSON; unknown or invalid fields
        raise ValueError(f"{path}: nanoae_config does not describe a {name!r} model: {e}") from None
    for weight_name, weight in weights.items():
        if weight.dtype.kind != "f":
            raise ValueError(f"{path}: weight {weight_name!r} is {weight.dtype}, not floats")
    try:
        model.load_state_dict(weights)
    except ValueError as e:                                              # a ShapeError: names or shapes differ
        raise ValueError(f"{path}: the weights do not fit the {name!r} model its metadata describes: {e}") from None
    return model.to(device)
