"""The `nanoae` command line."""
import json
import subprocess
import sys

import pytest

from nanoae import backend, cli
from nanoae.cli import gradcheck as gradcheck_command
from nanoae.data import load_dataset
from nanoae.autograd import Function
from nanoae.checkpoint import load_checkpoint, model_from_checkpoint
from nanoae.gradcheck_cases import CASES, Case


class SquareWithWrongBackward(Function):
    """y = x^2, with a planted wrong derivative 3x instead of 2x."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0] * 3


def test_gradcheck_command_prints_a_row_per_op_and_passes(capsys):
    assert cli.main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    for case in CASES:
        assert case.name in out
    assert out.count(" ok (") == len(CASES)
    assert f"all {len(CASES)} passed" in out


def test_gradcheck_command_reports_a_broken_op(capsys, monkeypatch):
    broken = Case("planted: x * x with a wrong derivative", lambda x: SquareWithWrongBackward()(x),
                  [((3,), "real")])
    monkeypatch.setattr(gradcheck_command, "CASES", [broken])
    assert cli.main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "1 of 1 failed" in out


def test_gradcheck_command_filters_with_only(capsys):
    assert cli.main(["gradcheck", "--only", "tanh"]) == 0
    out = capsys.readouterr().out
    assert "tanh" in out and "sigmoid" not in out


def test_bad_arguments_give_a_usage_error_not_a_traceback():
    result = subprocess.run([sys.executable, "-m", "nanoae", "gradcheck", "--backend", "tpu"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(backend.cupy_available(), reason="CuPy is available here")
def test_gradcheck_on_cupy_without_a_gpu_says_what_is_missing(capsys):
    assert cli.main(["gradcheck", "--backend", "cupy"]) == 1
    assert "CuPy" in capsys.readouterr().err


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "nanoae", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "gradcheck" in result.stdout


# --- nanoae train / sample / reconstruct ---------------------------------------------
# On the embedded dataset, cut to a few hundred images so that each run takes seconds.

QUICK = ["--epochs", "1", "--limit", "300", "--quiet", "--hidden", "64", "--latent", "8"]


@pytest.mark.parametrize("model", ["ae", "dae", "sparse", "cae", "vae"])
def test_every_model_trains_from_the_command_line(model, tmp_path, capsys):
    assert cli.main(["train", model, *QUICK, "--out", str(tmp_path)]) == 0
    written = {p.name for p in tmp_path.iterdir()}
    assert {"checkpoint.npz", "history.csv", "history.json", "reconstructions.png", "latent.png",
            "loss.png"} <= written
    assert ("samples.png" in written) == (model == "vae")
    assert "done: epoch 1" in capsys.readouterr().out


def test_the_convolutional_autoencoder_trains_from_the_command_line_with_its_channels(tmp_path, capsys):
    args = ["train", "conv-ae", "--epochs", "1", "--limit", "200", "--quiet", "--channels", "4,8", "--latent", "6",
            "--out", str(tmp_path)]
    assert cli.main(args) == 0
    config = load_checkpoint(tmp_path / "checkpoint.npz")["model_config"]
    assert (list(config["channels"]), config["latent_dim"]) == ([4, 8], 6)
    assert {"reconstructions.png", "latent.png", "loss.png"} <= {p.name for p in tmp_path.iterdir()}
    assert "done: epoch 1" in capsys.readouterr().out


def test_the_vq_vae_trains_from_the_command_line_with_its_options_and_draws_its_code_usage(tmp_path, capsys):
    args = ["train", "vq-vae", "--epochs", "1", "--limit", "100", "--quiet", "--channels", "4,8", "--embedding-dim", "3",
            "--codebook-size", "16", "--codebook-update", "ema", "--restart-after", "2", "--beta", "0.5",
            "--out", str(tmp_path)]
    assert cli.main(args) == 0
    config = load_checkpoint(tmp_path / "checkpoint.npz")["model_config"]
    assert (list(config["channels"]), config["embedding_dim"], config["codebook_size"], config["codebook_update"],
            config["restart_after"], config["beta"]) == ([4, 8], 3, 16, "ema", 2, 0.5)
    assert {"reconstructions.png", "latent.png", "loss.png", "code_usage.png"} <= {p.name for p in tmp_path.iterdir()}
    assert "samples.png" not in {p.name for p in tmp_path.iterdir()}    # its prior is trained apart (chapter 15)
    assert "done: epoch 1" in capsys.readouterr().out


@pytest.mark.parametrize("model, option", [("conv-ae", ["--hidden", "64"]), ("vae", ["--channels", "4"]),
                                           ("vae", ["--prior", "mixture"])])
def test_a_model_specific_option_given_to_another_model_is_named(model, option, tmp_path, capsys):
    assert cli.main(["train", model, "--epochs", "1", "--limit", "50", "--quiet", *option,
                     "--out", str(tmp_path)]) == 1
    assert f"{option[0]} does not apply to the {model!r} model" in capsys.readouterr().err


@pytest.mark.parametrize("prior, words", [("gaussian", "N(0, I)"), ("mixture", "a ring of 10 Gaussians")])
def test_the_adversarial_autoencoder_trains_samples_and_names_its_prior(prior, words, tmp_path):
    args = ["train", "aae", "--epochs", "1", "--limit", "200", "--quiet", "--prior", prior, "--hidden", "32",
            "--out", str(tmp_path)]
    assert cli.main(args) == 0
    state = load_checkpoint(tmp_path / "checkpoint.npz")
    assert state["model_name"] == "aae" and state["model_config"]["prior"] == prior
    assert {"samples.png", "manifold.png", "latent.png"} <= {p.name for p in tmp_path.iterdir()}
    assert cli.main(["sample", str(tmp_path / "checkpoint.npz"), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000
    assert model_from_checkpoint(tmp_path / "checkpoint.npz")[0].prior_description.startswith(words)


def test_one_class_training_then_anomaly_scores_rank_other_classes_above_the_normal_one(tmp_path, capsys):
    args = ["train", "vae", "--epochs", "2", "--limit", "1000", "--quiet", "--normal", "1", "--hidden", "64",
            "--out", str(tmp_path)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "classes [1] (" in out
    assert load_checkpoint(tmp_path / "checkpoint.npz")["meta"]["normal"] == [1]
    assert cli.main(["anomaly", str(tmp_path / "checkpoint.npz")]) == 0
    out = capsys.readouterr().out
    normal = int((load_dataset("fontdigits", "test", limit=1000).labels == 1).sum())
    assert f"{normal} normal (classes [1]), {1000 - normal} anomalies" in out
    aucs = {line.split("  ", 2)[2]: float(line.split()[1]) for line in out.splitlines() if line.startswith("  AUC")}
    assert set(aucs) == {"vae (-ELBO)", "PCA, 20 components (baseline)"}
    # A score that ranked at random would give 0.5, one that ranked backwards less. Two epochs on 100
    # images of ones make a weak VAE; PCA, fitted exactly, does much better.
    assert aucs["vae (-ELBO)"] > 0.65 and aucs["PCA, 20 components (baseline)"] > 0.95, aucs
    assert (tmp_path / "roc.png").stat().st_size > 1000


def test_anomaly_needs_to_know_the_normal_classes(tmp_path, capsys):
    assert cli.main(["train", "ae", *QUICK, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert cli.main(["anomaly", str(tmp_path / "checkpoint.npz")]) == 1
    assert "say which classes are normal with --normal" in capsys.readouterr().err
    assert cli.main(["anomaly", str(tmp_path / "checkpoint.npz"), "--normal", "2,7",
                     "--out", str(tmp_path / "r.png")]) == 0
    assert "(classes [2, 7])" in capsys.readouterr().out


def test_training_on_a_class_the_dataset_lacks_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["train", "ae", *QUICK, "--normal", "12", "--out", str(tmp_path)]) == 1
    assert "has no image of class [12]" in capsys.readouterr().err


def test_a_2d_vae_also_draws_the_latent_manifold(tmp_path):
    args = ["train", "vae", "--epochs", "1", "--limit", "200", "--quiet", "--latent", "2", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    assert (tmp_path / "manifold.png").stat().st_size > 1000


def test_resume_from_the_command_line_continues_the_history(tmp_path):
    assert cli.main(["train", "vae", *QUICK, "--out", str(tmp_path)]) == 0
    checkpoint = str(tmp_path / "checkpoint.npz")
    assert cli.main(["train", "vae", "--resume", checkpoint, "--epochs", "2", "--quiet"]) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2]


def test_command_line_options_reach_the_model(tmp_path):
    args = ["train", "dae", *QUICK, "--noise", "0.5", "--noise-type", "masking", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    config = load_checkpoint(tmp_path / "checkpoint.npz")["model_config"]
    assert (config["noise"], config["noise_level"], config["latent_dim"], list(config["hidden"])) == (
        "masking", 0.5, 8, [64])


def test_sample_and_reconstruct_write_figures(tmp_path):
    assert cli.main(["train", "vae", *QUICK, "--out", str(tmp_path)]) == 0
    checkpoint = str(tmp_path / "checkpoint.npz")
    assert cli.main(["sample", checkpoint, "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert cli.main(["reconstruct", checkpoint, "--n", "8", "--out", str(tmp_path / "r.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000 and (tmp_path / "r.png").stat().st_size > 1000


def test_sampling_a_model_without_a_prior_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["train", "ae", *QUICK, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert cli.main(["sample", str(tmp_path / "checkpoint.npz")]) == 1
    err = capsys.readouterr().err
    assert "no prior to sample from" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["train", "vae", "--epochs", "0"], "must be a finite number above 0"),
    (["train", "vae", "--lr", "inf"], "must be a finite number above 0"),
    (["train", "vae", "--lr", "nan"], "must be a finite number above 0"),
    (["train", "vae", "--seed", "-1"], "argument --seed: '-1' must be 0 or more"),
    (["sample", "x.npz", "--n", "100000000000"], "is more than 10000"),
    (["train", "gan"], "invalid choice"),
    (["train", "ae", "--hidden", "4x"], "comma-separated"),
    (["train", "vae", "--noise", "1.5"], "must be below 1"),
    (["train", "ae", "--dataset", "cifar"], "invalid choice"),
    (["train", "ae", "--normal", "one"], "comma-separated list of class labels"),
])
def test_bad_train_arguments_give_one_line_and_no_traceback(args, message):
    result = subprocess.run([sys.executable, "-m", "nanoae", *args], capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_an_option_that_does_not_fit_the_model_is_named(tmp_path, capsys):
    assert cli.main(["train", "vae", *QUICK, "--noise", "0.2", "--out", str(tmp_path)]) == 1
    assert "--noise does not apply to the 'vae' model" in capsys.readouterr().err


def test_a_missing_checkpoint_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["reconstruct", str(tmp_path / "nope.npz")]) == 1
    err = capsys.readouterr().err
    assert "nope.npz" in err and "Traceback" not in err


def test_train_help_shows_the_defaults():
    result = subprocess.run([sys.executable, "-m", "nanoae", "train", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "--batch-size" in result.stdout and "(default: 128)" in result.stdout
    assert "fontdigits" in result.stdout


@pytest.mark.skipif(backend.cupy_available(), reason="CuPy is available here")
def test_training_on_a_gpu_without_cupy_says_what_is_missing(tmp_path, capsys):
    assert cli.main(["train", "ae", *QUICK, "--device", "gpu", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "CuPy" in err and err.count("\n") == 1


def test_resume_refuses_options_that_would_change_the_model(tmp_path, capsys):
    assert cli.main(["train", "vae", *QUICK, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert cli.main(["train", "vae", "--resume", str(tmp_path / "checkpoint.npz"), "--latent", "4"]) == 1
    assert "--latent cannot change a run that is resumed" in capsys.readouterr().err
