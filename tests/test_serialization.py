"""Saving and loading: nested round trips, atomic writes, and clear refusals
(pickled objects, truncated or foreign files, missing files)."""
import os

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
