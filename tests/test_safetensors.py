""".safetensors files: round trips of every dtype and odd shapes, the layout checked by hand,
agreement with the reference ``safetensors`` package (where installed), and clear refusals of
what cannot be written and of hostile files built by hand."""
import json
import os
import struct

import numpy as np
import pytest

import nanoae
from nanoae.safetensors import DTYPES, load_safetensors, save_safetensors


def random_array(dtype, shape, seed=0):
    """An array of ``dtype`` with values across its range, negative ones included where it has them."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        values = rng.random(shape) < 0.5
    elif dtype.kind == "f":
        values = (rng.standard_normal(shape) * 100).astype(dtype)
    else:
        info = np.iinfo(dtype)
        values = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return np.asarray(values)         # shape () gives a NumPy scalar, not an array


def assert_same_arrays(loaded, expected):
    assert sorted(loaded) == sorted(expected)
    for name, array in expected.items():
        array = np.asarray(array)
        assert loaded[name].dtype == array.dtype.newbyteorder("<") and loaded[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded[name], array)


# --- round trips ------------------------------------------------------------------------

@pytest.mark.parametrize("code", list(DTYPES))
def test_every_dtype_round_trips(tmp_path, code):
    tensors = {"x": random_array(DTYPES[code], (3, 5))}
    save_safetensors(tensors, tmp_path / "a.safetensors")
    loaded, metadata = load_safetensors(tmp_path / "a.safetensors")
    assert_same_arrays(loaded, tensors)
    assert metadata == {}


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1, 1, 1, 1), (700, 513)],
                         ids=["0-d", "empty", "empty-3d", "ones", "large"])
def test_odd_and_large_shapes_round_trip(tmp_path, shape):
    tensors = {"x": random_array("float32", shape), "y": random_array("int16", shape, seed=1)}
    save_safetensors(tensors, tmp_path / "a.safetensors")
    assert_same_arrays(load_safetensors(tmp_path / "a.safetensors")[0], tensors)


def test_tensors_fortran_order_and_big_endian_arrays_are_saved_as_their_values(tmp_path):
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    big_endian = (np.arange(5) - 2).astype(">i4")
    tensors = {"t": nanoae.tensor(np.array([1.5, -2.0], dtype="float32")), "f": fortran, "b": big_endian,
               "number": 3.25}
    save_safetensors(tensors, tmp_path / "a.safetensors")
    loaded, _ = load_safetensors(tmp_path / "a.safetensors")
    np.testing.assert_array_equal(loaded["t"], [1.5, -2.0])
    np.testing.assert_array_equal(loaded["f"], fortran)
    assert big_endian.dtype.byteorder == ">"
    np.testing.assert_array_equal(loaded["b"], [-2, -1, 0, 1, 2])
    assert loaded["b"].dtype == np.dtype("<i4") and loaded["number"] == 3.25 and loaded["number"].shape == ()


def test_metadata_round_trips_with_any_text(tmp_path):
    metadata = {"format": "nanoae", "note": 'ünïcode, "quotes", a\nnewline', "": ""}
    save_safetensors({"x": np.ones(2)}, tmp_path / "a.safetensors", metadata=metadata)
    assert load_safetensors(tmp_path / "a.safetensors")[1] == metadata


def test_a_model_state_dict_restores_a_fresh_model(tmp_path):
    model = nanoae.nn.Sequential(nanoae.nn.Linear(4, 3), nanoae.nn.ReLU(), nanoae.nn.Linear(3, 2))
    save_safetensors(model.state_dict(), tmp_path / "model.safetensors")
    nanoae.manual_seed(1)
    fresh = nanoae.nn.Sequential(nanoae.nn.Linear(4, 3), nanoae.nn.ReLU(), nanoae.nn.Linear(3, 2))
    fresh.load_state_dict(load_safetensors(tmp_path / "model.safetensors")[0])
    for p, q in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_the_bytes_written_follow_the_format_worked_out_by_hand(tmp_path):
    save_safetensors({"w": np.array([[1.0, -2.0]], dtype="float32"), "n": np.array([7], dtype="int16")},
                     tmp_path / "a.safetensors", metadata={"k": "v"})
    header = ('{"__metadata__":{"k":"v"},'
              '"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},'
              '"n":{"dtype":"I16","shape":[1],"data_offsets":[8,10]}}')
    header += " " * (-len(header) % 8)                        # padded to a multiple of 8 bytes
    data = bytes.fromhex("0000803f" "000000c0" "0700")       # 1.0f, -2.0f, 7, each little-endian
    assert (tmp_path / "a.safetensors").read_bytes() == struct.pack("<Q", len(header)) + header.encode() + data


def test_largest_items_come_first_so_every_tensor_starts_at_a_multiple_of_its_item_size(tmp_path):
    tensors = {f"{code.lower()}": random_array(dtype, (3,)) for code, dtype in DTYPES.items()}
    save_safetensors(tensors, tmp_path / "a.safetensors")
    content = (tmp_path / "a.safetensors").read_bytes()
    (length,) = struct.unpack("<Q", content[:8])
    header = json.loads(content[8:8 + length])
    assert length % 8 == 0
    for name, info in header.items():
        assert (8 + length + info["data_offsets"][0]) % tensors[name].itemsize == 0, name


def test_save_leaves_no_temporary_file_and_replaces_the_old_one(tmp_path):
    save_safetensors({"a": np.ones(3)}, tmp_path / "a.safetensors")
    save_safetensors({"a": np.zeros(3)}, tmp_path / "a.safetensors")
    assert os.listdir(tmp_path) == ["a.safetensors"]
    np.testing.assert_array_equal(load_safetensors(tmp_path / "a.safetensors")[0]["a"], np.zeros(3))


# --- what cannot be written --------------------------------------------------------------

@pytest.mark.parametrize("tensors, metadata, error, message", [
    ({"model": {"weight": np.ones(2)}}, None, TypeError, "'model' is a dict, but a .safetensors file is flat"),
    ({"z": np.ones(2, dtype=complex)}, None, TypeError, "'z' is an array of complex128, which .safetensors cannot"),
    ({"s": np.array(["text"])}, None, TypeError, "'s' is an array of <U4"),
    ({"o": object()}, None, TypeError, "'o' is an array of object"),
    ({1: np.ones(2)}, None, TypeError, "tensor names must be strings, got 1"),
    ({"__metadata__": np.ones(2)}, None, ValueError, "is the header's place for metadata"),
    ({"a": np.ones(2)}, {"epoch": 3}, TypeError, "metadata maps strings to strings, got 'epoch': 3"),
    ([np.ones(2)], None, TypeError, "tensors must be a dict of arrays, got list"),
], ids=["nested", "complex", "strings", "object", "name-not-a-string", "reserved-name", "metadata-number",
        "not-a-dict"])
def test_what_the_format_cannot_hold_is_refused_and_the_old_file_kept(tmp_path, tensors, metadata, error, message):
    path = tmp_path / "a.safetensors"
    save_safetensors({"a": np.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(error, match="save_safetensors: ") as raised:
        save_safetensors(tensors, path, metadata=metadata)
    assert message in str(raised.value)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["a.safetensors"]


# --- hostile files, built by hand ----------------------------------------------------------

def file_bytes(header, data=b"", length=None):
    """A .safetensors file: ``header`` (a dict, written as JSON, or the exact text or bytes), ``data`` after it,
    and ``length`` as the header's length if given (else the true one)."""
    if isinstance(header, dict):
        header = json.dumps(header)
    if isinstance(header, str):
        header = header.encode("utf-8")
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def f32(shape, begin, end):
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


HOSTILE = [
    ("too-short", b"\x10\x00\x00", "is 3 bytes, too short for the 8-byte header length"),
    ("header-longer-than-the-file", file_bytes({"a": f32([1], 0, 4)}, b"\0" * 4, length=10**6),
     "the header length says 1000000 bytes, but only"),
    ("header-length-near-2-to-64", file_bytes("{}", length=2**64 - 1),
     f"the header length says {2**64 - 1} bytes"),
    ("not-json", file_bytes("this is not json"), "the header is not UTF-8 JSON text (JSONDecodeError"),
    ("not-utf8", file_bytes(b'{"\xff\xfe": 1}'), "the header is not UTF-8 JSON text (UnicodeDecodeError"),
    ("nested-too-deeply", file_bytes("[" * 100_000 + "]" * 100_000), "the header is not UTF-8 JSON text"),
    ("header-a-list", file_bytes("[1, 2]"), "the header must be a JSON object, got [1, 2]"),
    ("duplicate-names", file_bytes('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
                                   '"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', b"\0" * 8),
     "'a' appears 2 times in the header"),
    ("duplicate-field", file_bytes('{"a": {"dtype": "F32", "dtype": "I8", "shape": [1], "data_offsets": [0, 4]}}',
                                   b"\0" * 4), "'dtype' appears 2 times in the header"),
    ("unknown-dtype", file_bytes({"a": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
     "tensor 'a' has dtype 'F8_E4M3', which nanoae does not read (it reads BOOL, U8"),
    ("dtype-not-a-string", file_bytes({"a": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
     "tensor 'a' has dtype 32"),
    ("negative-shape", file_bytes({"a": f32([-1], 0, 4)}, b"\0" * 4),
     "tensor 'a' has shape [-1], not a list of whole numbers >= 0"),
    ("shape-of-floats", file_bytes({"a": f32([1.0], 0, 4)}, b"\0" * 4), "tensor 'a' has shape [1.0], not a list"),
    ("shape-of-booleans", file_bytes({"a": f32([True], 0, 4)}, b"\0" * 4), "tensor 'a' has shape [True], not"),
    ("offsets-reversed", file_bytes({"a": f32([1], 4, 0)}, b"\0" * 4),
     "tensor 'a' has data_offsets [4, 0], not [begin, end] with 0 <= begin <= end"),
    ("offsets-of-three", file_bytes({"a": f32([1], 0, 4) | {"data_offsets": [0, 2, 4]}}, b"\0" * 4),
     "tensor 'a' has data_offsets [0, 2, 4]"),
    ("missing-field", file_bytes({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4),
     "tensor 'a' must be described by a JSON object with dtype, shape and data_offsets"),
    ("extra-field", file_bytes({"a": f32([1], 0, 4) | {"note": "hi"}}, b"\0" * 4),
     "tensor 'a' must be described by a JSON object"),
    ("size-not-shape-times-itemsize", file_bytes({"a": f32([2], 0, 4)}, b"\0" * 4),
     "tensor 'a' has shape [2] of F32, 8 bytes, but its data_offsets [0, 4] span 4"),
    ("claims-4-terabytes", file_bytes({"a": f32([10**12], 0, 4 * 10**12)}, b"\0" * 8),
     "the tensors cover 4000000000000 bytes of data, but the file holds 8 after the header"),
    ("overlapping", file_bytes({"a": f32([2], 0, 8), "b": f32([2], 4, 12)}, b"\0" * 12),
     "tensors 'a' (bytes 0 to 8) and 'b' (bytes 4 to 12) overlap"),
    ("same-bytes-twice", file_bytes({"a": f32([1], 0, 4), "b": f32([1], 0, 4)}, b"\0" * 4),
     "tensors 'a' (bytes 0 to 4) and 'b' (bytes 0 to 4) overlap"),
    ("gap-between", file_bytes({"a": f32([1], 0, 4), "b": f32([1], 8, 12)}, b"\0" * 12),
     "bytes 4 to 8 of the data, before tensor 'b', belong to no tensor"),
    ("gap-at-the-start", file_bytes({"a": f32([1], 4, 8)}, b"\0" * 8),
     "bytes 0 to 4 of the data, before tensor 'a', belong to no tensor"),
    ("bytes-left-over", file_bytes({"a": f32([1], 0, 4)}, b"\0" * 6),
     "the tensors cover 4 bytes of data, but the file holds 6 after the header"),
    ("truncated", file_bytes({"a": f32([4], 0, 16)}, b"\0" * 10),
     "the tensors cover 16 bytes of data, but the file holds 10 after the header"),
    ("metadata-not-strings", file_bytes({"__metadata__": {"epoch": 3}}),
     "__metadata__ must be a JSON object of strings, got {'epoch': 3}"),
    ("too-many-dimensions", file_bytes({"a": f32([1] * 70, 0, 4)}, b"\0" * 4),
     "tensor 'a' has shape [1, 1, 1, 1, 1, 1, ...], which NumPy cannot make"),
]


@pytest.mark.parametrize("content, message", [pytest.param(*case[1:], id=case[0]) for case in HOSTILE])
def test_a_hostile_file_raises_one_value_error_naming_the_file_and_the_fault(tmp_path, content, message):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError) as error:
        load_safetensors(path)
    assert str(error.value).startswith(f"load_safetensors: {path}: ")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_header_longer_than_the_reference_allows_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge-header.safetensors"
    with open(path, "wb") as f:
        f.write(file_bytes("{", length=100_000_001))
        f.truncate(8 + 100_000_001)               # a sparse file: the file system stores no zeros
    with pytest.raises(ValueError, match="the header length says 100000001 bytes, more than the 100000000"):
        load_safetensors(path)


def test_a_missing_file_raises_file_not_found_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_safetensors: no such file: .*nowhere.safetensors"):
        load_safetensors(tmp_path / "nowhere.safetensors")


def test_tensors_may_be_listed_in_any_order_of_their_offsets(tmp_path):
    data = struct.pack("<2f", 1.0, 2.0)
    (tmp_path / "a.safetensors").write_bytes(file_bytes({"second": f32([], 4, 8), "first": f32([], 0, 4)}, data))
    loaded, _ = load_safetensors(tmp_path / "a.safetensors")
    assert (loaded["first"], loaded["second"]) == (1.0, 2.0)


def test_a_bfloat16_tensor_loads_as_the_float32_of_the_same_value(tmp_path):
    """bfloat16 is a float32's upper 16 bits: 1.0f is 0x3F800000, so 1.0 in bfloat16 is 0x3F80."""
    bits = [0x3F80, 0xC020, 0x0000, 0x7F80, 0x4049]       # 1.0, -2.5, 0.0, inf, 3.140625
    data = struct.pack("<5H", *bits)
    header = {"x": {"dtype": "BF16", "shape": [5], "data_offsets": [0, 10]}}
    (tmp_path / "a.safetensors").write_bytes(file_bytes(header, data))
    x = load_safetensors(tmp_path / "a.safetensors")[0]["x"]
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, [1.0, -2.5, 0.0, np.inf, 3.140625])


# --- agreement with the reference package ---------------------------------------------------

def every_dtype():
    return {f"{code.lower()}.{i}": random_array(dtype, shape, seed=i)
            for i, shape in enumerate([(2, 3), (), (0, 4)]) for code, dtype in DTYPES.items()}


def test_files_we_write_are_byte_for_byte_the_reference_writers(tmp_path):
    reference = pytest.importorskip("safetensors.numpy")
    tensors = every_dtype()
    # One metadata entry only: the reference writer puts several in no fixed order.
    save_safetensors(tensors, tmp_path / "ours.safetensors", metadata={"format": "nanoae"})
    reference.save_file(tensors, tmp_path / "reference.safetensors", metadata={"format": "nanoae"})
    assert (tmp_path / "ours.safetensors").read_bytes() == (tmp_path / "reference.safetensors").read_bytes()


def test_files_we_write_load_with_the_reference_reader(tmp_path):
    safetensors = pytest.importorskip("safetensors")
    reference = pytest.importorskip("safetensors.numpy")
    tensors, metadata = every_dtype(), {"format": "nanoae", "nanoae_model": "vae", "note": "ünïcode"}
    save_safetensors(tensors, tmp_path / "ours.safetensors", metadata=metadata)
    assert_same_arrays(reference.load_file(tmp_path / "ours.safetensors"), tensors)
    with safetensors.safe_open(tmp_path / "ours.safetensors", framework="numpy") as f:
        assert f.metadata() == metadata


def test_files_the_reference_writes_load_with_ours(tmp_path):
    reference = pytest.importorskip("safetensors.numpy")
    tensors, metadata = every_dtype(), {"format": "pt", "source": "the reference writer", "empty": ""}
    reference.save_file(tensors, tmp_path / "reference.safetensors", metadata=metadata)
    loaded, loaded_metadata = load_safetensors(tmp_path / "reference.safetensors")
    assert_same_arrays(loaded, tensors)
    assert loaded_metadata == metadata


def test_bfloat16_written_by_torch_loads_as_its_float32_values(tmp_path):
    torch = pytest.importorskip("torch")
    reference = pytest.importorskip("safetensors.torch")
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    reference.save_file({"x": x}, tmp_path / "bf16.safetensors")
    loaded = load_safetensors(tmp_path / "bf16.safetensors")[0]["x"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, x.float().numpy())
