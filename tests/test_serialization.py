"""Saving and loading: nested round trips, atomic writes, and clear refusals
(pickled objects, truncated or foreign files, missing files, and hostile files
built by hand: lying headers and sizes, duplicate and clashing names)."""
import io
import os
import struct
import zipfile

import numpy as np
import pytest

import nanoae
from nanoae import nn, optim, serialization


def trained_model_and_optimizer(xp):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    x = nanoae.tensor(xp.asarray(np.random.default_rng(0).standard_normal((5, 4)), dtype="float32"))
    model(x).sum().backward()
    optimizer.step()
    return model, optimizer


def test_save_load_round_trip_of_nested_state(xp, tmp_path):
    model, optimizer = trained_model_and_optimizer(xp)
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3, "loss": 0.25,
             "name": "vae", "flags": {"deep": {"mask": np.array([True, False]), "ids": np.arange(3)}}}
    nanoae.save(state, tmp_path / "checkpoint.npz")
    loaded = nanoae.load(tmp_path / "checkpoint.npz")

    assert loaded["epoch"] == 3 and isinstance(loaded["epoch"], int)
    assert loaded["loss"] == 0.25 and loaded["name"] == "vae"
    np.testing.assert_array_equal(loaded["flags"]["deep"]["mask"], [True, False])
    assert loaded["flags"]["deep"]["ids"].dtype == np.arange(3).dtype
    assert list(loaded["model"]) == list(model.state_dict())
    for name, array in model.state_dict().items():
        assert isinstance(loaded["model"][name], np.ndarray) and loaded["model"][name].dtype == np.float32
        np.testing.assert_array_equal(loaded["model"][name], nanoae.backend.to_numpy(array))
    assert loaded["optimizer"]["betas"].tolist() == [0.9, 0.999] and loaded["optimizer"]["steps"] == 1
    np.testing.assert_array_equal(loaded["optimizer"]["m.0"], nanoae.backend.to_numpy(optimizer.state["m"][0]))


def test_loaded_state_dict_restores_a_fresh_model(xp, tmp_path):
    model, _ = trained_model_and_optimizer(xp)
    nanoae.save(model.state_dict(), tmp_path / "model.npz")
    fresh = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    fresh.load_state_dict(nanoae.load(tmp_path / "model.npz"))
    for p, q in zip(fresh.parameters(), model.parameters()):
        assert p.xp is xp
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_tensors_are_saved_as_their_arrays(xp, tmp_path):
    t = nanoae.tensor(xp.asarray([1.5, -2.0], dtype="float32"))
    nanoae.save({"t": t}, tmp_path / "t.npz")
    np.testing.assert_array_equal(nanoae.load(tmp_path / "t.npz")["t"], [1.5, -2.0])


@pytest.mark.parametrize("key", ["file", "allow_pickle", "args"])
def test_keys_that_are_also_argument_names_of_numpy_savez_round_trip(tmp_path, key):
    nanoae.save({key: np.arange(3)}, tmp_path / "a.npz")
    np.testing.assert_array_equal(nanoae.load(tmp_path / "a.npz")[key], np.arange(3))


def test_save_leaves_no_temporary_file_behind(tmp_path):
    nanoae.save({"a": np.ones(3)}, tmp_path / "a.npz")
    nanoae.save({"a": np.zeros(3)}, tmp_path / "a.npz")  # over an existing file
    assert os.listdir(tmp_path) == ["a.npz"]
    np.testing.assert_array_equal(nanoae.load(tmp_path / "a.npz")["a"], np.zeros(3))


@pytest.mark.skipif(os.name != "posix", reason="file modes are a POSIX notion")
def test_saved_file_gets_the_permissions_of_any_new_file(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    nanoae.save({"a": np.ones(3)}, tmp_path / "a.npz")
    assert os.stat(tmp_path / "a.npz").st_mode & 0o777 == 0o666 & ~umask


def test_saving_an_unsaveable_value_keeps_the_previous_file(tmp_path):
    path = tmp_path / "a.npz"
    nanoae.save({"a": np.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="'b/c' is of type object.*pickle"):
        nanoae.save({"a": np.zeros(3), "b": {"c": object()}}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["a.npz"]


def test_a_write_failing_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    nanoae.save({"a": np.ones(3)}, path)
    before = path.read_bytes()
    write_array = np.lib.format.write_array
    written = []

    def write_one_then_fail(member, array, **kwargs):  # as a full disk would
        if written:
            raise OSError("No space left on device")
        written.append(array)
        write_array(member, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_one_then_fail)
    with pytest.raises(OSError, match="No space"):
        nanoae.save({"a": np.zeros(3), "b": np.zeros(3)}, path)
    assert written, "the failure should come after part of the file was written"
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["a.npz"]


def test_key_containing_the_separator_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'a/b' contains '/'"):
        nanoae.save({"a/b": np.ones(1)}, tmp_path / "a.npz")
    assert os.listdir(tmp_path) == []


def test_loading_an_npz_with_pickled_objects_raises_value_error(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"code": "run me"}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle") as error:
        nanoae.load(path)
    assert str(path) in str(error.value)


def test_loading_a_truncated_file_raises_value_error_naming_it(tmp_path):
    path = tmp_path / "a.npz"
    nanoae.save({"a": np.arange(100.0)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match="not a .npz file") as error:
        nanoae.load(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("name, write", [
    ("notes.txt", lambda path: path.write_text("hello, this is not an array file")),
    ("array.npy", lambda path: np.save(path, np.arange(3.0))),
], ids=["text", "npy"])
def test_loading_a_file_of_another_format_raises_value_error_naming_it(tmp_path, name, write):
    path = tmp_path / name
    write(path)
    with pytest.raises(ValueError, match="not a .npz file") as error:
        nanoae.load(path)
    assert str(path) in str(error.value) and "pickle" not in str(error.value)


def test_loading_a_missing_file_raises_file_not_found_error_naming_it(tmp_path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        serialization.load(path)


def test_saving_something_other_than_a_dict_raises_type_error(tmp_path):
    with pytest.raises(TypeError, match=r"state must be a dict \(of arrays, tensors, numbers, strings or dicts "
                                        r"of them\), got list"):
        nanoae.save([1, 2], tmp_path / "a.npz")
    assert os.listdir(tmp_path) == []


def test_compressed_and_fortran_ordered_members_load(tmp_path):
    fortran = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.savez_compressed(tmp_path / "a.npz", fortran=fortran, text=np.array("vae"), big=np.zeros(100_000))
    loaded = nanoae.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(loaded["fortran"], fortran)
    assert loaded["text"] == "vae" and loaded["big"].shape == (100_000,) and not loaded["big"].any()


# --- hostile .npz files, built by hand --------------------------------------------------

def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array))
    return buffer.getvalue()


def npy_claiming(shape, data=b"\0" * 8):
    """A .npy file whose header claims ``shape`` of float64 but which holds only ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def npy_with_header(header):
    """A .npy file (format 1.0) with ``header`` as its header text, whatever it says."""
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members:
            archive.writestr(name, content)


def claim_size_in_directory(path, size):
    """Overwrite the uncompressed size that the zip's central directory gives its (one) member."""
    content = bytearray(path.read_bytes())
    entry = content.index(b"PK\x01\x02")            # the central directory's entry for the member
    content[entry + 24:entry + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(content))


HOSTILE = [
    ("header-claiming-1e12-elements", [("a.npy", npy_claiming((10**12,)))], zipfile.ZIP_STORED,
     "'a.npy' has a header claiming shape (1000000000000,) of float64 (8000000000000 bytes), "
     "but holds 8 bytes of data"),
    ("compressed-header-claiming-1e12-elements", [("a.npy", npy_claiming((10**12,)))], zipfile.ZIP_DEFLATED,
     "'a.npy' has a header claiming shape (1000000000000,)"),
    ("header-claiming-fewer-bytes-than-held", [("a.npy", npy_claiming((1,), b"\0" * 16))], zipfile.ZIP_STORED,
     "claiming shape (1,) of float64 (8 bytes), but holds 16 bytes of data"),
    ("negative-shape", [("a.npy", npy_claiming((-1,)))], zipfile.ZIP_STORED, "shape (-1,) of float64 describes no"),
    ("header-nested-too-deeply", [("a.npy", npy_with_header("-" * 9000 + "1\n"))], zipfile.ZIP_STORED,
     "'a.npy' has no valid .npy header"),
    ("header-of-python-2", [("a.npy", npy_with_header("[" * 10 + "\n"))], zipfile.ZIP_STORED,
     "'a.npy' has no valid .npy header"),
    ("duplicate-member", [("a.npy", npy_bytes([1.0])), ("a.npy", npy_bytes([2.0]))], zipfile.ZIP_STORED,
     "'a.npy' appears 2 times"),
    ("clashing-keys", [("a.npy", npy_bytes(1)), ("a/b.npy", npy_bytes(2))], zipfile.ZIP_STORED,
     "holds both 'a' and 'a/b'"),
    ("clashing-keys-deeper-first", [("a/b/c.npy", npy_bytes(1)), ("a/b.npy", npy_bytes(2))], zipfile.ZIP_STORED,
     "holds both 'a/b' and 'a/b/c'"),
    ("not-a-npy-member", [("a.npy", npy_bytes(1)), ("readme.txt", b"hello")], zipfile.ZIP_STORED,
     "'readme.txt' is not an array"),
    ("bzip2-member", [("a.npy", npy_bytes(1))], zipfile.ZIP_BZIP2, "uses zip compression method 12"),
]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("members, compression, message", [pytest.param(*case[1:], id=case[0]) for case in HOSTILE])
def test_a_hostile_npz_file_raises_value_error_naming_the_file_and_the_member(tmp_path, members, compression,
                                                                             message):
    path = tmp_path / "hostile.npz"
    write_zip(path, members, compression)
    with pytest.raises(ValueError) as error:
        nanoae.load(path)
    assert str(path) in str(error.value) and message in str(error.value)


@pytest.mark.parametrize("compression, message", [
    (zipfile.ZIP_STORED, "'a.npy' is stored uncompressed in 136 bytes, but the directory says it has 4000000128"),
    (zipfile.ZIP_DEFLATED, "'a.npy' cannot expand from"),
], ids=["stored", "deflated"])
def test_a_zip_directory_claiming_a_size_the_file_cannot_hold_is_refused_before_reading(tmp_path, compression,
                                                                                       message):
    """The header and the directory agree (500 million float64), but the file holds a few bytes."""
    path = tmp_path / "hostile.npz"
    write_zip(path, [("a.npy", npy_claiming((500_000_000,)))], compression)
    claim_size_in_directory(path, 128 + 8 * 500_000_000)
    with pytest.raises(ValueError) as error:
        nanoae.load(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_member_cut_short_inside_a_valid_zip_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    nanoae.save({"a": np.arange(1000.0)}, path)
    with zipfile.ZipFile(path) as archive:
        content = archive.read("a.npy")
    write_zip(path, [("a.npy", content[:-8])])
    with pytest.raises(ValueError, match=r"'a.npy' has a header claiming shape \(1000,\)") as error:
        nanoae.load(path)
    assert str(path) in str(error.value)


def test_a_write_that_fails_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    """A full disk fails the write inside the file system; the message must say which file."""
    path = tmp_path / "state.npz"
    nanoae.save({"a": np.arange(3)}, path)

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match=f"could not write {path} \\(No space left on device\\)"):
        nanoae.save({"a": np.arange(5)}, path)
    np.testing.assert_array_equal(nanoae.load(path)["a"], np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["state.npz"]
