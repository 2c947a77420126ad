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
applies. A download goes to a temporary file in that folder, its SHA-256 is
checked against the value below, and only then is it renamed into place:
an interrupted or tampered download never leaves a file that looks complete.

The files found are checked before they become a :class:`Dataset`: uint8
images of 28x28, one uint8 label in 0..9 per image. Every error about a file
starts with its full path, so a damaged file can be found and deleted.
"""
import contextlib
import hashlib
import http.client
import os
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy
from tqdm.auto import tqdm

from nanoae.data.dataset import DIGITS, Dataset, data_homes
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
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
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


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 is not the expected one."""


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are nowhere on disk and could not be downloaded."""


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


def download_file(urls, path, sha256):
    """Download the first of ``urls`` that answers to ``path``, checking its SHA-256.

    The bytes go to a temporary file next to ``path`` that is renamed to
    ``path`` only once the hash matches; on any failure it is deleted. A
    mirror that cannot be reached is skipped; if none can, OSError. A wrong
    hash raises :class:`ChecksumError` at once: the file arrived but is not
    the one expected.
    """
    path = Path(path).absolute()
    failures = []
    for url in urls:
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            digest = _fetch(url, tmp, label=path.name)
            if digest != sha256:
                raise ChecksumError(f"{path}: downloaded from {url}, its SHA-256 is {digest}, "
                                    f"expected {sha256}; the file was deleted")
            os.replace(tmp, path)
            return path
        except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
            failures.append(f"{url}: {e}")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    raise OSError(f"could not download {path}: " + "; ".join(failures))


def _fetch(url, path, label):
    """Stream ``url`` into a new file ``path`` with a progress bar; return its SHA-256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=30) as response, open(path, "xb") as f:
        size = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=size, unit="B", unit_scale=True, desc=label) as bar:
            while block := response.read(1 << 16):
                f.write(block)
                digest.update(block)
                bar.update(len(block))
    return digest.hexdigest()


def _not_found_message(name, split, folders, reason):
    source = SOURCES[name]
    wanted = " and ".join(f"{stem}(.gz)" for stem in FILES[split])
    all_files = " ".join(f"{stem}.gz" for pair in FILES.values() for stem in pair)
    lines = [f"{name} ({split}) was not found: looked for {wanted} in",
             *(f"    {folder}" for folder in folders),
             reason,
             f"To use {name} offline, put the four files {all_files} into {folders[0]}."]
    if source.apt_package:
        lines.append(f"On Debian or Ubuntu: sudo apt-get install {source.apt_package}")
    lines.append('The "fontdigits" dataset needs no files and works offline: load_dataset("fontdigits").')
    return "\n".join(lines)


def find_split(folders, split):
    """The (images, labels) paths in the first of ``folders`` that holds both, else None."""
    for folder in folders:
        paths = [_find(folder, stem) for stem in FILES[split]]
        if all(paths):
            return paths
    return None


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


def load_mnist(name="mnist", split="train", limit=None, root=None, download=True):
    """Split ``split`` of ``name`` ("mnist" or "fashion-mnist"), its first ``limit`` examples if given."""
    folders = search_dirs(name, root)
    paths = find_split(folders, split)
    if paths is None and not download:
        raise DatasetNotFoundError(_not_found_message(
            name, split, folders, "download=False, so nothing was downloaded."))
    if paths is None:
        try:
            paths = download_split(name, split, folders[0])
        except OSError as e:  # no network, no mirror answering, a folder we may not write to
            raise DatasetNotFoundError(_not_found_message(
                name, split, folders, f"Downloading failed: {e}")) from e
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
