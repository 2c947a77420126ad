"""Saving and loading arrays: ``.npz`` files, written atomically, read without pickle.

``save`` takes a dict of arrays, tensors, numbers and strings, nested dicts allowed::

    nanoae.save({"model": model.state_dict(), "optim": optimizer.state_dict(), "epoch": 3}, path)

A ``.npz`` file is a zip archive with one ``.npy`` file per array. Nested keys
are joined with "/" in the file ("model/encoder.weight") and split again by
``load``. The file is written to a temporary name in the same folder and then
renamed over ``path``, so a crash mid-write never leaves a half-written file
behind. Neither side uses pickle: a ``.npz`` from an untrusted source cannot
run code.
"""
import contextlib
import os
import uuid
import zipfile

import numpy

from nanoae import backend
from nanoae.autograd import Tensor

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
        array = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
        if array.dtype == object:
            raise TypeError(f"save: {name!r} is of type {type(value).__name__}, which .npz cannot store without "
                            "pickle; save arrays, numbers, strings or dicts of them")
        flat[name] = array
    return flat


@contextlib.contextmanager
def atomic_write(path, mode="wb", newline=None):
    """``with atomic_write(path) as f:`` writes to a new temporary file beside ``path``
    and renames it over ``path`` only once everything is written and on disk.

    A crash or an exception mid-write leaves ``path`` as it was (the
    temporary file is removed). The temporary name is unique, so two writers
    of the same path never step on each other's half-written file.
    ``mode`` is "wb" or "w" (text, then ``newline`` as for ``open``).
    """
    # Same folder as path, so that os.replace is a rename (atomic), not a copy.
    # Made with open(..., "x") rather than tempfile.mkstemp, whose files are
    # private (mode 0600): the file gets the permissions any new file gets.
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, mode.replace("w", "x"), newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save(state, path):
    """Write ``state`` (a dict, possibly nested) to ``path`` as .npz, atomically."""
    flat = _flatten(state)  # every value is checked before the disk is touched
    with atomic_write(path) as f:
        # What numpy.savez does, without its keyword arguments (a key named
        # "file" or "allow_pickle" would collide with them).
        with zipfile.ZipFile(f, "w") as archive:
            for name, array in flat.items():
                with archive.open(name + ".npy", "w", force_zip64=True) as member:  # zip64: over 2 GiB
                    numpy.lib.format.write_array(member, array, allow_pickle=False)


def load(path):
    """Read a file written by :func:`save`: nested dicts of NumPy arrays, with
    0-dimensional arrays turned back into Python numbers and strings."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    # numpy.load would read a non-zip file as .npy or as a pickle; check first.
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load: {path} is not a .npz file (another format, or truncated)")
    try:
        with numpy.load(path, allow_pickle=False) as data:
            flat = {name: data[name] for name in data.files}
    except ValueError as e:
        if "pickle" in str(e):
            raise ValueError(f"load: {path} holds pickled objects, which nanoae never loads") from None
        raise ValueError(f"load: {path} is not a .npz file written by nanoae.save ({e})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(f"load: {path} is not a readable .npz file (truncated or corrupt?): {e}") from None
    tree = {}
    for name, array in flat.items():
        if not isinstance(array, numpy.ndarray):  # a zip member that is not a .npy file
            raise ValueError(f"load: {path} is not a .npz file written by nanoae.save ({name!r} is not an array)")
        *parents, leaf = name.split(SEPARATOR)
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = array.item() if array.ndim == 0 else array
    return tree
