"""Datasets of 28x28 images and a DataLoader that batches them.

::

    from nanoae.data import load_dataset, DataLoader

    train = load_dataset("auto", split="train")  # or "mnist", "fashion-mnist", "fontdigits"
    loader = DataLoader(train.inputs(), train.labels, batch_size=128)
    for x, y in loader:                                  # x: (128, 784) float32 Tensor
        ...

| file | what is inside |
| --- | --- |
| ``dataset.py`` | ``Dataset`` (images, labels, class names) and the data folder |
| ``choice.py`` | ``"auto"``: MNIST, else Fashion-MNIST, else fontdigits, whichever this machine has |
| ``fontdigits.py`` | MNIST-like digits made from matplotlib's fonts: no download |
| ``mnist.py`` | MNIST and Fashion-MNIST: found on disk or downloaded, checked |
| ``download.py`` | one file from a list of mirrors, checked by its SHA-256 |
| ``idx.py`` | the IDX file format they come in |
| ``loader.py`` | ``DataLoader``: shuffled mini-batches of tensors |
"""
from nanoae import checks
from nanoae.data.choice import DATASETS, check_dataset_name, choose_dataset, forget_choices, resolve_dataset
from nanoae.data.dataset import SPLITS, Dataset, data_home, data_homes
from nanoae.data.download import ChecksumError, DownloadError
from nanoae.data.fontdigits import load_fontdigits
from nanoae.data.idx import IDXError, read_idx, write_idx
from nanoae.data.loader import DataLoader
from nanoae.data.mnist import DatasetNotFoundError, load_mnist


def load_dataset(name, split="train", limit=None, root=None, download=True):
    """Split ``split`` ("train" or "test") of dataset ``name``, one of :data:`DATASETS`.

    "auto" loads the first of MNIST, Fashion-MNIST and fontdigits that this
    machine has (:mod:`nanoae.data.choice`), the same for both splits, and
    prints one line saying which. limit: keep only the first ``limit``
    examples. root: a data folder to look in first and to download and cache
    into, instead of ``$NANOAE_DATA`` or ``~/.cache/nanoae``. download:
    whether MNIST and Fashion-MNIST may be downloaded when they are not on disk.
    """
    check_dataset_name(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are {', '.join(SPLITS)}")
    if limit is not None:
        checks.positive_int("load_dataset", "limit", limit)
    name = resolve_dataset(name, root, download)
    if name == "fontdigits":
        return load_fontdigits(split, limit, root)
    return load_mnist(name, split, limit, root, download)


def load_splits(name, limit=None, root=None, download=True):
    """(train, test): both splits of dataset ``name``, each cut to ``limit`` examples when it is given."""
    return (load_dataset(name, "train", limit, root, download), load_dataset(name, "test", limit, root, download))


__all__ = ["DATASETS", "ChecksumError", "DataLoader", "Dataset", "DatasetNotFoundError", "DownloadError", "IDXError",
           "choose_dataset", "data_home", "data_homes", "forget_choices", "load_dataset", "load_splits", "read_idx",
           "resolve_dataset", "write_idx"]
