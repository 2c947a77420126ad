"""MNIST and Fashion-MNIST: find their IDX files on disk, or download them once.

Each dataset is four files (``train-images-idx3-ubyte`` and so on), plain or
``.gz``. They are looked for in these folders, in this order:

1. ``<root>/<name>``, when ``root`` is given;
2. ``$NANOAE_DATA/<name>``, when that variable is set;
3. ``~/.cache/nanoae/<name>``;
4. ``/usr/share/datasets/<name>``, where Debian's ``dataset-fashion-mnist``
   package puts Fashion-MNIST.

A folder is used when it holds both files of the split asked for. If none
does, the two files are downloaded into the first of folders 1-3 that
applies, from each mirror in turn until one sends the right bytes
(:mod:`nanoae.data.download`: SHA-256 checked, written atomically).

A dataset that is truly missing (not on disk, not downloadable) is one
:class:`DatasetNotFoundError` whose message is the whole story: where it
looked, what each mirror answered, and which line to change to go on.

The files found are checked before they become a :class:`Dataset`: uint8
images of 28x28, one uint8 label in 0..9 per image. Every error about a file
starts with its full path, so a damaged file can be found and deleted.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy

from nanoae.data.dataset import DIGITS, SPLITS, WHERE_TO_CHOOSE, Dataset, data_homes
from nanoae.data.download import DownloadError, download_file
from nanoae.data.idx import IDXError, read_idx

SYSTEM_DIR = Path("/usr/share/datasets")
IMAGE_SHAPE = (28, 28)  # (height, width) of every MNIST and Fashion-MNIST image

# split -> (images file, labels file), without the .gz
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class Source:
    """Where a dataset is downloaded from and what its files must hash to."""
    mirrors: tuple      # base URLs, tried in order
    sha256: dict        # file name (.gz) -> SHA-256 of the file as downloaded
    classes: list
    apt_package: str | None = None


SOURCES = {
    "mnist": Source(
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        classes=list(DIGITS),
    ),
    # The hashes of the files on the mirror. Debian's package holds the same
    # compressed data with the file name and time stamp dropped from each
    # gzip header, so its .gz files hash differently; they are found, not
    # downloaded, and read_idx still checks their structure.
    "fashion-mnist": Source(
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
        sha256={
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        classes=["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        apt_package="dataset-fashion-mnist",
    ),
}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset asked for by name is nowhere on disk and could not be downloaded.

    The message is the whole story, and it is short: what is missing, why
    (where it looked, what each mirror answered), then which line to change.
    It is raised ``from None``, so Python prints no second, chained
    traceback of the download's inner errors above it.
    """

    def _render_traceback_(self):
        """What Jupyter shows for this error instead of the traceback: the message alone.

        IPython calls this method, when an exception has it, in place of
        formatting the frames; the frames inside nanoae would only push the
        line to change out of sight.
        """
        first, *rest = str(self).splitlines()
        return [f"{type(self).__name__}: {first}", *rest]


def search_dirs(name, root=None):
    """The folders to look for dataset ``name`` in, in order (see the module docstring)."""
    bases = data_homes(root) + [SYSTEM_DIR]
    # absolute, so that messages name the folder even when root or $NANOAE_DATA is relative
    return list(dict.fromkeys((base / name).absolute() for base in bases))  # in order, without repeats


def _find(folder, stem):
    """``folder/stem`` or ``folder/stem.gz``, whichever exists, else None."""
    for path in (folder / stem, folder / f"{stem}.gz"):
        if path.is_file():
            return path
    return None


def find_split(folders, split):
    """The (images, labels) paths in the first of ``folders`` that holds both, else None."""
    for folder in folders:
        paths = [_find(folder, stem) for stem in FILES[split]]
        if all(paths):
            return paths
    return None


def on_disk(name, root=None):
    """The folder that holds dataset ``name``'s train split if both its splits are on disk, else None."""
    folders = search_dirs(name, root)
    found = [find_split(folders, split) for split in SPLITS]
    return found[0][0].parent if all(found) else None


def download_split(name, split, folder):
    """Download the files of ``split`` that ``folder`` lacks; return both paths."""
    source = SOURCES[name]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem in FILES[split]:
        file = f"{stem}.gz"
        urls = [mirror + file for mirror in source.mirrors]
        paths.append(_find(folder, stem) or download_file(urls, folder / file, source.sha256[file]))
    return paths


def download_missing(name, root=None):
    """Download the files of both splits of ``name`` that are on disk nowhere; return the folder they go to.

    Raises OSError (a :class:`~nanoae.data.download.DownloadError` when no mirror gave a file).
    """
    folders = search_dirs(name, root)
    for split in SPLITS:
        if find_split(folders, split) is None:
            download_split(name, split, folders[0])
    return folders[0]


def _why_lines(error):
    """One line per mirror tried, from the error that ended a download."""
    if isinstance(error, DownloadError):
        return [f"Downloading failed from {failure.url}: {failure.reason}" for failure in error.failures]
    return [f"Downloading failed: {error}"]  # e.g. a data folder that cannot be created


def _instead(name, root):
    """The line that says what to set DATASET to instead of ``name``, with what is on disk here."""
    options = ['"auto" (picks what is available)']
    for other, source in SOURCES.items():
        if other == name:
            continue
        folder = on_disk(other, root)
        if folder is not None:
            status = f"on disk here: yes, in {folder}"
        elif source.apt_package:
            status = f"on disk here: no; sudo apt-get install {source.apt_package}"
        else:
            status = "on disk here: no"
        options.append(f'"{other}" ({status})')
    return f'To go on, set DATASET = {", ".join(options)} or "fontdigits" (no files needed) {WHERE_TO_CHOOSE}.'


def _not_found_message(name, split, folders, why, root):
    """What is missing, why (``why``: lines), then the line to change; see :class:`DatasetNotFoundError`."""
    wanted = " and ".join(f"{stem}(.gz)" for stem in FILES[split])
    all_files = " ".join(f"{stem}.gz" for pair in FILES.values() for stem in pair)
    lines = [f"{name} ({split}) was not found: looked for {wanted} in",
             *(f"    {folder}" for folder in folders),
             *why,
             _instead(name, root),
             f"To use {name} offline, put the four files {all_files} into {folders[0]}."]
    if SOURCES[name].apt_package:
        lines.append(f"On Debian or Ubuntu: sudo apt-get install {SOURCES[name].apt_package}")
    return "\n".join(lines)


def load_mnist(name="mnist", split="train", limit=None, root=None, download=True):
    """Split ``split`` of ``name`` ("mnist" or "fashion-mnist"), its first ``limit`` examples if given."""
    folders = search_dirs(name, root)
    paths = find_split(folders, split)
    why = ["download=False, so nothing was downloaded."]
    if paths is None and download:
        try:
            paths = download_split(name, split, folders[0])
        except OSError as e:  # no network, no mirror with the file, a folder we may not write to
            why = _why_lines(e)
    if paths is None:
        # Raised outside the except block, and from None: one error, no chained traceback.
        raise DatasetNotFoundError(_not_found_message(name, split, folders, why, root)) from None
    images_path, labels_path = paths
    images, labels = read_idx(images_path), read_idx(labels_path)
    _check_images(images, images_path, name)
    _check_labels(labels, labels_path, len(SOURCES[name].classes))
    if len(labels) != len(images):
        raise IDXError(f"{labels_path} holds {len(labels)} labels but {images_path} holds {len(images)} "
                       f"images; a split needs one label per image")
    return Dataset(name, split, images[:limit], labels[:limit], list(SOURCES[name].classes))


def _check_images(images, path, name):
    """Refuse an images file that is not uint8 (N, 28, 28) with N >= 1; ``path`` names it."""
    height, width = IMAGE_SHAPE
    if images.dtype != numpy.uint8 or images.ndim != 3:
        raise IDXError(f"{path}: expected uint8 images of shape (N, {height}, {width}), "
                       f"found {images.dtype} {images.shape}")
    if images.shape[1:] != IMAGE_SHAPE:
        raise IDXError(f"{path}: the images are {images.shape[1]}x{images.shape[2]}, "
                       f"{name} images are {height}x{width}")
    if len(images) == 0:
        raise IDXError(f"{path}: holds no images (the header gives shape {images.shape})")


def _check_labels(labels, path, n_classes):
    """Refuse a labels file that is not uint8 (N,) with every label in 0..n_classes-1; ``path`` names it."""
    if labels.dtype != numpy.uint8 or labels.ndim != 1:
        raise IDXError(f"{path}: expected uint8 labels of shape (N,), found {labels.dtype} {labels.shape}")
    outside = numpy.flatnonzero(labels >= n_classes)  # uint8 labels are never negative
    if len(outside):
        first = outside[0]
        raise IDXError(f"{path}: labels must lie in 0..{n_classes - 1}, found {labels[first]} at index "
                       f"{first}; {len(outside)} of {len(labels)} labels lie outside")
