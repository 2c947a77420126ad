"""Figures for a trained autoencoder, saved as PNG files.

The drawing functions take NumPy arrays and a path; :func:`save_figures` runs
a trained model on test images and draws every figure that fits the model:

- ``reconstructions.png``: test inputs above their reconstructions;
- ``latent.png``: the codes of test images coloured by label (the first two
  principal components when the code has more than two dimensions);
- ``loss.png``: every loss term per epoch, train and test;
- models with a prior (VAE, AAE): ``samples.png`` (decoded draws from the prior) and, for a
  2-D latent space, ``manifold.png`` (the decoder over a grid of z);
- models with a codebook (the VQ-VAE, whose ``codes`` gives each image's grid of codes):
  ``code_usage.png``, how often each code is used on test images, with the perplexity and the dead codes.

Every figure copes with small runs: a 1-D code is drawn as a strip, a single
test image or a single class still gives a figure. And a figure that fails
anyway is skipped with a note rather than failing the training run it
illustrates.

Figures are made with ``matplotlib.figure.Figure`` rather than pyplot: they
draw straight to a file, need no screen, and leave pyplot's global state (and a
notebook's inline backend) alone. Each PNG is written atomically, like every
file of a run.
"""
import os
import statistics

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from nanoae import backend
from nanoae.analysis.codebook import code_counts, codebook_health
from nanoae.autograd import Tensor, no_grad
from nanoae.serialization import atomic_write

# The figures save_figures may write into a run folder.
FIGURES = ("reconstructions.png", "latent.png", "loss.png", "samples.png", "manifold.png", "code_usage.png")


def png_path(path):
    """``path`` with ".png" added when it has no extension (matplotlib would add it silently)."""
    return path if os.path.splitext(path)[1] else path + ".png"


def _save(fig, path):
    """Write ``fig`` as a PNG to ``path`` (".png" added if it has no extension); returns the path written."""
    path = png_path(os.fspath(path))
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=100, bbox_inches="tight")
    return path


def tile(images, rows, cols):
    """(n, 28, 28) or (n, 784) images in [0, 1] -> one (rows*28, cols*28) image, row by row."""
    images = np.asarray(images, dtype=np.float32)
    side = int(round(images[0].size ** 0.5))
    images = images.reshape(-1, side, side)[: rows * cols]
    canvas = np.zeros((rows * cols, side, side), dtype=np.float32)  # no ink where images run out: white under gray_r
    canvas[: len(images)] = images
    return canvas.reshape(rows, cols, side, side).transpose(0, 2, 1, 3).reshape(rows * side, cols * side)


def image_grid(images, path, title, cols=10):
    """Images in a grid, ``cols`` per row."""
    rows = -(-len(images) // cols)
    fig = Figure(figsize=(cols * 0.6, rows * 0.6 + 0.5))
    ax = fig.subplots()
    ax.imshow(tile(images, rows, cols), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return _save(fig, path)


def reconstruction_grid(x, x_hat, path, title="Test inputs (top) and their reconstructions (bottom)"):
    """Pairs of rows: inputs, then their reconstructions."""
    n = len(x)
    cols = min(n, 10)
    rows = -(-n // cols)
    pairs = np.concatenate([np.stack([x[r * cols:(r + 1) * cols], x_hat[r * cols:(r + 1) * cols]])
                            for r in range(rows)]).reshape(-1, x.shape[-1])
    fig = Figure(figsize=(cols * 0.6, 2 * rows * 0.6 + 0.5))
    ax = fig.subplots()
    ax.imshow(tile(pairs, 2 * rows, cols), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return _save(fig, path)


def pca_2d(codes):
    """Project (n, d) codes on their first two principal components (by SVD of the centred codes).

    Fewer than two examples have fewer than two components: the missing
    coordinates are 0.
    """
    centred = codes - codes.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    points = np.zeros((len(codes), 2))
    points[:, :min(2, len(vt))] = centred @ vt[:2].T
    return points


def latent_scatter(codes, labels, path, class_names=None, title="Codes of test images"):
    """A scatter of 2-D codes (or of the first two principal components of longer ones).

    A 1-D code is drawn as a strip: the code along x, each class at its own
    height (y = the class's index, plus a little jitter so that points do not hide each other).
    """
    codes = np.asarray(codes, dtype=np.float64).reshape(len(codes), -1)
    labels = np.asarray(labels)
    projected = codes.shape[1] > 2
    if codes.shape[1] == 1:
        jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(codes))
        points = np.stack([codes[:, 0], np.searchsorted(np.unique(labels), labels) + jitter], axis=1)
    else:
        points = pca_2d(codes) if projected else codes
    fig = Figure(figsize=(6.5, 5.5))
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    for k in np.unique(labels):
        mask = labels == k
        name = class_names[k] if class_names is not None else str(k)
        ax.scatter(points[mask, 0], points[mask, 1], s=4, alpha=0.6, color=cmap(int(k) % 10), label=name)
    ax.legend(markerscale=3, fontsize=7, loc="best")
    if projected:
        ax.set_xlabel("principal component 1 of the code")
        ax.set_ylabel("principal component 2 of the code")
        title += f" ({codes.shape[1]}-D, projected by PCA)"
    elif codes.shape[1] == 1:
        ax.set_xlabel("$z$")
        ax.set_ylabel("class")
        ax.set_yticks([])
        title += " (1-D)"
    else:
        ax.set_xlabel("$z_1$")
        ax.set_ylabel("$z_2$")
    ax.set_title(title)
    return _save(fig, path)


def loss_curves(history, path, title="Loss per epoch"):
    """One panel per loss term, train and test lines against the epoch."""
    epochs = [row["epoch"] for row in history]
    terms = [k[len("train_"):] for k in history[0] if k.startswith("train_")]
    fig = Figure(figsize=(4 * len(terms), 3.2), layout="tight")
    axes = fig.subplots(1, len(terms), squeeze=False)
    for ax, term in zip(axes[0], terms):
        for split, style in (("train", "-o"), ("test", "--s")):
            key = f"{split}_{term}"
            if key in history[0]:
                ax.plot(epochs, [row[key] for row in history], style, markersize=3, label=split)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
        ax.set_ylabel(f"{term} (per example)")
        ax.set_title(term)
        ax.legend()
    fig.suptitle(title)
    return _save(fig, path)


def loss_curve(values, path, title, xlabel, ylabel="loss"):
    """One line of losses, e.g. skip-gram's mean loss per pair over stretches of training steps."""
    fig = Figure(figsize=(5, 3.2), layout="tight")
    ax = fig.subplots()
    ax.plot(np.arange(1, len(values) + 1), values, "-")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def word_map(points, words, groups, path, title):
    """Words at 2-D points (n, 2), written beside their dot, coloured by group (one name per word)."""
    fig = Figure(figsize=(7, 6), layout="tight")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    for k, group in enumerate(dict.fromkeys(groups)):
        mask = np.array([g == group for g in groups])
        ax.scatter(points[mask, 0], points[mask, 1], s=12, color=cmap(k % 10), label=group)
    for (x, y), word in zip(points, words):
        ax.annotate(word, (x, y), textcoords="offset points", xytext=(3, 3), fontsize=8)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title)
    return _save(fig, path)


def manifold_grid(decode, path, n=15, side=28, span=None):
    """Decode a grid of n x n points z in a 2-D latent space and tile the images.

    By default the points are the Gaussian quantiles of evenly spaced
    probabilities (as in Kingma & Welling's figure): equal steps in probability
    mass under an N(0, I) prior. With ``span`` they are evenly spaced in
    [-span, span] instead, for a prior of another shape (the adversarial
    autoencoder's ring of Gaussians, whose centre is empty).
    """
    if span is None:
        quantiles = [statistics.NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
    else:
        quantiles = list(np.linspace(-span, span, n))
    z = np.array([[z1, z2] for z2 in reversed(quantiles) for z1 in quantiles], dtype=np.float32)
    images = decode(z)
    fig = Figure(figsize=(7, 7))
    ax = fig.subplots()
    ax.imshow(tile(images, n, n), cmap="gray_r", vmin=0, vmax=1,
              extent=(quantiles[0], quantiles[-1], quantiles[0], quantiles[-1]))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title("Decoder over a grid of the 2-D latent space")
    return _save(fig, path)


def code_usage(counts, path, title="Code usage"):
    """Bars of how often each code is used (``counts`` (K,), from ``analysis.codebook.code_counts``),
    most used first, on a log scale; the title gives the perplexity and the dead codes."""
    counts = np.asarray(counts)
    health = codebook_health(counts)
    share = np.sort(counts)[::-1] / counts.sum()
    fig = Figure(figsize=(8, 3.5))
    ax = fig.subplots()
    ax.bar(np.arange(len(share)), np.where(share > 0, share, np.nan), width=1.0, color="tab:blue")
    ax.set_yscale("log")
    ax.set_xlim(-0.5, len(share) - 0.5)
    ax.set_xlabel("codes, most used first")
    ax.set_ylabel("share of the places")
    ax.set_title(f"{title}: perplexity {health['perplexity']:.1f} of {len(counts)}, "
                 f"{health['dead']} dead ({100 * health['dead_share']:.0f}%)", fontsize=10)
    return _save(fig, path)


def roc_curves(curves, path, title):
    """ROC curves, one per score: ``curves`` maps a label to (false-positive rates, true-positive rates)
    as :func:`nanoae.analysis.metrics.roc_curve` returns them. The diagonal is a score that guesses."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    for label, (fpr, tpr) in curves.items():
        ax.plot(backend.to_numpy(fpr), backend.to_numpy(tpr), label=label)
    ax.plot([0, 1], [0, 1], color="gray", linestyle=":", label="chance")
    ax.set_xlabel("false-positive rate (normal images flagged)")
    ax.set_ylabel("true-positive rate (anomalies flagged)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def run_on_array(fn, array, model):
    """``fn`` (a method of ``model``, e.g. ``model.reconstruct``) applied to a NumPy array
    without gradients, on the model's device; the result comes back as a NumPy array."""
    with no_grad():
        return backend.to_numpy(fn(Tensor(backend.to_device(array, model.device))).data)


def save_figures(model, test_x, test_labels, history, out, class_names=None, n_scatter=2000):
    """Every figure that fits ``model``, saved under ``out``.

    Returns ``(written, skipped)``: the paths written, and a one-line note for
    each figure that failed (the figures are extras: a failure must not fail
    the training run they illustrate).
    """
    os.makedirs(out, exist_ok=True)
    model.eval()
    written, skipped = [], []
    for name, draw in _figures(model, test_x, test_labels, history, class_names, n_scatter):
        try:
            written.append(draw(os.path.join(out, name)))
        except Exception as e:   # noqa: BLE001 -- any failure of a figure is reported, not raised
            skipped.append(f"{name}: {type(e).__name__}: {e}")
    model.train()
    return written, skipped


def _figures(model, test_x, test_labels, history, class_names, n_scatter):
    """(file name, draw(path)) for each figure that fits the model."""
    n = min(n_scatter, len(test_x))
    figures = [
        ("reconstructions.png", lambda path: reconstruction_grid(
            test_x[:20], run_on_array(model.reconstruct, test_x[:20], model), path)),
        ("latent.png", lambda path: latent_scatter(
            run_on_array(model.code, test_x[:n], model), test_labels[:n], path, class_names)),
    ]
    if history:
        figures.append(("loss.png", lambda path: loss_curves(history, path)))
    if hasattr(model, "codes"):
        figures.append(("code_usage.png", lambda path: code_usage(_code_counts(model, test_x), path,
                                                                   f"Code usage on {len(test_x)} test images")))
    if hasattr(model, "sample"):
        figures.append(("samples.png", lambda path: image_grid(
            _samples(model, 100), path, f"Samples from the prior {model.prior_description}")))
        if model.config.latent_dim == 2:
            figures.append(("manifold.png", lambda path: manifold_grid(
                lambda z: run_on_array(model.decode, z, model), path, span=model.prior_span)))
    return figures


def _code_counts(model, test_x, batch_size=1000):
    """How often each code of ``model``'s codebook occurs in the codes of ``test_x`` (K,)."""
    counts = np.zeros(model.config.codebook_size, dtype=np.int64)
    for start in range(0, len(test_x), batch_size):
        counts += code_counts(run_on_array(model.codes, test_x[start:start + batch_size], model), len(counts))
    return counts


def _samples(model, n):
    with no_grad():
        return backend.to_numpy(model.sample(n).data)
