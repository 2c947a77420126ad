"""The IDX file format of MNIST and Fashion-MNIST: read it, check it, write it.

An IDX file is a tiny header followed by the raw array, big-endian::

    bytes 0-1   0x00 0x00                  (the magic number starts with two zero bytes)
    byte  2     type code                  0x08 uint8, 0x09 int8, 0x0B int16,
                                           0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, 4 bytes each      e.g. 10000, 28, 28
    then        the data, row-major        10000 * 28 * 28 bytes for uint8 images

The files are often gzip-compressed (``train-images-idx3-ubyte.gz``). The
reader checks every part of the header and that the data is exactly as long as
the sizes say: a truncated download must fail here, with the file's full path
(so the user can find and delete it), rather than train a model on half a
dataset. The sizes are checked against the bytes the file holds before any
array is made, so a header that claims terabytes costs nothing.
"""
import gzip
import math
import os
import struct
import zlib

import numpy

# type code -> dtype (">" is big-endian; one-byte types have no byte order)
TYPES = {
    0x08: numpy.dtype("u1"),
    0x09: numpy.dtype("i1"),
    0x0B: numpy.dtype(">i2"),
    0x0C: numpy.dtype(">i4"),
    0x0D: numpy.dtype(">f4"),
    0x0E: numpy.dtype(">f8"),
}


class IDXError(ValueError):
    """A data file is not a valid IDX file, or not the one expected; the message
    starts with the file's full path and says what is wrong."""


def _is_gzip(path):
    return os.fspath(path).endswith(".gz")


def _read_bytes(path, where):
    if not _is_gzip(path):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; EOFError: cut short
        raise IDXError(f"{where}: not a valid gzip file ({e})") from e


def _check_start(data, where):
    """Refuse a file whose first four bytes are not two zeros, a known type code and ndim >= 1."""
    if not data:
        after = " once decompressed" if _is_gzip(where) else ""
        raise IDXError(f"{where}: the file is empty: 0 bytes{after}")
    if len(data) < 4:
        raise IDXError(f"{where}: truncated header: {len(data)} bytes, an IDX file starts with 4")
    zero0, zero1, type_code, ndim = data[:4]
    if (zero0, zero1) == (0x1F, 0x8B):  # the two bytes gzip data starts with
        cause = "it was compressed twice" if _is_gzip(where) else "its name should end in .gz"
        raise IDXError(f"{where}: bad magic number: the file starts with bytes 0x1f 0x8b, "
                       f"as gzip data does: {cause}")
    if (zero0, zero1) != (0, 0):
        raise IDXError(f"{where}: bad magic number: the file starts with bytes "
                       f"0x{zero0:02x} 0x{zero1:02x}, an IDX file with 0x00 0x00")
    if type_code not in TYPES:
        known = ", ".join(f"0x{code:02X}" for code in TYPES)
        raise IDXError(f"{where}: unknown type code 0x{type_code:02X} (IDX types are {known})")
    if ndim == 0:
        raise IDXError(f"{where}: the header says the array has 0 dimensions")


def read_idx(path):
    """Read an IDX file (plain, or gzip-compressed if the name ends in ``.gz``).

    Returns a NumPy array in native byte order with the file's shape and type.
    Raises :class:`IDXError` naming the file's full path for an empty file, a
    wrong magic number, an unknown type code, a short header, or data longer
    or shorter than the header's sizes say.
    """
    where = os.path.abspath(path)
    data = _read_bytes(path, where)
    _check_start(data, where)
    type_code, ndim = data[2], data[3]
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXError(f"{where}: truncated header: {ndim} dimensions need {header_size} bytes "
                       f"of header, the file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        problem = "cut short" if found < expected else "too long"
        raise IDXError(f"{where}: {problem}: the header claims shape {shape} of {dtype.name}, "
                       f"{expected} bytes of data, the file holds {found}")
    array = numpy.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzip-compressed if ``path`` ends in ``.gz``.

    The dtype must be one IDX can hold: uint8, int8, int16, int32, float32 or
    float64.
    """
    array = numpy.asarray(array)
    by_kind = {dtype.newbyteorder("="): code for code, dtype in TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in by_kind:
        names = ", ".join(str(dtype.newbyteorder("=")) for dtype in TYPES.values())
        raise ValueError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of {names}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: IDX stores arrays of 1 to 255 dimensions, got {array.ndim}")
    code = by_kind[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(TYPES[code]).tobytes()
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "wb") as f:
        f.write(payload)
