"""DATASET = "auto": the dataset a first run can use on this machine.

The chapters start with ``DATASET = "auto"`` so that a notebook runs
wherever it is opened, online or not, without editing. "auto" takes the
first of these that works:

1. MNIST, when both its splits are on disk (:mod:`nanoae.data.mnist` says
   where it looks);
2. MNIST, downloaded now, when ``download=True`` and a mirror sends it;
3. Fashion-MNIST, when both its splits are on disk (Debian's
   ``dataset-fashion-mnist`` package puts them in
   /usr/share/datasets/fashion-mnist);
4. fontdigits, which nanoae draws itself, so it always works.

It prints one line: which dataset was used, why, and how to choose another.

Why the choice is remembered: a notebook loads "train" and then "test", and
both must come from the same dataset. Choosing again for "test" could give
another answer (a mirror that stopped answering in between) and would print
the line twice. So the first choice is kept for the rest of the process, one
for each set of search folders and ``download`` flag. Files added later are
seen after restarting the kernel, or after :func:`forget_choices` (which the
tests call).
"""
from nanoae.data import mnist
from nanoae.data.dataset import WHERE_TO_CHOOSE
from nanoae.data.download import DownloadError

AUTO = "auto"
DATASETS = (AUTO, "fontdigits", *mnist.SOURCES)  # what load_dataset and `nanoae train --dataset` take

_chosen = {}  # (search folders of MNIST and Fashion-MNIST, download) -> the dataset "auto" chose


def check_dataset_name(name):
    """Refuse a name that is not one of :data:`DATASETS`, listing them."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; the datasets are {', '.join(DATASETS)}")


def choose_dataset(name=AUTO, root=None, download=True):
    """(dataset, reason): the dataset ``name`` stands for here, and why, in a few words.

    A dataset named outright stands for itself. "auto" stands for the first
    that works in the order of the module docstring, and may download MNIST
    to find out. This neither prints nor remembers; :func:`resolve_dataset`,
    which ``load_dataset`` calls, does both.
    """
    check_dataset_name(name)
    if name != AUTO:
        return name, "asked for by name"
    folder = mnist.on_disk("mnist", root)
    if folder is not None:
        return "mnist", f"MNIST is on disk in {folder}"
    if download:
        try:
            return "mnist", f"MNIST was downloaded into {mnist.download_missing('mnist', root)}"
        except OSError as e:  # no network, no mirror with the file, a data folder that cannot be made
            why = e.short_reason() if isinstance(e, DownloadError) else str(e)
            no_mnist = f"MNIST is not on disk and could not be downloaded: {why}"
    else:
        no_mnist = "MNIST is not on disk, and download=False"
    folder = mnist.on_disk("fashion-mnist", root)
    if folder is not None:
        return "fashion-mnist", f"{no_mnist}; Fashion-MNIST is on disk in {folder}"
    return "fontdigits", f"{no_mnist}; Fashion-MNIST is not on disk either; fontdigits needs no files"


def resolve_dataset(name, root=None, download=True):
    """The dataset to load for ``name``: itself, or what "auto" chooses, chosen and printed once."""
    check_dataset_name(name)
    if name != AUTO:
        return name
    key = (tuple(mnist.search_dirs("mnist", root)), tuple(mnist.search_dirs("fashion-mnist", root)), download)
    if key not in _chosen:
        chosen, reason = choose_dataset(AUTO, root, download)
        print(f'dataset "auto" -> {chosen} ({reason}); to choose, set DATASET = "mnist", "fashion-mnist" '
              f'or "fontdigits" {WHERE_TO_CHOOSE}')
        _chosen[key] = chosen
    return _chosen[key]


def forget_choices():
    """Forget what "auto" chose, so that the next load chooses again and prints its line again."""
    _chosen.clear()
