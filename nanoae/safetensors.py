"""Saving and loading ``.safetensors`` files, the format PyTorch and the model hubs share weights in.

Written here from the format's public description, so that you can see all of it::

    byte 0        8                        8 + N                                   end of file
         +--------+------------------------+---------------------------------------+
         |   N    | header: N bytes of     | data: every tensor's bytes, packed    |
         |        | UTF-8 JSON text        | back to back, no gaps between them    |
         +--------+------------------------+---------------------------------------+
          uint64,                            data_offsets count from here (byte 0
          little-endian                      of the data is byte 8 + N of the file)

The header names each tensor and says where its bytes are::

    {"__metadata__": {"format": "nanoae"},
     "encoder.0.weight": {"dtype": "F32", "shape": [32, 784], "data_offsets": [0, 100352]},
     "encoder.0.bias":   {"dtype": "F32", "shape": [32],      "data_offsets": [100352, 100480]}}

A tensor's bytes are its elements in C order (last index fastest), each
little-endian: a (32, 784) float32 weight is 32 * 784 * 4 = 100352 bytes.
``"__metadata__"`` is optional and maps strings to strings. The header may end
in spaces: writers pad it to a multiple of 8 bytes.

Beside nanoae's own ``.npz`` (:mod:`nanoae.serialization`) the format is
plainer still: no zip archive, one JSON header, raw bytes. Neither can run
code when it is loaded, as a pickled PyTorch ``.pt`` file can.

:func:`save_safetensors` writes a flat dict of arrays (PyTorch's names, such as
``"encoder.0.weight"``, are already flat), atomically. Nested dicts are refused,
not flattened: the file has no nesting, so a nested dict could not come back as
it went in. :func:`load_safetensors` reads any such file, trusting nothing in
it: every claim in the header is checked against the file's size before an
array is made (a header claiming a 10**12-element tensor is refused, not a
MemoryError), and every problem is one ValueError naming the file and the
tensor or field at fault.
"""
import collections
import json
import math
import os
import reprlib
import struct
import typing

from nanoae import backend
from nanoae.autograd import Tensor
from nanoae.serialization import atomic_write

xp = backend.array_module_for("cpu")   # files are read and written through the CPU: NumPy

METADATA = "__metadata__"
LENGTH = struct.Struct("<Q")         # the header's length N: an 8-byte little-endian unsigned integer
# The reference reader refuses longer headers; so does this one, before reading it.
MAX_HEADER_BYTES = 100_000_000

# The element types, by the names the format gives them, each with the NumPy dtype of its bytes.
# Listed in the reference writer's order, from the smallest item to the largest.
DTYPES = {
    "BOOL": xp.dtype("bool"),
    "U8": xp.dtype("uint8"),
    "I8": xp.dtype("int8"),
    "I16": xp.dtype("<i2"),
    "U16": xp.dtype("<u2"),
    "F16": xp.dtype("<f2"),
    "I32": xp.dtype("<i4"),
    "U32": xp.dtype("<u4"),
    "F32": xp.dtype("<f4"),
    "F64": xp.dtype("<f8"),
    "I64": xp.dtype("<i8"),
    "U64": xp.dtype("<u8"),
}
CODES = {dtype: code for code, dtype in DTYPES.items()}
# bfloat16 (BF16), common in hub models, has no NumPy dtype: its 2-byte items are read
# as uint16 and widened to float32, which holds every bfloat16 exactly (see _bfloat16_to_float32).
READ_AS = {**DTYPES, "BF16": xp.dtype("<u2")}


# --- writing -------------------------------------------------------------------------

def save_safetensors(tensors, path, metadata=None):
    """Write ``tensors`` (a flat dict: name -> array or Tensor) to ``path`` as .safetensors, atomically.

    ``metadata``, if given, is a dict of strings to strings, stored in the header.
    Everything is checked before the disk is touched.
    """
    arrays = _as_arrays(tensors)
    if metadata is not None:
        _check_metadata(metadata)
    # Largest items first, so that every tensor starts at a multiple of its item size (the header
    # is padded to a multiple of 8): a reader can then map each tensor straight from the file.
    # Within one size, the table's order, then the names, as the reference writer does: both
    # write the same bytes.
    rank = {code: i for i, code in enumerate(DTYPES)}
    names = sorted(arrays, key=lambda name: (-rank[CODES[arrays[name].dtype]], name))
    header = {} if metadata is None else {METADATA: metadata}
    offset = 0
    for name in names:
        array = arrays[name]
        header[name] = {"dtype": CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with atomic_write(path) as f:
        f.write(LENGTH.pack(len(text)))
        f.write(text)
        for name in names:
            f.write(arrays[name].tobytes(order="C"))


def _as_arrays(tensors):
    """{name: NumPy array in the dtype of its bytes in the file}, every name and value checked."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save_safetensors: tensors must be a dict of arrays, got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save_safetensors: tensor names must be strings, got {name!r}")
        if name == METADATA:
            raise ValueError(f"save_safetensors: {METADATA!r} is the header's place for metadata, "
                             "not a tensor name; pass metadata=... instead")
        if isinstance(value, dict):
            raise TypeError(f"save_safetensors: {name!r} is a dict, but a .safetensors file is flat; give "
                            "each array its full name, as model.state_dict() does ('encoder.0.weight')")
        array = backend.to_numpy(value.data if isinstance(value, Tensor) else value)
        little_endian = array.dtype.newbyteorder("<")
        if little_endian not in CODES:
            raise TypeError(f"save_safetensors: {name!r} is an array of {array.dtype}, which .safetensors "
                            f"cannot hold here; it holds {', '.join(str(d) for d in DTYPES.values())}")
        arrays[name] = array.astype(little_endian, copy=False)
    return arrays


def _check_metadata(metadata):
    if not isinstance(metadata, dict):
        raise TypeError(f"save_safetensors: metadata must be a dict of strings, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise TypeError(f"save_safetensors: metadata maps strings to strings, got {key!r}: {value!r} "
                            "(store other values as JSON text)")


# --- reading ---------------------------------------------------------------------------

class Entry(typing.NamedTuple):
    """One tensor as the header describes it; ``begin`` and ``end`` count bytes from the start of the data."""
    name: str
    dtype: str
    shape: tuple
    begin: int
    end: int


def load_safetensors(path):
    """Read a .safetensors file: ({name: NumPy array}, {metadata key: value}).

    The arrays come back in the header's order; BF16 tensors come back as
    float32 (NumPy has no bfloat16). Anything that is not a valid file is one
    ValueError naming the file, and the tensor or field at fault.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_safetensors: no such file: {path}")
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        header = _read_header(f, file_size, path)
        entries, metadata = _parse_header(header, path)
        data_start = LENGTH.size + len(header)
        _check_layout(entries, file_size - data_start, path)
        tensors = {}
        for entry in entries:
            f.seek(data_start + entry.begin)
            tensors[entry.name] = _read_tensor(f, entry, path)
    return tensors, metadata


def _refuse(path, problem):
    raise ValueError(f"load_safetensors: {path}: {problem}")


def _read_header(f, file_size, path):
    """The header's bytes, its length checked against the file before they are read."""
    if file_size < LENGTH.size:
        _refuse(path, f"is {file_size} bytes, too short for the 8-byte header length of a .safetensors file")
    (length,) = LENGTH.unpack(f.read(LENGTH.size))
    if length > file_size - LENGTH.size:
        _refuse(path, f"the header length says {length} bytes, but only {file_size - LENGTH.size} follow it "
                      "(not a .safetensors file, or truncated)")
    if length > MAX_HEADER_BYTES:
        _refuse(path, f"the header length says {length} bytes, more than the {MAX_HEADER_BYTES} a header may have")
    return f.read(length)


class DuplicateName(ValueError):
    """A JSON object in the header that gives one name twice (json.loads would silently keep the last)."""


def _refuse_duplicates(pairs):
    counts = collections.Counter(key for key, _ in pairs)
    for key, count in counts.items():
        if count > 1:
            raise DuplicateName(f"{key!r} appears {count} times in the header")
    return dict(pairs)


def _parse_header(header, path):
    """The header's tensors (a list of Entry, in the header's order) and its metadata, every field checked."""
    try:
        parsed = json.loads(header.decode("utf-8"), object_pairs_hook=_refuse_duplicates)
    except DuplicateName as e:
        _refuse(path, str(e))
    except (ValueError, RecursionError) as e:       # not UTF-8, not JSON, or nested past the parser's depth
        _refuse(path, f"the header is not UTF-8 JSON text ({type(e).__name__}: {e})")
    if not isinstance(parsed, dict):
        _refuse(path, f"the header must be a JSON object, got {reprlib.repr(parsed)}")
    metadata = parsed.pop(METADATA, {})
    if not (isinstance(metadata, dict) and all(isinstance(value, str) for value in metadata.values())):
        _refuse(path, f"{METADATA} must be a JSON object of strings, got {reprlib.repr(metadata)}")
    return [_check_entry(name, info, path) for name, info in parsed.items()], metadata


def _check_entry(name, info, path):
    """One tensor's description: a known dtype, a shape of whole numbers >= 0, and
    data_offsets [begin, end] spanning exactly the bytes that dtype and shape take."""
    where = f"tensor {name!r}"
    if not (isinstance(info, dict) and info.keys() == {"dtype", "shape", "data_offsets"}):
        _refuse(path, f"{where} must be described by a JSON object with dtype, shape and data_offsets, "
                      f"got {reprlib.repr(info)}")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in READ_AS:
        _refuse(path, f"{where} has dtype {reprlib.repr(dtype)}, which nanoae does not read "
                      f"(it reads {', '.join(READ_AS)})")
    if not (isinstance(shape, list) and all(_is_count(n) for n in shape)):
        _refuse(path, f"{where} has shape {reprlib.repr(shape)}, not a list of whole numbers >= 0")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(n) for n in offsets)
            and offsets[0] <= offsets[1]):
        _refuse(path, f"{where} has data_offsets {reprlib.repr(offsets)}, not [begin, end] with 0 <= begin <= end")
    nbytes = math.prod(shape) * READ_AS[dtype].itemsize    # Python ints: no overflow, whatever the header says
    if nbytes != offsets[1] - offsets[0]:
        _refuse(path, f"{where} has shape {shape} of {dtype}, {nbytes} bytes, but its data_offsets "
                      f"{offsets} span {offsets[1] - offsets[0]}")
    return Entry(name, dtype, tuple(shape), *offsets)


def _is_count(n):
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0     # JSON true is a Python bool, an int


def _check_layout(entries, data_size, path):
    """The tensors cover the data exactly: in the order of their offsets, the first begins at
    byte 0, each begins where the one before it ends, and the last ends at the end of the file."""
    end, before = 0, None
    for entry in sorted(entries, key=lambda entry: (entry.begin, entry.end)):
        if entry.begin < end:
            _refuse(path, f"tensors {before.name!r} (bytes {before.begin} to {before.end}) and {entry.name!r} "
                          f"(bytes {entry.begin} to {entry.end}) overlap")
        if entry.begin > end:
            _refuse(path, f"bytes {end} to {entry.begin} of the data, before tensor {entry.name!r}, "
                          "belong to no tensor")
        end, before = entry.end, entry
    if end != data_size:
        _refuse(path, f"the tensors cover {end} bytes of data, but the file holds {data_size} after the header")


def _read_tensor(f, entry, path):
    """One tensor's bytes from the file (positioned at its start) as an array of its dtype and shape.
    Safe to allocate: _check_layout has checked that its bytes are in the file."""
    array = xp.empty(math.prod(entry.shape), READ_AS[entry.dtype])     # flat, so any shape's bytes fit
    if f.readinto(array.view(xp.uint8)) != array.nbytes:
        _refuse(path, f"is truncated in tensor {entry.name!r}")             # the file shrank while being read
    try:
        array = array.reshape(entry.shape)
    except ValueError as e:                                                 # more dimensions than NumPy allows
        _refuse(path, f"tensor {entry.name!r} has shape {reprlib.repr(list(entry.shape))}, "
                      f"which NumPy cannot make: {e}")
    return _bfloat16_to_float32(array) if entry.dtype == "BF16" else array


def _bfloat16_to_float32(bits):
    """bfloat16 is the upper half of a float32: sign, the same 8 exponent bits, and 7 of the 23
    fraction bits. Putting 16 zero bits below it gives a float32 of exactly the same value."""
    return (bits.astype("<u4") << 16).view("<f4")
