"""`nanoae export`: a trained model's weights written as .safetensors and as .npz, read back bit for bit
with the facts that rebuild the model; refusals (an existing file, a missing checkpoint, a file that is
no export); and PyTorch loading what nanoae writes."""
import json

import numpy as np
import pytest

import nanoae
from nanoae import cli
from nanoae.checkpoint import load_checkpoint, model_from_checkpoint
from nanoae.export import model_from_safetensors
from nanoae.safetensors import load_safetensors, save_safetensors


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny VAE trained for one epoch on 300 images, trained once for every test here."""
    out = tmp_path_factory.mktemp("export") / "run"
    assert cli.main(["train", "vae", "--epochs", "1", "--limit", "300", "--quiet", "--hidden", "32", "--latent", "4",
                     "--out", str(out)]) == 0
    return str(out / "checkpoint.npz")


def assert_same_weights(loaded, model):
    expected = model.state_dict()
    assert sorted(loaded) == sorted(expected)
    for name, array in expected.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape, name
        assert loaded[name].tobytes() == nanoae.backend.to_numpy(array).tobytes(), name


def expected_metadata(checkpoint):
    return {"format": "nanoae", "nanoae_model": "vae",
            "nanoae_config": json.dumps(load_checkpoint(checkpoint)["model_config"])}


def test_export_to_safetensors_writes_the_weights_bit_for_bit_and_the_model_facts(checkpoint, tmp_path, capsys):
    out = tmp_path / "vae.safetensors"
    assert cli.main(["export", checkpoint, "--to", str(out)]) == 0
    model, _ = model_from_checkpoint(checkpoint)
    weights, metadata = load_safetensors(out)
    assert_same_weights(weights, model)
    assert metadata == expected_metadata(checkpoint)
    assert json.loads(metadata["nanoae_config"])["latent_dim"] == 4
    assert capsys.readouterr().out.startswith(f"wrote {out} ({len(weights)} tensors, ")


def test_export_to_npz_writes_the_weights_bit_for_bit_and_the_model_facts(checkpoint, tmp_path, capsys):
    out = tmp_path / "vae.npz"
    assert cli.main(["export", checkpoint, "--to", str(out)]) == 0
    exported = nanoae.load(out)
    assert sorted(exported) == ["metadata", "weights"]
    assert_same_weights(exported["weights"], model_from_checkpoint(checkpoint)[0])
    assert exported["metadata"] == expected_metadata(checkpoint)
    assert capsys.readouterr().out.startswith(f"wrote {out} ({len(exported['weights'])} tensors, ")


def test_a_safetensors_export_rebuilds_the_model_that_was_trained(checkpoint, tmp_path):
    out = tmp_path / "vae.safetensors"
    assert cli.main(["export", checkpoint, "--to", str(out)]) == 0
    trained, _ = model_from_checkpoint(checkpoint)
    rebuilt = model_from_safetensors(out)
    assert type(rebuilt) is type(trained) and rebuilt.config == trained.config
    x = nanoae.tensor(np.random.default_rng(0).random((5, trained.config.input_dim), dtype="float32"))
    with nanoae.no_grad():
        np.testing.assert_array_equal(rebuilt.eval().reconstruct(x).numpy(), trained.eval().reconstruct(x).numpy())


def test_export_refuses_to_replace_a_file_unless_told_to(checkpoint, tmp_path, capsys):
    out = tmp_path / "vae.safetensors"
    out.write_bytes(b"precious")
    assert cli.main(["export", checkpoint, "--to", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"nanoae export: error: {out} already exists; replace it with --overwrite, or choose another --to\n"
    assert out.read_bytes() == b"precious"
    assert cli.main(["export", checkpoint, "--to", str(out), "--overwrite"]) == 0
    assert "encoder" in " ".join(load_safetensors(out)[0])


def test_export_makes_the_folder_it_writes_in(checkpoint, tmp_path):
    out = tmp_path / "exports" / "vae.npz"
    assert cli.main(["export", checkpoint, "--to", str(out)]) == 0
    assert out.exists()


def test_exporting_a_checkpoint_that_does_not_exist_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "nope.npz"), "--to", str(tmp_path / "vae.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nanoae export: error: ") and "nope.npz" in err and err.count("\n") == 1
    assert not (tmp_path / "vae.safetensors").exists()


def test_a_file_ending_in_neither_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["export", "checkpoint.npz", "--to", "vae.pt"])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.count("\n") == 1
    assert "argument --to: 'vae.pt' must end in .safetensors or .npz" in err


# --- model_from_safetensors refuses what is no nanoae export ----------------------------------

def edited_export(checkpoint, path, weights=None, **metadata):
    """An export of the trained VAE, its weights or metadata entries replaced by those given."""
    model, _ = model_from_checkpoint(checkpoint)
    facts = {**expected_metadata(checkpoint), **metadata}
    save_safetensors(model.state_dict() if weights is None else weights, path,
                     metadata={key: value for key, value in facts.items() if value is not None})


@pytest.mark.parametrize("edit, message", [
    ({"format": None}, "is not a model written by nanoae export: its metadata must have format 'nanoae'"),
    ({"nanoae_model": "gan"}, "nanoae_model 'gan' is not a nanoae model; the models are aae, ae"),
    ({"nanoae_config": "{not json"}, "nanoae_config does not describe a 'vae' model: Expecting property name"),
    ({"nanoae_config": "[1, 2]"}, "nanoae_config does not describe a 'vae' model: it is [1, 2], not a JSON object"),
    ({"nanoae_config": '{"latent_dim": 4, "colour": "red"}'}, "unexpected keyword argument 'colour'"),
    ({"nanoae_config": '{"latent_dim": -4}'}, "nanoae_config does not describe a 'vae' model: VAEConfig"),
    ({"nanoae_config": '{"latent_dim": 5, "hidden": [32]}'},
     "the weights do not fit the 'vae' model its metadata describes: VAE.load_state_dict: wrong shape"),
    ({"weights": {"encoder.0.weight": np.zeros((32, 784), dtype="int32")}},
     "weight 'encoder.0.weight' is int32, not floats"),
], ids=["no-format", "unknown-model", "config-not-json", "config-a-list", "config-unknown-field",
        "config-invalid-value", "config-of-another-shape", "integer-weights"])
def test_a_file_that_is_no_nanoae_export_is_refused_naming_it(checkpoint, tmp_path, edit, message):
    path = tmp_path / "edited.safetensors"
    edited_export(checkpoint, path, **edit)
    with pytest.raises(ValueError) as error:
        model_from_safetensors(path)
    assert str(path) in str(error.value) and message in str(error.value)


# --- PyTorch reads what nanoae writes ---------------------------------------------------------

def test_torch_sequential_loads_the_weights_of_a_nanoae_sequential(tmp_path):
    torch = pytest.importorskip("torch")
    reference = pytest.importorskip("safetensors.torch")
    model = nanoae.nn.Sequential(nanoae.nn.Linear(4, 3), nanoae.nn.ReLU(), nanoae.nn.Linear(3, 2))
    save_safetensors(model.state_dict(), tmp_path / "mlp.safetensors")

    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    state = reference.load_file(tmp_path / "mlp.safetensors")
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    torch_model.load_state_dict(state)                # strict: every name and shape must match
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(nanoae.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
