"""Saving and loading arrays: ``.npz`` files, written atomically, read without pickle.

``save`` takes a dict of arrays, tensors, numbers and strings, nested dicts allowed::

    nanoae.save({"model": model.state_dict(), "optim": optimizer.state_dict(), "epoch": 3}, path)

A ``.npz`` file is a zip archive with one ``.npy`` file per array. Nested keys
are joined with "/" in the file ("model/encoder.weight") and split again by
``load``. The file is written to a temporary name in the same folder and then
renamed over ``path``, so a crash mid-write never leaves a half-written file
behind. Neither side uses pickle: a ``.npz`` from an untrusted source cannot
run code.

``load`` trusts nothing in the file. Before it allocates an array it reads
the member's ``.npy`` header and checks that the bytes the shape and dtype
claim are the bytes the zip directory says the member holds, so a header
claiming 10**12 elements is refused, not a MemoryError. Duplicate members, and
names that nest into each other ("a" beside "a/b"), are refused too.
"""
import collections
import contextlib
import math
import os
import tokenize
import uuid
import zipfile
import zlib

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
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and not e.filename:   # a full disk, say: name the file
            raise OSError(e.errno, f"could not write {path} ({e.strerror}); the file that was there is "
                                   "unchanged") from None
        raise


def save(state, path):
    """Write ``state`` (a dict, possibly nested) to ``path`` as .npz, atomically."""
    if not isinstance(state, dict):
        raise TypeError("save: state must be a dict (of arrays, tensors, numbers, strings or dicts of them), "
                        f"got {type(state).__name__}")
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
    0-dimensional arrays turned back into Python numbers and strings.

    Anything else is refused with a ValueError naming the file (and the
    member, where one is at fault): another format, a truncated file, pickled
    objects, a header that does not fit its member, duplicate or clashing names.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"load: {path} is not a .npz file (another format, or truncated)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_directory(members, os.path.getsize(path), path)
            flat = {info.filename[:-len(".npy")]: _read_member(archive, info, path) for info in members}
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as e:
        raise ValueError(f"load: {path} is not a readable .npz file (truncated or corrupt?): {e}") from None
    _check_nesting(flat, path)
    tree = {}
    for name, array in flat.items():
        *parents, leaf = name.split(SEPARATOR)
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = array.item() if array.ndim == 0 else array
    return tree


# The most a DEFLATE stream can expand: 258 bytes from a 2-bit code.
MAX_DEFLATE_RATIO = 1032
# Members are read in pieces of this many bytes: a piece that stays in the CPU's
# cache makes reading several times faster than one read of a whole array.
READ_CHUNK = 1 << 18


def _check_directory(members, file_size, path):
    """Refuse, from the zip directory alone, what no file written by ``save`` (or numpy.savez) holds:
    members that are not .npy files, duplicate names, and sizes the file cannot hold."""
    def refuse(name, problem):
        raise ValueError(f"load: {path} is not a .npz file written by nanoae.save ({name!r} {problem})")

    names = collections.Counter(info.filename for info in members)
    for info in members:
        if not info.filename.endswith(".npy"):
            refuse(info.filename, "is not an array")
        if names[info.filename] > 1:
            refuse(info.filename, f"appears {names[info.filename]} times")
        if info.flag_bits & 0x1:
            refuse(info.filename, "is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            refuse(info.filename, f"uses zip compression method {info.compress_type}, not stored or deflated")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            refuse(info.filename, f"is stored uncompressed in {info.compress_size} bytes, "
                                  f"but the directory says it has {info.file_size}")
        if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > MAX_DEFLATE_RATIO * info.compress_size:
            refuse(info.filename, f"cannot expand from {info.compress_size} to {info.file_size} bytes")
    if sum(info.compress_size for info in members) > file_size:
        raise ValueError(f"load: {path} is truncated or corrupt: its members claim more than its {file_size} bytes")


def _read_member(archive, info, path):
    """One .npy member as an array, its header checked against the member's size before any allocation."""
    def refuse(problem):
        raise ValueError(f"load: {path} is not a .npz file written by nanoae.save ({info.filename!r} {problem})")

    with archive.open(info) as member:
        try:
            shape, fortran_order, dtype = _read_npy_header(member)
        except BAD_HEADER_ERRORS as e:
            refuse(f"has no valid .npy header: {type(e).__name__}: {e}")
        if dtype.hasobject:
            raise ValueError(f"load: {path} holds pickled objects in {info.filename!r}, which nanoae never loads")
        nbytes = dtype.itemsize * math.prod(shape)       # Python ints: no overflow, whatever the header says
        if nbytes != info.file_size - member.tell():
            refuse(f"has a header claiming shape {shape} of {dtype} ({nbytes} bytes), "
                   f"but holds {info.file_size - member.tell()} bytes of data")
        array = numpy.empty(math.prod(shape), dtype)     # flat; safe now that the size is known to be real
        as_bytes = array.view(numpy.uint8)
        for start in range(0, nbytes, READ_CHUNK):
            if member.readinto(as_bytes[start:start + READ_CHUNK]) != min(READ_CHUNK, nbytes - start):
                refuse("is truncated")
    return array.reshape(shape, order="F" if fortran_order else "C")


NPY_HEADER_READERS = {(1, 0): numpy.lib.format.read_array_header_1_0,
                      (2, 0): numpy.lib.format.read_array_header_2_0}
# What NumPy's header readers raise on a hostile header. They parse it with ast.literal_eval
# (and tokenize, for headers written by Python 2), which a deeply nested header overflows:
# headers are at most 10,000 characters, so even the MemoryError is the parser's stack, not data.
BAD_HEADER_ERRORS = (ValueError, RecursionError, MemoryError, tokenize.TokenError)


def _read_npy_header(member):
    """(shape, fortran_order, dtype) from the start of a .npy file; ValueError if it has no valid header."""
    version = numpy.lib.format.read_magic(member)
    if version not in NPY_HEADER_READERS:
        raise ValueError(f"format version {version}, not 1.0 or 2.0")
    shape, fortran_order, dtype = NPY_HEADER_READERS[version](member)
    if any(n < 0 for n in shape) or dtype.itemsize == 0:
        raise ValueError(f"shape {shape} of {dtype} describes no array")
    return shape, fortran_order, dtype


def _check_nesting(flat, path):
    """Refuse names that nest into each other: "a" cannot be an array and hold "a/b" too."""
    for name in flat:
        parts = name.split(SEPARATOR)
        for depth in range(1, len(parts)):
            parent = SEPARATOR.join(parts[:depth])
            if parent in flat:
                raise ValueError(f"load: {path} holds both {parent!r} and {name!r}: "
                                 f"{parent!r} cannot be an array and a group of arrays at once")
