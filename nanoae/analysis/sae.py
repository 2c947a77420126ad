"""What the field measures about a sparse autoencoder of activations (chapter 16).

For activations x (N, d), their reconstructions x_hat (N, d) and codes z (N, L):

- normalized MSE = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2: the error as
  a share of the error of always answering the mean activation. 0 is perfect,
  1 is no better than the mean, whatever the activations' scale (Gao et al. 2024).
- L0 = the mean number of active (nonzero) latents per input.
- dead latents: latents never active on any input of a pass over the data.
- downstream loss: the trained model's own loss when the layer's activations
  are replaced by their reconstructions. A small normalized MSE may still
  lose what the next layers need; this asks them.
- class mix: for each latent, the share of its total activation that comes
  from inputs of each class; a latent with most of its mass in one class is
  "mostly one class" (counted among the latents that fire often enough for the
  share to mean something). The same measure applies to the model's own units.

:func:`run_sae` makes one pass over the data in batches and keeps only what
these need (x_hat, the active count of each row, each latent's firing count
and class mass), never the whole (N, L) code. None of this imports NumPy: the
array module comes from the data, as in the engine.
"""
from dataclasses import dataclass

from nanoae import backend, checks, functional as F
from nanoae.autograd import Tensor, no_grad


def normalized_mse(x, x_hat):
    """sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 over rows (x, x_hat: arrays (N, d)), a float."""
    x, x_hat = x.astype("float64"), x_hat.astype("float64")     # sums of many squares: no float32 rounding
    error = ((x - x_hat) ** 2).sum()
    spread = ((x - x.mean(axis=0)) ** 2).sum()
    return float(error / spread)


def active_counts(z):
    """The number of active (nonzero) latents in each row of codes z (N, L): an int array (N,)."""
    return (z != 0).sum(axis=1)


def firing_counts(z):
    """For each latent, the number of rows of z (N, L) where it is active: an int array (L,)."""
    return (z != 0).sum(axis=0)


def dead_latents(counts):
    """How many latents never fired, from the firing counts (L,) of a whole pass (:func:`firing_counts`)."""
    return int((counts == 0).sum())


def class_mass(z, labels, num_classes):
    """M[j, c] = the sum of latent j's activations over the rows of class c: (L, C).

    ``z`` (N, L) non-negative codes (or a model's non-negative units), ``labels`` (N,) ints.
    """
    xp = backend.get_array_module(z)
    one_hot = (xp.asarray(labels)[:, None] == xp.arange(num_classes)).astype(z.dtype)    # (N, C)
    return z.T @ one_hot


def class_mix(mass):
    """Each row of a class mass (L, C) divided by its total: the share of each class (rows of 0 stay 0)."""
    xp = backend.get_array_module(mass)
    total = mass.sum(axis=1, keepdims=True)
    return mass / xp.where(total > 0, total, 1)


def mostly_one_class(mass, counts, share=0.8, min_count=1):
    """How many latents have at least ``share`` of their activation mass (rows of ``mass``, (L, C)) in
    a single class, among those that fired on at least ``min_count`` inputs (``counts``, (L,), from
    :func:`firing_counts`); returns (that count, the number of latents considered).

    A latent seen on a handful of inputs is "one class" by chance (on one input, always): ``min_count``
    leaves such rare latents out.
    """
    considered = counts >= max(min_count, 1)
    top = class_mix(mass).max(axis=1)
    return int((considered & (top >= share)).sum()), int(considered.sum())


@dataclass
class SAEPass:
    """What one pass of an SAE over activations x (N, d) leaves, enough for every measure."""
    x_hat: object        # (N, d) reconstructions
    active: object       # (N,) active latents per row
    counts: object       # (L,) rows where each latent fired
    mass: object         # (L, C) class mass, or None without labels

    def l0(self):
        return float(self.active.mean())

    def dead(self):
        return dead_latents(self.counts)


def run_sae(sae, x, labels=None, num_classes=None, batch_size=1000):
    """Run ``sae`` over the activations ``x`` (N, d) in batches, without gradients: an :class:`SAEPass`
    (arrays on the SAE's device). With ``labels`` (N,), also each latent's class mass."""
    checks.positive_int("run_sae", "batch_size", batch_size)
    xp = backend.array_module_for(sae.device)
    x = backend.to_device(x, sae.device)
    if labels is not None:
        labels = backend.to_device(labels, sae.device)
        num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    x_hat, active = [], []
    counts, mass = 0, 0
    with no_grad():
        for start in range(0, len(x), batch_size):
            z = sae.encode(Tensor(x[start:start + batch_size])).data                # (b, L)
            x_hat.append(sae.decode(Tensor(z)).data)
            active.append(active_counts(z))
            counts = counts + firing_counts(z)
            if labels is not None:
                mass = mass + class_mass(z, labels[start:start + batch_size], num_classes)
    return SAEPass(xp.concatenate(x_hat), xp.concatenate(active), counts, None if labels is None else mass)


def downstream_loss(head, x, labels, batch_size=1000):
    """The mean cross-entropy of ``head`` (a Module: activations -> logits) on activations ``x`` (N, d)
    against ``labels`` (N,): the model's own loss when its layer holds ``x``."""
    x = backend.to_device(x, head.device)
    total = 0.0
    with no_grad():
        for start in range(0, len(x), batch_size):
            rows = slice(start, start + batch_size)
            logits = head(Tensor(x[rows]))
            total += F.cross_entropy(logits, labels[rows], reduction="sum").item()
    return total / len(x)


def latent_activations(sae, x, latents, batch_size=1000):
    """The activations of the chosen ``latents`` (a list of indices) on every row of x: (N, len(latents))."""
    xp = backend.array_module_for(sae.device)
    x = backend.to_device(x, sae.device)
    with no_grad():
        columns = [sae.encode(Tensor(x[start:start + batch_size])).data[:, latents]
                   for start in range(0, len(x), batch_size)]
    return xp.concatenate(columns)


def top_rows(activations, n):
    """The indices of the ``n`` rows where a latent's ``activations`` (N,) are largest, largest first
    (fewer if it fired on fewer rows)."""
    xp = backend.get_array_module(activations)
    order = xp.argsort(-activations, kind="stable")[:n]
    return order[activations[order] > 0]
