"""The training loop, shared by the command line and the notebooks.

Every model in :mod:`nanoae.models` has ``loss(x)`` returning the total loss
and its named terms, so one loop trains them all::

    from nanoae.models import VAE
    from nanoae.train import TrainConfig, fit

    model = VAE()
    history = fit(model, train_x, test_x, TrainConfig(epochs=5), out="runs/vae")

One epoch is: shuffle (in an order fixed by the seed and the epoch number),
then for each batch ``zero_grad, loss, backward, step``; then the mean of every
loss term over the test set, without gradients. After each epoch the loop
writes, in ``out``:

- ``checkpoint.npz``: weights, optimizer state, the random generator's state,
  the epoch, the configuration and the history so far; written atomically by
  :func:`nanoae.save`, so a crash never leaves half a checkpoint;
- ``history.csv`` and ``history.json``: one row per epoch.

Resuming from a checkpoint restores all of that, so the rest of the run gives
exactly the losses an uninterrupted run with the same seed gives. (On the CPU,
that is: noise drawn on the GPU comes from CuPy's generator, whose state CuPy
cannot save, so a resumed GPU run draws new noise and matches only in
distribution.)

A loss that becomes NaN or infinite stops training at once with
:class:`NonFiniteLossError`, naming the epoch and the batch; the checkpoint of
the last good epoch is left as it was.

Models trained in phases. A model that takes several steps per batch, each
with its own optimizer (the adversarial autoencoder: reconstruction, then
discriminator, then generator), defines two methods, and the loop uses them
instead of the single optimizer:

- ``make_optimizers(config)``: a dict of named optimizers, from the TrainConfig;
- ``train_step(x, optimizers)``: its phases on one batch (each doing its own
  ``zero_grad, backward, step``), returning ``(total, terms)`` as ``loss`` does.

The checkpoint then stores every optimizer's state under its name
(``optimizer/<name>/...`` in the file) and resuming restores them all. The
loss is checked after ``train_step`` rather than before the update, so a NaN
there stops training with the weights of that batch already changed (the
checkpoint still holds the last good epoch).
"""
import csv
import dataclasses
import json
import math
import os
import time

from tqdm.auto import tqdm

from nanoae import backend, optim
from nanoae.data import DataLoader
from nanoae.models import MODELS
from nanoae.serialization import load, save
from nanoae.autograd import no_grad

CHECKPOINT = "checkpoint.npz"
OPTIMIZERS = {"adam": optim.Adam, "sgd": optim.SGD}


@dataclasses.dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"     # "adam" or "sgd"
    seed: int = 0               # seeds the weights, the batch order and the model's noise
    device: str = "cpu"         # "cpu" or "gpu"
    eval_batch_size: int = 1000  # test batches only run forward, so they can be larger

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"TrainConfig: optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        backend.check_device(self.device)
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig: {name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig: lr must be positive, got {self.lr}")


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; training stopped before the weights were updated."""


def build_model(name, model_config=None, seed=0):
    """A model from its short name ("ae", "vae", ...) and its config (a dataclass or a dict),
    with weights drawn from ``seed``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    cls = MODELS[name]
    if isinstance(model_config, dict):
        model_config = cls.config_class(**model_config)
    backend.manual_seed(seed)
    return cls(model_config)


def make_optimizer(model, config):
    """The model's optimizer; a dict of named ones for a model trained in phases (module docstring)."""
    if is_phased(model):
        return model.make_optimizers(config)
    return OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr)


def is_phased(model):
    """Whether ``model`` trains itself in phases: it has both make_optimizers and train_step."""
    has = [hasattr(model, name) for name in ("make_optimizers", "train_step")]
    if any(has) and not all(has):
        raise TypeError(f"{type(model).__name__} must define both make_optimizers(config) and "
                        "train_step(x, optimizers) to be trained in phases, or neither")
    return all(has)


# --- one epoch ---------------------------------------------------------------------

def train_epoch(model, optimizer, loader, epoch, progress=True):
    """One pass over ``loader``; returns the mean of every loss term over the epoch.

    ``optimizer``: one optimizer, or the dict of a model trained in phases.
    """
    model.train()
    means = Means()
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, disable=not progress)
    phased = is_phased(model)
    for batch, x in enumerate(bar, start=1):
        where = f"at epoch {epoch}, batch {batch} of {len(loader)}"
        if phased:  # the model steps its own optimizers (a dict); the losses can only be checked afterwards
            total, terms = model.train_step(x, optimizer)
            value = total.item()
            bad = {name: t.item() for name, t in terms.items() if not math.isfinite(t.item())}
            if bad or not math.isfinite(value):
                raise NonFiniteLossError(f"the loss became non-finite {where} (total {value}, terms {bad}); "
                                         "training stopped after this batch's updates (try a smaller --lr)")
        else:
            optimizer.zero_grad()
            total, terms = model.loss(x)
            value = total.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(f"the loss became {value} {where}; "
                                         "training stopped before this update (try a smaller --lr)")
            total.backward()
            optimizer.step()
        means.add(value, terms, len(x))
        bar.set_postfix(loss=f"{value:.4g}", refresh=False)  # redrawn at the bar's own pace
    return means.result()


def evaluate(model, loader):
    """The mean of every loss term over ``loader``, without gradients, in eval mode."""
    model.eval()
    means = Means()
    with no_grad():
        for x in loader:
            total, terms = model.loss(x)
            means.add(total.item(), terms, len(x))
    model.train()
    return means.result()


class Means:
    """Per-example means of the total and of each loss term, over batches of any size.

    Each batch's values are already means over its examples, so they are
    weighted by the batch size: a short last batch counts for less.
    """

    def __init__(self):
        self.sums, self.count = {}, 0

    def add(self, total, terms, n):
        for name, value in {"total": total, **{k: t.item() for k, t in terms.items()}}.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.count += n

    def result(self):
        return {name: s / self.count for name, s in self.sums.items()}


# --- the loop ----------------------------------------------------------------------

def fit(model, train_x, test_x=None, config=None, out=None, resume=None, progress=True, meta=None):
    """Train ``model`` on the rows of ``train_x`` (a NumPy array, (N, D)) and return the history.

    The history is a list with one dict per epoch: ``epoch``, ``train_<term>``
    and ``test_<term>`` for every loss term (and ``total``), and ``seconds``.

    - ``config``: a :class:`TrainConfig` (the default one if None). Build the
      model after seeding (:func:`build_model` does) for a reproducible run.
    - ``out``: a folder for the checkpoint and the history files, or None.
    - ``resume``: a checkpoint written by an earlier run of the same model;
      training continues after its epoch, up to ``config.epochs``.
    - ``meta``: a dict of JSON-able facts stored with the checkpoint (the
      command line stores the model name and the dataset there).
    """
    config = config or TrainConfig()
    model.to(config.device)
    optimizer = make_optimizer(model, config)
    history, first_epoch = [], 1
    if resume is not None:
        history = restore_checkpoint(resume, model, optimizer)
        first_epoch = len(history) + 1
    train_loader = DataLoader(train_x, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                              device=config.device)
    test_loader = None if test_x is None else DataLoader(test_x, batch_size=config.eval_batch_size,
                                                         shuffle=False, device=config.device)
    if out is not None:
        os.makedirs(out, exist_ok=True)
    for epoch in range(first_epoch, config.epochs + 1):
        start = time.perf_counter()
        train_loader.set_epoch(epoch)
        row = {"epoch": epoch}
        row.update({f"train_{k}": v for k, v in train_epoch(model, optimizer, train_loader, epoch, progress).items()})
        if test_loader is not None:
            row.update({f"test_{k}": v for k, v in evaluate(model, test_loader).items()})
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        if progress:
            tqdm.write(format_row(row))
        if out is not None:
            save_checkpoint(os.path.join(out, CHECKPOINT), model, optimizer, history, config, meta)
            write_history(history, out)
    return history


def format_row(row):
    """'epoch 3  train total 123.4 recon 110.2 ...  test total ...  (5.1 s)'."""
    parts = [f"epoch {row['epoch']}"]
    for split in ("train", "test"):
        terms = [f"{k[len(split) + 1:]} {v:.4g}" for k, v in row.items() if k.startswith(split + "_")]
        if terms:
            parts.append(f"{split} " + " ".join(terms))
    return "  ".join(parts) + f"  ({row['seconds']:.1f} s)"


def write_history(history, out):
    """history.json (a list of rows) and history.csv (one line per epoch), each written atomically."""
    _write_atomically(os.path.join(out, "history.json"), lambda f: json.dump(history, f, indent=1))

    def write_csv(f):
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    _write_atomically(os.path.join(out, "history.csv"), write_csv)


def _write_atomically(path, write):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        write(f)
    os.replace(tmp, path)


# --- checkpoints -------------------------------------------------------------------

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
