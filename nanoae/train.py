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

Nothing non-finite gets through. A training loss, a gradient or a weight
that becomes NaN or infinite, or a test loss that does, stops training at
once with :class:`NonFiniteError`, naming the quantity, the epoch and the
batch. A bad gradient is caught before it is applied; the checkpoint of the
last good epoch is left as it was, and nothing non-finite is ever saved.

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

Models that start from the data, or change with training time. Two more
methods a model may define, and the loop then calls:

- ``start_from_data(train_x)``: once, before the first epoch of a fresh run (not
  on resume), to set weights from the training data (the semantic hashing
  autoencoder starts its decoder at the mean image);
- ``after_step()``: after every update, for a model whose behaviour depends on
  how many steps it has taken (the semantic hashing autoencoder's noise ramp).
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
        checks.non_negative_int("TrainConfig", "seed", self.seed)
        checks.positive("TrainConfig", "lr", self.lr)


class NonFiniteError(FloatingPointError):
    """A loss, a gradient or a weight became NaN or infinite; training stopped (the message says which)."""


def first_nonfinite(named_arrays):
    """The name of the first of ``(name, array)`` pairs whose array holds a NaN or an infinity, or None.

    A quick test first: the sum of squares of every array, one dot product
    each (BLAS, the fastest pass there is). NaN and infinity survive it, so a
    finite total, the common case, clears them all. A non-finite total means
    a NaN or an infinity, or squares too large for the dtype; only then is
    each array searched, exactly.
    """
    named_arrays = list(named_arrays)
    if not named_arrays:
        return None
    xp = backend.get_array_module(named_arrays[0][1])
    with backend.nonfinite_ignored(xp):
        if math.isfinite(float(sum(xp.dot(a.reshape(-1), a.reshape(-1)) for _, a in named_arrays))):
            return None
    return next((name for name, a in named_arrays if not bool(xp.isfinite(a).all())), None)


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
    Raises :class:`NonFiniteError` as soon as a loss, a gradient or a weight is not finite.
    """
    model.train()
    means = Means()
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, disable=not progress)
    phased = is_phased(model)
    for batch, x in enumerate(bar, start=1):
        where = f"at epoch {epoch}, batch {batch} of {len(loader)}"
        if phased:  # the model steps its own optimizers (a dict); the losses can only be checked afterwards
            values = loss_values(*model.train_step(x, optimizer))
            check_losses(model, values, where, "training stopped after this batch's updates")
        else:
            optimizer.zero_grad()
            total, terms = model.loss(x)
            values = loss_values(total, terms)
            check_losses(model, values, where, "training stopped before this update")
            total.backward()
            check_gradients(model, where)
            optimizer.step()
        if hasattr(model, "after_step"):
            model.after_step()
        means.add(values, len(x))
        bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)  # redrawn at the bar's own pace
    return means.result()


def loss_values(total, terms):
    """{"total": ..., term: ...} as Python numbers, each read from its tensor once (on a GPU, a read is a wait)."""
    return {"total": total.item(), **{name: t.item() for name, t in terms.items()}}


def check_losses(model, values, where, what_happened):
    """A NonFiniteError if the loss or one of its terms (``values``, from :func:`loss_values`) is not
    finite, naming the weight to blame when the last update already made one non-finite."""
    bad = {name: v for name, v in values.items() if not math.isfinite(v)}
    if not bad:
        return
    weight = first_nonfinite((name, p.data) for name, p in model.named_parameters())
    cause = (f"; the weight {weight} was already non-finite: the previous update made it so" if weight
             else "")
    raise NonFiniteError(f"the training loss became non-finite {where} ({_listed(bad)}){cause}; "
                         f"{what_happened} (try a smaller --lr)")


def check_gradients(model, where):
    """A NonFiniteError naming the parameter whose gradient is not finite (before it is applied)."""
    name = first_nonfinite((name, p.grad.data) for name, p in model.named_parameters() if p.grad is not None)
    if name is not None:
        raise NonFiniteError(f"the gradient of {name} became non-finite {where}; training stopped before "
                             "this update (try a smaller --lr)")


def check_weights(model, when):
    """A NonFiniteError naming the first weight that is not finite."""
    name = first_nonfinite((name, p.data) for name, p in model.named_parameters())
    if name is not None:
        raise NonFiniteError(f"the weight {name} became non-finite {when}: training stopped, and the last "
                             "checkpoint was left as it was (try a smaller --lr)")


def _listed(values):
    """{"total": nan, "kl": inf} -> 'total nan, kl inf'."""
    return ", ".join(f"{name} {value}" for name, value in values.items())


def evaluate(model, loader, epoch=None):
    """The mean of every loss term over ``loader``, without gradients, in eval mode.

    A NonFiniteError if the mean of a term is not finite (``epoch`` names it in the message).
    """
    model.eval()
    means = Means()
    with no_grad():
        for x in loader:
            means.add(loss_values(*model.loss(x)), len(x))
    model.train()
    result = means.result()
    bad = {name: v for name, v in result.items() if not math.isfinite(v)}
    if bad:
        raise NonFiniteError(f"the test loss became non-finite after epoch {epoch} ({_listed(bad)}): "
                             "training stopped, and the last checkpoint was left as it was (try a smaller --lr)")
    return result


class Means:
    """Per-example means of the total and of each loss term, over batches of any size.

    Each batch's values are already means over its examples, so they are
    weighted by the batch size: a short last batch counts for less.
    """

    def __init__(self):
        self.sums, self.count = {}, 0

    def add(self, values, n):
        """``values``: the batch's {"total": ..., term: ...} (:func:`loss_values`); n: its size."""
        for name, value in values.items():
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
      training continues after its epoch, up to ``config.epochs``. The config
      passed here is the one that holds from then on: its device, batch size
      and learning rate replace the checkpoint's (with the same config, the
      run continues exactly as if it had never stopped).
    - ``meta``: a dict of JSON-able facts stored with the checkpoint (the
      command line stores the model name and the dataset there).

    Nothing is written when there is no epoch left to train.
    """
    config = config or TrainConfig()
    model.to(config.device)
    optimizer = make_optimizer(model, config)
    history, first_epoch = [], 1
    if resume is not None:
        rates = learning_rates(optimizer)                 # as this config sets them
        history = restore_checkpoint(resume, model, optimizer)
        set_learning_rates(optimizer, rates)              # the config's rates hold from here on
        first_epoch = len(history) + 1
    elif hasattr(model, "start_from_data"):
        model.start_from_data(train_x)
    train_loader = DataLoader(train_x, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                              device=config.device)
    test_loader = None if test_x is None else DataLoader(test_x, batch_size=config.eval_batch_size,
                                                         shuffle=False, device=config.device)
    if out is not None and first_epoch <= config.epochs:
        os.makedirs(out, exist_ok=True)
    for epoch in range(first_epoch, config.epochs + 1):
        start = time.perf_counter()
        train_loader.set_epoch(epoch)
        row = {"epoch": epoch}
        row.update({f"train_{k}": v for k, v in train_epoch(model, optimizer, train_loader, epoch, progress).items()})
        check_weights(model, f"during epoch {epoch}")
        if test_loader is not None:
            row.update({f"test_{k}": v for k, v in evaluate(model, test_loader, epoch).items()})
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        if progress:
            tqdm.write(format_row(row))
        if out is not None:
            save_checkpoint(os.path.join(out, CHECKPOINT), model, optimizer, history, config, meta)
            write_history(history, out)
    return history


def learning_rates(optimizer):
    """The learning rate of an optimizer, or {name: rate} for a dict of them."""
    if isinstance(optimizer, dict):
        return {name: opt.lr for name, opt in optimizer.items()}
    return optimizer.lr


def set_learning_rates(optimizer, rates):
    """The inverse of :func:`learning_rates`."""
    if isinstance(optimizer, dict):
        for name, opt in optimizer.items():
            opt.lr = rates[name]
    else:
        optimizer.lr = rates


def format_row(row):
    """'epoch 3  train total 123.4 recon 110.2 ...  test total ...  (5.1 s)'."""
    parts = [f"epoch {row['epoch']}"]
    for split in ("train", "test"):
        terms = [f"{k[len(split) + 1:]} {v:.4g}" for k, v in row.items() if k.startswith(split + "_")]
        if terms:
            parts.append(f"{split} " + " ".join(terms))
    return "  ".join(parts) + f"  ({row['seconds']:.1f} s)"
