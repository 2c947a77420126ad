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
"""
import csv
import dataclasses
import json
import os

from nanoae import backend
from nanoae.models import build_model
from nanoae.serialization import atomic_write, load, save

CHECKPOINT = "checkpoint.npz"
HISTORY_FILES = ("history.csv", "history.json")


def write_history(history, out):
    """history.json (a list of rows) and history.csv (one line per epoch), each written atomically."""
    with atomic_write(os.path.join(out, "history.json"), "w", newline="") as f:
        json.dump(history, f, indent=1)
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
        "history": json.dumps(history),
        "meta": json.dumps(meta or {}),
    }, path)


def load_checkpoint(path):
    """A checkpoint as a dict, with its JSON parts decoded; the arrays stay on the CPU."""
    state = load(path)
    missing = {"model", "optimizer", "epoch", "rng", "model_name", "model_config", "train_config",
               "history"} - set(state)
    if missing:
        raise ValueError(f"{path} is not a nanoae training checkpoint: it has no {sorted(missing)}")
    for key in ("rng", "model_config", "train_config", "history", "meta"):
        if key in state:
            state[key] = json.loads(state[key])
    return state


def model_from_checkpoint(path, device="cpu"):
    """The model saved in a checkpoint, its weights loaded, on ``device``; and the checkpoint."""
    state = load_checkpoint(path)
    model = build_model(state["model_name"], state["model_config"], seed=state["train_config"]["seed"])
    model.load_state_dict(state["model"])
    return model.to(device), state


def restore_checkpoint(path, model, optimizer):
    """Load weights, optimizer state (one optimizer or a dict of them) and RNG state into place;
    return the history so far."""
    state = load_checkpoint(path)
    if state["model_name"] != type(model).name:
        raise ValueError(f"{path} holds a {state['model_name']!r} model, not a {type(model).name!r}")
    model.load_state_dict(state["model"])
    load_optimizer_state(optimizer, state["optimizer"], path)
    backend.set_rng_state(state["rng"])
    return state["history"]


def optimizer_state(optimizer):
    """An optimizer's state_dict; for a dict of named optimizers, {name: state_dict}."""
    if isinstance(optimizer, dict):
        return {name: opt.state_dict() for name, opt in optimizer.items()}
    return optimizer.state_dict()


def load_optimizer_state(optimizer, state, path):
    """The inverse of :func:`optimizer_state`; named optimizers must match the checkpoint's names."""
    if not isinstance(optimizer, dict):
        optimizer.load_state_dict(state)
        return
    if set(state) != set(optimizer):
        raise ValueError(f"{path} holds optimizers {sorted(state)}, the model makes {sorted(optimizer)}")
    for name, opt in optimizer.items():
        opt.load_state_dict(state[name])
