"""The training loop, shared by the command line and the notebooks.

Every model in :mod:`nanoae.models` has ``loss(x)`` returning the total loss
and its named terms, so one loop trains them all::

    from nanoae.models import build_model
    from nanoae.train import TrainConfig, fit

    model = build_model("vae", seed=0)
    history = fit(model, train_x, test_x, TrainConfig(epochs=5), out="runs/vae")

One epoch is: shuffle (in an order fixed by the seed and the epoch number),
then for each batch ``zero_grad, loss, backward, step``; then the mean of every
loss term over the test set, without gradients. After each epoch the loop
writes the checkpoint and the history files in ``out`` (what they hold, and
how they are written: :mod:`nanoae.checkpoint`).

Resuming from a checkpoint restores the weights, the optimizer and the random
generator, so the rest of the run gives exactly the losses an uninterrupted
run with the same seed gives. (On the CPU, that is: noise drawn on the GPU
comes from CuPy's generator, whose state CuPy cannot save, so a resumed GPU
run draws new noise and matches only in distribution.)

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

The checkpoint then stores every optimizer's state under its name, and
resuming restores them all. The loss is checked after ``train_step`` rather
than before the update, so a NaN there stops training with the weights of
that batch already changed (the checkpoint still holds the last good epoch).

Models that change with training time. A model whose behaviour depends on
how many steps it has taken (the semantic hashing autoencoder's noise ramp)
defines ``after_step()``; the loop calls it after every update.
"""
import dataclasses
import math
import os
import time

from tqdm.auto import tqdm

from nanoae import backend, checks, optim
from nanoae.autograd import no_grad
from nanoae.checkpoint import CHECKPOINT, restore_checkpoint, save_checkpoint, write_history
from nanoae.data import DataLoader


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
        checks.choice("TrainConfig", "optimizer", self.optimizer, sorted(optim.OPTIMIZERS))
        backend.check_device(self.device)
        for name in ("epochs", "batch_size", "eval_batch_size"):
            checks.positive_int("TrainConfig", name, getattr(self, name))
        checks.positive("TrainConfig", "lr", self.lr)


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; training stopped before the weights were updated."""


def make_optimizer(model, config):
    """The model's optimizer; a dict of named ones for a model trained in phases (module docstring)."""
    if is_phased(model):
        return model.make_optimizers(config)
    return optim.OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr)


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
        if hasattr(model, "after_step"):
            model.after_step()
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
      model after seeding (``nanoae.models.build_model`` does) for a reproducible run.
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
