"""Saving and loading arrays: ``.npz`` files, written atomically, read without pickle.

``save`` takes a dict of arrays and numbers, nested dicts allowed::

    nanoae.save({"model": model.state_dict(), "optim": optimizer.state_dict(), "epoch": 3}, path)

Nested keys are joined with "/" in the file ("model/encoder.weight") and split
again by ``load``. The file is written to a temporary name in the same folder
and then renamed over ``path``, so a crash mid-write never leaves a
half-written file behind. ``load`` refuses pickled objects: a ``.npz`` from
an untrusted source cannot run code.
"""
import os
import tempfile
import zipfile

import numpy

from nanoae import backend

SEPARATOR = "/"


def _flatten(tree, prefix=""):
    flat = {}
    for key, value in tree.items():
        if SEPARATOR in str(key):
            raise ValueError(f"save: key {key!r} contains {SEPARATOR!r}, which marks nesting in the file")
        name = prefix + str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name + SEPARATOR))
            continue
        array = backend.to_numpy(value)
        if array.dtype == object:
            raise TypeError(f"save: {name!r} is a {type(value).__name__}, which .npz cannot store without "
                            "pickle; save arrays, numbers, strings or dicts of them")
        flat[name] = array
    return flat


def save(state, path):
    """Write ``state`` (a dict, possibly nested) to ``path`` as .npz, atomically."""
    flat = _flatten(state)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            numpy.savez(f, **flat)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path):
    """Read a file written by :func:`save`: nested dicts of NumPy arrays, with
    0-dimensional arrays turned back into Python numbers and strings."""
    try:
        with numpy.load(path, allow_pickle=False) as data:
            flat = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {path}") from None
    except ValueError as e:
        if "pickle" in str(e):
            raise ValueError(f"load: {path} holds pickled objects, which nanoae never loads") from None
        raise ValueError(f"load: {path} is not a .npz file written by nanoae.save ({e})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(f"load: {path} is not a readable .npz file (truncated or corrupt?): {e}") from None
    tree = {}
    for name, array in flat.items():
        *parents, leaf = name.split(SEPARATOR)
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = array.item() if array.ndim == 0 else array
    return tree
