"""What a training run leaves in its folder: the checkpoint and the history files.

After each epoch :func:`nanoae.train.fit` writes, in its ``out`` folder:

- ``checkpoint.npz`` (:func:`save_checkpoint`): weights, optimizer state, the
  random generator's state, the epoch, the configurations, the history so far
  and the caller's ``meta`` (the command line stores the model name and the
  dataset there);
- ``history.json`` and ``history.csv`` (:func:`write_history`): one row per epoch.

Every file is written atomically (:func:`nanoae.serialization.atomic_write`):
a crash never leaves half a file, and the last complete one stays in place.
Checkpoints are ``.npz`` files read without pickle.

:func:`restore_checkpoint` puts a checkpoint back into a model and its
optimizer for an exact resume; :func:`model_from_checkpoint` builds the model a
checkpoint holds, for sampling, reconstructing or scoring.

A model trained in phases (the adversarial autoencoder) has a dict of named
optimizers; the checkpoint then stores each one's state under its name
(``optimizer/<name>/...`` in the file).

A checkpoint is read as untrusted input: it may have been edited, cut short or
written by another version of nanoae. :func:`load_checkpoint` checks every
part against what :func:`save_checkpoint` writes before anything is built from
it, and the weights and optimizer state are checked against the model and
optimizer they go into. Every problem is one :class:`CheckpointError` naming
the file and the field, for example::

    runs/vae/checkpoint.npz: model_config has an unknown field 'foo'
    (a VAEConfig has input_dim, hidden, latent_dim, activation, beta)
"""
import csv
import dataclasses
import json
import math
import os
import reprlib
import types
import typing


from nanoae import backend
from nanoae.autograd import ShapeError
from nanoae.models import MODELS, build_model
from nanoae.serialization import atomic_write, load, save

CHECKPOINT = "checkpoint.npz"
HISTORY_FILES = ("history.csv", "history.json")

# The parts of a checkpoint. Those in JSON_PARTS are stored as JSON text (save_checkpoint says why).
JSON_PARTS = ("rng", "model_config", "train_config", "history", "meta")
PARTS = ("model", "optimizer", "epoch", "model_name", *JSON_PARTS)

# nanoae.train.TrainConfig's fields and their types, as its dataclass declares them. train.py
# imports this file, so TrainConfig cannot be read here; tests/test_checkpoint.py checks they agree.
TRAIN_CONFIG_FIELDS = {"epochs": int, "batch_size": int, "lr": float, "optimizer": str, "seed": int,
                       "device": str, "eval_batch_size": int}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as it is: edited, corrupted, or written by
    another version. The message names the file and the field."""


def write_history(history, out):
    """history.json (a list of rows) and history.csv (one line per epoch), each written atomically."""
    with atomic_write(os.path.join(out, "history.json"), "w", newline="") as f:
        json.dump(history, f, indent=1, allow_nan=False)     # strict JSON: NaN and Infinity are no JSON
    with atomic_write(os.path.join(out, "history.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)


def save_checkpoint(path, model, optimizer, history, config, meta=None):
    """Everything needed to continue: weights, optimizer, RNG state, epoch, configs, history.

    The configs, the history and the RNG state are stored as JSON text: the
    generator's state holds 128-bit integers, which no NumPy dtype can.
    """
    save({
        "model": model.state_dict(),
        "optimizer": optimizer_state(optimizer),
        "epoch": len(history),
        "rng": json.dumps(backend.get_rng_state()),
        "model_name": type(model).name,
        "model_config": json.dumps(dataclasses.asdict(model.config)),
        "train_config": json.dumps(dataclasses.asdict(config)),
        "history": json.dumps(history, allow_nan=False),
        "meta": json.dumps(meta or {}),
    }, path)


def load_checkpoint(path):
    """A checkpoint as a dict, with its JSON parts decoded; the arrays stay on the CPU.

    Every part is checked first, against what :func:`save_checkpoint` writes:
    a problem is a :class:`CheckpointError` naming the file and the field.
    The weights and the optimizer state are checked against a model and its
    optimizer when they are loaded into them.
    """
    try:
        state = load(path)
    except ValueError as e:                 # not a readable .npz file; the message names it
        raise CheckpointError(str(e)) from None
    missing = [part for part in PARTS if part not in state]
    unknown = [part for part in state if part not in PARTS]
    if missing or unknown:
        problems = [f"{label} {', '.join(map(repr, names))}"
                    for label, names in (("it has no", missing), ("it has unknown parts", unknown)) if names]
        raise CheckpointError(f"{path} is not a nanoae training checkpoint: {'; '.join(problems)}")
    for part in JSON_PARTS:
        state[part] = _decode_json(state, part, path)
    _check_model_part(state, path)
    _check_config(state["train_config"], "train_config", "TrainConfig", TRAIN_CONFIG_FIELDS, path)
    _check_history(state["history"], state["epoch"], path)
    _check_rng(state["rng"], path)
    if not isinstance(state["meta"], dict):
        raise CheckpointError(f"{path}: meta must be a JSON object, got {_describe(state['meta'])}")
    _check_optimizer_part(state, path)
    return state


def model_from_checkpoint(path, device="cpu"):
    """The model saved in a checkpoint, its weights loaded, on ``device``; and the checkpoint."""
    state = load_checkpoint(path)
    try:
        model = build_model(state["model_name"], state["model_config"], seed=state["train_config"]["seed"])
    except MemoryError as e:    # a model_config edited to ask for a huge model
        raise CheckpointError(f"{path}: the model its model_config describes does not fit in memory: {e}") from None
    load_weights(model, state, path)
    return model.to(device), state


def restore_checkpoint(path, model, optimizer):
    """Load weights, optimizer state (one optimizer or a dict of them) and RNG state into place;
    return the history so far.

    The weights are all checked before any is copied, and so is each
    optimizer's state; but an optimizer is checked only after the weights (and
    the optimizers before it) were loaded: after a CheckpointError, make the
    model and its optimizer afresh.
    """
    state = load_checkpoint(path)
    if state["model_name"] != type(model).name:
        raise CheckpointError(f"{path} holds a {state['model_name']!r} model, not a {type(model).name!r}")
    differences = [f"{field} {saved!r} there, {getattr(model.config, field)!r} here"
                   for field, saved in type(model.config)(**state["model_config"]).__dict__.items()
                   if getattr(model.config, field) != saved]
    if differences:
        raise CheckpointError(f"{path} holds a {type(model).__name__} of another configuration: "
                              + "; ".join(differences))
    load_weights(model, state, path)
    load_optimizer_state(optimizer, state["optimizer"], path)
    backend.set_rng_state(state["rng"])
    return state["history"]


def load_weights(model, state, path):
    """Copy the checkpoint's weights into ``model``: all of them, or none if a name or shape differs."""
    try:
        model.load_state_dict(state["model"])
    except ShapeError as e:
        raise CheckpointError(f"{path}: model (the weights) does not fit the {type(model).__name__} "
                              f"they go into: {e}") from None


def optimizer_state(optimizer):
    """An optimizer's state_dict; for a dict of named optimizers, {name: state_dict}."""
    if isinstance(optimizer, dict):
        return {name: opt.state_dict() for name, opt in optimizer.items()}
    return optimizer.state_dict()


def load_optimizer_state(optimizer, state, path):
    """The inverse of :func:`optimizer_state`; named optimizers must match the checkpoint's names.

    Each optimizer checks its own entries (names, numbers, buffer shapes); a
    problem becomes a CheckpointError naming the file and the optimizer.
    """
    if isinstance(optimizer, dict):
        if set(state) != set(optimizer):
            raise CheckpointError(f"{path} holds optimizers {sorted(state)}, the model makes {sorted(optimizer)}")
        named = [(f"optimizer/{name}", opt, state[name]) for name, opt in optimizer.items()]
    else:
        named = [("optimizer", optimizer, state)]
    for where, opt, opt_state in named:
        try:
            opt.load_state_dict(opt_state)
        except (KeyError, ValueError, TypeError) as e:
            message = e.args[0] if isinstance(e, KeyError) else e    # a KeyError's str() adds quotes
            raise CheckpointError(f"{path}: {where} does not fit the {type(opt).__name__}: {message}") from None


# --- checking the parts of a checkpoint ---------------------------------------------

def _decode_json(state, part, path):
    """The value of a part stored as JSON text."""
    text = state[part]
    if not isinstance(text, str):
        raise CheckpointError(f"{path}: {part} must be JSON text, got {_describe(text)}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{path}: {part} is not valid JSON ({e}): {reprlib.repr(text)}") from None


def _check_model_part(state, path):
    """model_name a known model, model_config a valid config of it, model a group of float arrays."""
    name = state["model_name"]
    if not isinstance(name, str) or name not in MODELS:
        raise CheckpointError(f"{path}: model_name {_describe(name)} is not a nanoae model; "
                              f"the models are {', '.join(sorted(MODELS))}")
    config_class = MODELS[name].config_class
    fields = {field.name: field.type for field in dataclasses.fields(config_class)}
    _check_config(state["model_config"], "model_config", config_class.__name__, fields, path)
    try:                                    # the config's own checks of the values
        config_class(**state["model_config"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: model_config is not a valid {config_class.__name__}: {e}") from None
    weights = state["model"]
    if not isinstance(weights, dict):
        raise CheckpointError(f"{path}: model must be the weights, a group of arrays, got {_describe(weights)}")
    for weight_name, weight in weights.items():
        if not (backend.is_array(weight) and weight.dtype.kind == "f"):
            raise CheckpointError(f"{path}: model/{weight_name} must be an array of floats, got {_describe(weight)}")


def _check_config(config, part, owner, fields, path):
    """``config`` a JSON object with exactly the fields of ``owner`` (a config class), each of its type;
    ``fields`` maps each field's name to its type, as the dataclass declares it."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: {part} must be a JSON object, got {_describe(config)}")
    has = f"(a {owner} has {', '.join(fields)})"
    unknown = [name for name in config if name not in fields]
    if unknown:
        what = "an unknown field" if len(unknown) == 1 else "unknown fields"
        raise CheckpointError(f"{path}: {part} has {what} {', '.join(map(repr, unknown))} {has}")
    missing = [name for name in fields if name not in config]
    if missing:
        raise CheckpointError(f"{path}: {part} lacks {', '.join(map(repr, missing))} {has}")
    for name, kind in fields.items():
        if not _fits_type(config[name], kind):
            kind_name = kind.__name__ if isinstance(kind, type) else kind      # int; tuple[int, ...]
            raise CheckpointError(f"{path}: {part} field {name!r} must be {kind_name}, got {_describe(config[name])}")


def _fits_type(value, kind):
    """Whether a value read from JSON fits a config field's type: int, float (an int will do:
    a hand edit may write 1 for 1.0), str, None, a union of them, or a tuple (a JSON list)."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        kinds = args[:1] * len(value) if args[-1:] == (Ellipsis,) else args     # tuple[int, ...] or [int, int]
        return len(value) == len(kinds) and all(_fits_type(item, item_kind) for item, item_kind in zip(value, kinds))
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        return any(_fits_type(value, arg) for arg in args)
    if kind is type(None):
        return value is None
    return isinstance(value, (int, float) if kind is float else kind) and not isinstance(value, bool)


def _check_history(history, epoch, path):
    """history a list of rows of finite numbers, their 'epoch' counting 1, 2, ...; epoch its length."""
    if not isinstance(history, list):
        raise CheckpointError(f"{path}: history must be a JSON list of rows, got {_describe(history)}")
    for number, row in enumerate(history, start=1):
        where = f"{path}: history row {number}"
        if not isinstance(row, dict):
            raise CheckpointError(f"{where} must be a JSON object, got {_describe(row)}")
        if not _fits_type(row.get("epoch"), int) or row["epoch"] != number:
            raise CheckpointError(f"{where} must have 'epoch': {number}, got {_describe(row.get('epoch'))}")
        bad = {key: value for key, value in row.items() if not (_fits_type(value, float) and math.isfinite(value))}
        if bad:
            raise CheckpointError(f"{where} must hold finite numbers, got {reprlib.repr(bad)}")
        if row.keys() != history[0].keys():
            raise CheckpointError(f"{where} has the fields {list(row)}, row 1 has {list(history[0])}")
    if not _fits_type(epoch, int) or epoch != len(history):
        raise CheckpointError(f"{path}: epoch is {_describe(epoch)}, but history has {len(history)} rows")


def _check_rng(rng, path):
    """rng a generator state of the form backend.get_rng_state() gives, with values the generator accepts."""
    problem = _structure_problem(rng, backend.get_rng_state(), "rng")
    if problem is None:
        try:    # the generator itself judges the values (a 128-bit state, ...), on a scratch generator
            backend.new_generator(0).bit_generator.state = rng
        except (ValueError, TypeError, OverflowError) as e:
            problem = f"rng is not a state the generator accepts: {e}"
    if problem:
        raise CheckpointError(f"{path}: {problem}")


def _structure_problem(value, template, name):
    """What differs between ``value`` and ``template`` in keys, nesting or types (a string must be
    equal), as a sentence naming the place (``name``); None if nothing does."""
    if isinstance(template, dict):
        if not isinstance(value, dict):
            return f"{name} must be a JSON object, got {_describe(value)}"
        if value.keys() != template.keys():
            return f"{name} must have the keys {sorted(template)}, got {sorted(value)}"
        problems = (_structure_problem(value[key], template[key], f"{name}[{key!r}]") for key in template)
        return next((problem for problem in problems if problem), None)
    if isinstance(template, str):
        return None if value == template else f"{name} must be {template!r}, got {_describe(value)}"
    if type(value) is not type(template):
        return f"{name} must be {type(template).__name__}, got {_describe(value)}"
    return None


def _check_optimizer_part(state, path):
    """optimizer a group of entries; for a model trained in phases (it has make_optimizers), a group
    of such groups, one per optimizer. The entries themselves are the optimizer's to check."""
    phased = hasattr(MODELS[state["model_name"]], "make_optimizers")
    optimizer = state["optimizer"]
    if not isinstance(optimizer, dict):
        raise CheckpointError(f"{path}: optimizer must be a group of entries, got {_describe(optimizer)}")
    for key, value in optimizer.items():
        if phased and not isinstance(value, dict):
            raise CheckpointError(f"{path}: optimizer/{key} must be the state of one optimizer (a model trained "
                                  f"in phases has one per phase), got {_describe(value)}")
        if not phased and isinstance(value, dict):
            raise CheckpointError(f"{path}: optimizer/{key} is a group of entries, but a {state['model_name']!r} "
                                  "model has one optimizer, whose entries are numbers and arrays")


def _describe(value):
    """A value from a checkpoint, short enough for an error message."""
    if backend.is_array(value):
        return f"an array of shape {value.shape} ({value.dtype})"
    return reprlib.repr(value)
