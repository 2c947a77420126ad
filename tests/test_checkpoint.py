"""Checkpoints read as untrusted input: every kind of edit, corruption or version skew
gives one CheckpointError naming the file and the field, and a good checkpoint
still restores exactly.

Each case below takes a real checkpoint written by ``fit``, edits it (through
``nanoae.load``/``nanoae.save``, or byte by byte for the hostile files) and
calls ``load_checkpoint``, ``restore_checkpoint`` or ``model_from_checkpoint``.
"""
import dataclasses
import json
import shutil
import zipfile

import numpy as np
import pytest

import nanoae
from nanoae import backend
from nanoae.checkpoint import (TRAIN_CONFIG_FIELDS, CheckpointError, load_checkpoint, model_from_checkpoint,
                               restore_checkpoint, save_checkpoint)
from nanoae.models import MODELS, build_model
from nanoae.train import TrainConfig, fit, make_optimizer
from test_serialization import npy_bytes, npy_claiming

SMALL = {"vae": {"input_dim": 16, "hidden": [12], "latent_dim": 3},
         "aae": {"input_dim": 16, "hidden": [12], "latent_dim": 2, "disc_hidden": [8]}}
CONFIG = TrainConfig(epochs=2, batch_size=32, lr=1e-2, seed=0)


def data(n, seed):
    return np.random.default_rng(seed).random((n, 16), dtype=np.float32)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """{model name: a checkpoint that fit wrote after 2 epochs}, for the VAE and the (phased) AAE."""
    paths = {}
    for name in SMALL:
        out = tmp_path_factory.mktemp(name)
        fit(build_model(name, SMALL[name], seed=0), data(64, 1), data(32, 2), CONFIG, out=out, progress=False)
        paths[name] = out / "checkpoint.npz"
    return paths


def fresh_model_and_optimizer(name):
    model = build_model(name, SMALL[name], seed=1)
    return model, make_optimizer(model, CONFIG)


# --- edits: each rewrites the checkpoint file at ``path`` ----------------------------------

def edit_state(change):
    """An edit that loads the file, lets ``change(state)`` alter it (JSON parts as text) and saves it."""
    def edit(path):
        state = nanoae.load(path)
        change(state)
        nanoae.save(state, path)
    return edit


def edit_json(part, change):
    """An edit of one JSON part: ``change(value)`` alters the decoded value in place."""
    def change_state(state):
        value = json.loads(state[part])
        change(value)
        state[part] = json.dumps(value)
    return edit_state(change_state)


def set_json(part, value):
    """An edit that stores ``value`` as the JSON part."""
    return edit_state(lambda state: state.__setitem__(part, json.dumps(value)))


def edit_members(change):
    """An edit of the zip itself: ``change(members)`` alters the list of (name, bytes)."""
    def edit(path):
        with zipfile.ZipFile(path) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()]
        change(members)
        with zipfile.ZipFile(path, "w") as archive:
            for name, content in members:
                archive.writestr(name, content)
    return edit


def replace_member(name, content):
    def change(members):
        members[:] = [(n, content if n == name else c) for n, c in members]
    return edit_members(change)


def truncate(path):
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def pop(key):
    return lambda d: d.pop(key)


def set_item(key, value):
    return lambda d: d.__setitem__(key, value)


def set_rng_inner(key, value):
    return lambda rng: rng["state"].__setitem__(key, value)


# (id, model, edit, which call, what the message must say besides the file's name)
CASES = [
    ("unknown-model-config-field", "vae", edit_json("model_config", set_item("foo", 1)), "load",
     "model_config has an unknown field 'foo' (a VAEConfig has input_dim, hidden, latent_dim, activation, beta)"),
    ("model-config-field-of-wrong-type", "vae", edit_json("model_config", set_item("latent_dim", "3")), "load",
     "model_config field 'latent_dim' must be int, got '3'"),
    ("model-config-hidden-not-a-list", "vae", edit_json("model_config", set_item("hidden", 12)), "load",
     "model_config field 'hidden' must be tuple[int, ...], got 12"),
    ("model-config-value-out-of-range", "vae", edit_json("model_config", set_item("beta", -1.0)), "load",
     "model_config is not a valid VAEConfig: VAEConfig: beta must be >= 0"),
    ("model-config-of-a-model-too-big-to-build", "vae", edit_json("model_config", set_item("input_dim", 10**12)),
     "model", "the model its model_config describes does not fit in memory"),
    ("model-config-field-missing", "vae", edit_json("model_config", pop("beta")), "load",
     "model_config lacks 'beta'"),
    ("model-config-a-list", "vae", set_json("model_config", ["input_dim", 16]), "load",
     "model_config must be a JSON object"),
    ("train-config-unknown-field", "vae", edit_json("train_config", set_item("warmup", 3)), "load",
     "train_config has an unknown field 'warmup' (a TrainConfig has epochs, batch_size"),
    ("train-config-field-of-wrong-type", "vae", edit_json("train_config", set_item("batch_size", 32.5)), "load",
     "train_config field 'batch_size' must be int, got 32.5"),
    ("train-config-bool-for-int", "vae", edit_json("train_config", set_item("seed", True)), "load",
     "train_config field 'seed' must be int, got True"),
    ("meta-a-list", "vae", set_json("meta", [1, 2]), "load", "meta must be a JSON object, got [1, 2]"),
    ("history-a-dict", "vae", set_json("history", {"epoch": 1}), "load",
     "history must be a JSON list of rows"),
    ("history-row-without-epoch", "vae", edit_json("history", lambda history: history[0].pop("epoch")), "load",
     "history row 1 must have 'epoch': 1, got None"),
    ("history-epochs-out-of-order", "vae", edit_json("history", lambda history: history.reverse()), "load",
     "history row 1 must have 'epoch': 1, got 2"),
    ("history-nan", "vae", edit_json("history", lambda history: history[1].update(test_kl=float("nan"))), "load",
     "history row 2 must hold finite numbers, got {'test_kl': nan}"),
    ("history-text-value", "vae", edit_json("history", lambda history: history[0].update(seconds="1.5")), "load",
     "history row 1 must hold finite numbers, got {'seconds': '1.5'}"),
    ("history-rows-with-other-fields", "vae", edit_json("history", lambda history: history[1].pop("test_kl")),
     "load", "history row 2 has the fields"),
    ("epoch-not-matching-history", "vae", edit_state(set_item("epoch", 5)), "load",
     "epoch is 5, but history has 2 rows"),
    ("epoch-an-array", "vae", edit_state(set_item("epoch", np.array([2, 2]))), "load",
     "epoch is an array of shape (2,)"),
    ("rng-a-string", "vae", set_json("rng", "PCG64"), "load", "rng must be a JSON object, got 'PCG64'"),
    ("rng-missing-key", "vae", edit_json("rng", lambda rng: rng["state"].pop("inc")), "load",
     "rng['state'] must have the keys ['inc', 'state'], got ['state']"),
    ("rng-other-generator", "vae", edit_json("rng", set_item("bit_generator", "MT19937")), "load",
     "rng['bit_generator'] must be 'PCG64', got 'MT19937'"),
    ("rng-float-state", "vae", edit_json("rng", set_rng_inner("state", 1.5)), "load",
     "rng['state']['state'] must be int, got 1.5"),
    ("rng-negative-state", "vae", edit_json("rng", set_rng_inner("state", -1)), "load",
     "rng is not a state the generator accepts"),
    ("non-json-text", "vae", edit_state(set_item("train_config", "{epochs: 2,")), "load",
     "train_config is not valid JSON"),
    ("json-part-an-array", "vae", edit_state(set_item("history", np.zeros(3))), "load",
     "history must be JSON text, got an array of shape (3,)"),
    ("unknown-model-name", "vae", edit_state(set_item("model_name", "gan")), "load",
     "model_name 'gan' is not a nanoae model; the models are"),
    ("missing-part", "vae", edit_state(pop("rng")), "load", "is not a nanoae training checkpoint: it has no 'rng'"),
    ("unknown-part", "vae", edit_state(set_item("scheduler", 1)), "load", "it has unknown parts 'scheduler'"),
    ("weight-of-integers", "vae", edit_state(lambda s: s["model"].__setitem__("mu.bias", np.arange(3))), "load",
     "model/mu.bias must be an array of floats, got an array of shape (3,) (int64)"),
    ("weight-missing", "vae", edit_state(lambda s: s["model"].pop("mu.weight")), "model",
     "model (the weights) does not fit the VAE they go into: VAE.load_state_dict: missing ['mu.weight']"),
    ("weight-of-wrong-shape", "vae", edit_state(lambda s: s["model"].__setitem__("mu.bias", np.zeros(4))), "model",
     "wrong shape ['mu.bias: (4,) given, (3,) expected']"),
    ("weight-extra", "vae", edit_state(lambda s: s["model"].__setitem__("mu.scale", np.ones(3))), "restore",
     "model (the weights) does not fit the VAE they go into: VAE.load_state_dict: unexpected ['mu.scale']"),
    ("optimizer-buffer-missing", "vae", edit_state(lambda s: s["optimizer"].pop("m.0")), "restore",
     "optimizer does not fit the Adam: Adam.load_state_dict: missing ['m.0']"),
    ("optimizer-buffer-of-wrong-shape", "vae",
     edit_state(lambda s: s["optimizer"].__setitem__("v.1", np.zeros((2, 2)))), "restore", "v.1 has shape (2, 2)"),
    ("optimizer-lr-an-array", "vae",
     edit_state(lambda s: s["optimizer"].__setitem__("lr", np.full(3, 0.01))), "restore", "optimizer does not fit"),
    ("optimizer-steps-an-array", "vae",
     edit_state(lambda s: s["optimizer"].__setitem__("steps", np.array([4]))), "restore", "steps"),
    ("optimizer-nested-for-one-optimizer", "vae",
     edit_state(lambda s: s["optimizer"].__setitem__("extra", {"lr": 0.1})), "load",
     "optimizer/extra is a group of entries, but a 'vae' model has one optimizer"),
    ("phased-optimizer-flat", "aae", edit_state(lambda s: s.__setitem__("optimizer", s["optimizer"]["recon"])),
     "load", "must be the state of one optimizer (a model trained in phases has one per phase)"),
    ("phased-optimizer-missing", "aae", edit_state(lambda s: s["optimizer"].pop("gen")), "restore",
     "holds optimizers ['disc', 'recon'], the model makes ['disc', 'gen', 'recon']"),
    ("phased-optimizer-buffer-missing", "aae", edit_state(lambda s: s["optimizer"]["disc"].pop("v.0")), "restore",
     "optimizer/disc does not fit the Adam: Adam.load_state_dict: missing ['v.0']"),
    ("header-claiming-1e12-elements", "vae", replace_member("model/mu.bias.npy", npy_claiming((10**12,))), "load",
     "'model/mu.bias.npy' has a header claiming shape (1000000000000,) of float64 (8000000000000 bytes)"),
    ("duplicate-member", "vae", edit_members(lambda m: m.append(("epoch.npy", npy_bytes(1)))), "load",
     "'epoch.npy' appears 2 times"),
    ("clashing-keys", "vae", edit_members(lambda m: m.append(("epoch/first.npy", npy_bytes(1)))), "load",
     "holds both 'epoch' and 'epoch/first'"),
    ("not-an-array-member", "vae", edit_members(lambda m: m.append(("notes.txt", b"hi"))), "load",
     "'notes.txt' is not an array"),
    ("truncated-file", "vae", truncate, "load", "is not a .npz file"),
    ("not-a-zip-file", "vae", lambda path: path.write_text("epoch = 2\n"), "load", "is not a .npz file"),
]


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("name, edit, call, message", [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_an_edited_checkpoint_gives_one_error_naming_the_file_and_the_field(written, tmp_path, name, edit, call,
                                                                            message):
    path = tmp_path / "checkpoint.npz"
    shutil.copy(written[name], path)
    edit(path)
    with pytest.raises(CheckpointError) as error:
        if call == "load":
            load_checkpoint(path)
        elif call == "model":
            model_from_checkpoint(path)
        else:
            restore_checkpoint(path, *fresh_model_and_optimizer(name))
    assert str(path) in str(error.value)
    assert message in str(error.value)


@pytest.mark.parametrize("edit, call", [
    pytest.param(edit_json("rng", set_rng_inner("inc", 2**200)), "load", id="rng"),
    pytest.param(edit_state(lambda s: s["model"].__setitem__("mu.bias", np.zeros(4))), "restore", id="weights"),
])
def test_a_bad_checkpoint_leaves_the_model_and_the_random_state_as_they_were(written, tmp_path, edit, call):
    path = tmp_path / "checkpoint.npz"
    shutil.copy(written["vae"], path)
    edit(path)
    model, optimizer = fresh_model_and_optimizer("vae")
    before = {name: array.copy() for name, array in model.state_dict().items()}
    rng_before = backend.get_rng_state()
    with pytest.raises(CheckpointError):
        restore_checkpoint(path, model, optimizer)
    assert backend.get_rng_state() == rng_before
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_valid_checkpoint_restores_bit_exact_weights_optimizer_and_random_state(written, name):
    saved = nanoae.load(written[name])
    model, optimizer = fresh_model_and_optimizer(name)
    history = restore_checkpoint(written[name], model, optimizer)
    assert [row["epoch"] for row in history] == [1, 2]
    assert backend.get_rng_state() == json.loads(saved["rng"])
    for weight, array in model.state_dict().items():
        assert array.dtype == saved["model"][weight].dtype
        np.testing.assert_array_equal(array, saved["model"][weight])
    optimizers = optimizer if isinstance(optimizer, dict) else {None: optimizer}
    for key, opt in optimizers.items():
        expected = saved["optimizer"] if key is None else saved["optimizer"][key]
        assert opt.steps == expected["steps"] == 2 * 2                  # 64 / 32 = 2 batches per epoch
        for entry, value in opt.state_dict().items():
            np.testing.assert_array_equal(value, expected[entry])
    rebuilt, state = model_from_checkpoint(written[name])
    assert state["model_config"] == json.loads(saved["model_config"])
    for weight, array in rebuilt.state_dict().items():
        np.testing.assert_array_equal(array, saved["model"][weight])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_checkpoint_of_every_model_with_its_default_config_loads(tmp_path, name):
    """Every config field's type (int, float, str, float | None, tuples) is one the checks understand."""
    model = build_model(name)
    config = TrainConfig(epochs=1)
    save_checkpoint(tmp_path / "checkpoint.npz", model, make_optimizer(model, config), [], config)
    rebuilt, state = model_from_checkpoint(tmp_path / "checkpoint.npz")
    assert state["epoch"] == 0 and rebuilt.config == model.config


def test_the_train_config_table_matches_train_config():
    """checkpoint.py cannot import nanoae.train (train imports it), so it lists TrainConfig's fields itself."""
    assert TRAIN_CONFIG_FIELDS == {field.name: field.type for field in dataclasses.fields(TrainConfig)}


def test_a_missing_checkpoint_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        load_checkpoint(tmp_path / "nowhere.npz")
