"""The ``Dataset`` every loader returns, and the folder datasets are kept in."""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy

SPLITS = ("train", "test")
DIGITS = [str(d) for d in range(10)]
# Where a reader changes the dataset, for the messages that tell them how: the
# chapters name it in their first cell, `nanoae train` takes an option.
WHERE_TO_CHOOSE = "in the notebook's first cell (nanoae train: --dataset NAME)"


def data_homes(root=None):
    """The folders that may hold datasets, best first: ``root`` if given,
    ``$NANOAE_DATA`` if set, and ``~/.cache/nanoae``. Each dataset has its own
    subfolder (``<folder>/mnist``, ``<folder>/fontdigits``)."""
    homes = [Path(root)] if root is not None else []
    if os.environ.get("NANOAE_DATA"):
        homes.append(Path(os.environ["NANOAE_DATA"]))
    homes.append(Path.home() / ".cache" / "nanoae")
    return homes


def data_home(root=None):
    """The folder downloads and caches go to: the first of :func:`data_homes`."""
    return data_homes(root)[0]


@dataclass(repr=False)
class Dataset:
    """One split of an image dataset, as NumPy arrays on the CPU.

    ``images`` (N, 28, 28) uint8, 0 = background; ``labels`` (N,) int64 in
    0..9; ``classes[label]`` is the label's name. Arrays stay on the CPU
    until a :class:`~nanoae.data.DataLoader` moves them to the device.
    """
    name: str
    split: str
    images: numpy.ndarray
    labels: numpy.ndarray
    classes: list

    def __post_init__(self):
        where = f"{self.name} ({self.split})"
        if self.images.dtype != numpy.uint8 or self.images.ndim != 3:
            raise ValueError(f"{where}: images must be a uint8 array (N, height, width), "
                             f"got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"{where}: {len(self.images)} images but labels of shape {self.labels.shape}")
        self.labels = self.labels.astype(numpy.int64)
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.classes):
            raise ValueError(f"{where}: labels must lie in 0..{len(self.classes) - 1}, "
                             f"found {self.labels.min()}..{self.labels.max()}")

    def __len__(self):
        return len(self.labels)

    def __repr__(self):
        height, width = self.images.shape[1:]
        return (f"Dataset({self.name!r}, split={self.split!r}: {len(self)} images of {height}x{width}, "
                f"{len(self.classes)} classes)")

    def only_classes(self, classes):
        """A Dataset of the images whose label is in ``classes`` (a list of labels), in their order."""
        keep = numpy.isin(self.labels, classes)
        if not keep.any():
            raise ValueError(f"{self.name} {self.split} has no image of class {classes} "
                             f"(its classes are 0..{len(self.classes) - 1})")
        return Dataset(self.name, self.split, self.images[keep], self.labels[keep], self.classes)

    def inputs(self):
        """The images as a model reads them: (N, height * width) float32 in [0, 1]."""
        return self.images.reshape(len(self), -1).astype(numpy.float32) / 255
