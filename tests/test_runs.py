"""Training runs that never lie and never lose work: run folders (naming, locks, temporary files),
--resume's rule for every option, and the command line's answers to runs that go wrong."""
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nanoae
from nanoae import cli, runs
from nanoae.checkpoint import load_checkpoint
from nanoae.cli import train as train_command

QUICK = ["--epochs", "1", "--limit", "300", "--quiet", "--hidden", "32", "--latent", "4"]


def train(*args):
    return cli.main(["train", *args])


def last_line(capsys):
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- run folders -----------------------------------------------------------------------------

def test_a_second_fresh_run_goes_to_a_new_numbered_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert train("ae", *QUICK) == 0
    first = (tmp_path / "runs" / "ae" / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert train("ae", *QUICK, "--seed", "1") == 0
    out, _ = last_line(capsys)
    assert "writing to runs/ae-2 (runs/ae holds an earlier run)" in out
    assert (tmp_path / "runs" / "ae" / "checkpoint.npz").read_bytes() == first        # untouched
    assert (tmp_path / "runs" / "ae-2" / "checkpoint.npz").exists()


def test_an_out_folder_holding_a_run_is_refused_unless_overwrite(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert train("aae", *QUICK, "--out", out) == 0                 # draws samples.png and manifold.png
    before = (tmp_path / "run" / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert train("ae", *QUICK, "--out", out) == 1
    _, err = last_line(capsys)
    assert f"{out} holds an earlier run" in err and "--resume" in err and "--overwrite" in err
    assert err.count("\n") == 1
    assert (tmp_path / "run" / "checkpoint.npz").read_bytes() == before
    assert train("ae", *QUICK, "--out", out, "--overwrite") == 0
    assert load_checkpoint(tmp_path / "run" / "checkpoint.npz")["model_name"] == "ae"
    assert not (tmp_path / "run" / "samples.png").exists()         # the old model's figures went with it


def test_a_folder_in_use_by_a_live_run_is_refused(tmp_path, capsys):
    with runs.claim(str(tmp_path / "run")):
        assert train("ae", *QUICK, "--out", str(tmp_path / "run")) == 1
    _, err = last_line(capsys)
    assert "is in use" in err and f"process {os.getpid()}" in err


def _hold_lock_forever(folder, ready):
    with runs.claim(folder):
        ready.set()
        time.sleep(600)


def test_a_killed_run_leaves_no_stuck_lock(tmp_path):
    folder = str(tmp_path / "run")
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_lock_forever, args=(folder, ready))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(runs.RunFolderError, match="is in use"):
        with runs.claim(folder):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    with runs.claim(folder) as out:                                # the kernel dropped the dead lock
        assert out == folder


def test_numbered_claims_skip_folders_in_use(tmp_path):
    base = str(tmp_path / "vae")
    with runs.claim(base, numbered=True) as first, runs.claim(base, numbered=True) as second:
        assert (first, second) == (base, base + "-2")


def test_stale_temporary_files_are_removed_when_a_run_claims_the_folder(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoint.npz.0a1b2c3d.tmp").write_bytes(b"\0" * 100)      # a write killed half-way
    (folder / "notes.tmp").write_text("not ours")
    with runs.claim(str(folder)):
        pass
    assert sorted(p.name for p in folder.iterdir()) == [".nanoae.lock", "notes.tmp"]


# --- --resume: one rule for every option --------------------------------------------------------

def test_every_train_option_has_a_resume_rule():
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    flags = {a.option_strings[-1] for a in train_parser._actions if a.option_strings} - {"--help", "--resume"}
    honoured, refused = set(train_command.HONOURED_ON_RESUME), set(train_command.REFUSED_ON_RESUME)
    assert not honoured & refused
    assert flags == honoured | refused


@pytest.fixture
def first_run(tmp_path, capsys):
    assert train("vae", *QUICK, "--out", str(tmp_path / "run")) == 0
    capsys.readouterr()
    return tmp_path / "run" / "checkpoint.npz"


@pytest.mark.parametrize("option", [["--dataset", "fashion-mnist"], ["--seed", "3"], ["--limit", "10"],
                                    ["--normal", "1"], ["--beta", "2"], ["--overwrite"]])
def test_resume_refuses_an_option_that_would_make_another_run(first_run, option, capsys):
    assert train("vae", "--resume", str(first_run), "--epochs", "2", *option) == 1
    _, err = last_line(capsys)
    assert f"{option[0]} cannot change a run that is resumed" in err and err.count("\n") == 1
    assert load_checkpoint(first_run)["epoch"] == 1


def test_resume_honours_lr_and_batch_size_and_says_so(first_run, capsys):
    assert train("vae", "--resume", str(first_run), "--epochs", "2", "--lr", "1e-4", "--batch-size", "50",
                 "--quiet") == 0
    out, _ = last_line(capsys)
    assert "resuming with lr 0.001 -> 0.0001, batch_size 128 -> 50" in out
    state = load_checkpoint(first_run)
    assert state["epoch"] == 2 and state["train_config"]["lr"] == 1e-4 and state["optimizer"]["lr"] == 1e-4
    assert state["train_config"]["batch_size"] == 50


def test_a_checkpoint_trained_on_the_gpu_resumes_on_the_cpu(first_run, capsys):
    state = nanoae.load(first_run)
    config = json.loads(state["train_config"])
    state["train_config"] = json.dumps({**config, "device": "gpu"})
    nanoae.save(state, first_run)
    assert train("vae", "--resume", str(first_run), "--epochs", "2", "--device", "cpu", "--quiet") == 0
    assert "device gpu -> cpu" in last_line(capsys)[0]
    assert load_checkpoint(first_run)["epoch"] == 2


def test_a_resume_with_nothing_to_do_writes_nothing(first_run, tmp_path, capsys):
    empty = tmp_path / "elsewhere"
    assert train("vae", "--resume", str(first_run), "--epochs", "1", "--out", str(empty)) == 0
    out, _ = last_line(capsys)
    assert "nothing to do" in out and "at epoch 1 already" in out and "wrote" not in out
    assert not empty.exists()


# --- runs that go wrong: one line, a non-zero exit, nothing lost ----------------------------

def test_a_learning_rate_that_breaks_the_weights_fails_the_run_and_saves_nothing(tmp_path, capsys):
    assert train("ae", *QUICK, "--lr", "1e300", "--out", str(tmp_path / "run")) == 1
    _, err = last_line(capsys)
    assert "non-finite" in err and "epoch 1" in err and err.count("\n") == 1
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


@pytest.mark.parametrize("args", [["--latent", "1"], ["--limit", "1"], ["--normal", "0", "--limit", "40"]])
def test_small_runs_draw_their_figures(args, tmp_path, capsys):
    """--latent 1, one test image, one class: each gave an IndexError in the latent figure."""
    assert train("vae", "--epochs", "1", "--quiet", "--hidden", "16", *args, "--out", str(tmp_path)) == 0
    out, _ = last_line(capsys)
    assert "skipped" not in out and (tmp_path / "latent.png").exists()


def test_models_too_large_for_memory_are_refused_with_their_size(tmp_path, capsys):
    assert train("ae", "--hidden", "100000000", "--out", str(tmp_path)) == 1
    _, err = last_line(capsys)
    assert "Linear(784, 100000000): a weight of shape (100000000, 784) (float32) would take 292.1 GiB" in err
    assert err.count("\n") == 1


def test_sample_into_a_folder_or_a_name_without_extension_says_what_it_wrote(first_run, tmp_path, capsys):
    folder = tmp_path / "figures"
    folder.mkdir()
    assert cli.main(["sample", str(first_run), "--n", "4", "--out", str(folder)]) == 0
    assert last_line(capsys)[0] == f"wrote {folder / 'samples.png'}\n" and (folder / "samples.png").exists()
    assert cli.main(["sample", str(first_run), "--n", "4", "--out", str(tmp_path / "grid")]) == 0
    assert last_line(capsys)[0] == f"wrote {tmp_path / 'grid.png'}\n" and (tmp_path / "grid.png").exists()


def test_gradcheck_that_matches_no_op_fails(capsys):
    assert cli.main(["gradcheck", "--only", "zzzz"]) == 1
    _, err = last_line(capsys)
    assert "no op's name contains 'zzzz', so nothing was checked" in err


def test_beta_for_the_plain_autoencoder_is_refused_like_noise(tmp_path, capsys):
    for option in (["--beta", "2"], ["--noise", "0.2"]):
        assert train("ae", *QUICK, *option, "--out", str(tmp_path)) == 1
        assert f"{option[0]} does not apply to the 'ae' model" in last_line(capsys)[1]


def interruptible():
    """In the child: SIGINT raises KeyboardInterrupt, even where this test runs in a shell's background job,
    which starts with SIGINT ignored (Python then never installs its handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_run_keeps_its_last_checkpoint(tmp_path):
    """SIGINT during epoch 2: exit 130, one line, and the checkpoint of epoch 1 loads."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "nanoae", "train", "ae", "--epochs", "50", "--limit", "3000",
                             "--hidden", "64", "--quiet", "--out", str(out)], stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    deadline = time.time() + 120
    while not (out / "checkpoint.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().endswith("interrupted") and "Traceback" not in err
    assert load_checkpoint(out / "checkpoint.npz")["epoch"] >= 1
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert np.isfinite(json.loads((out / "history.json").read_text())[0]["train_total"])


@pytest.mark.parametrize("part, value, words", [
    ("meta", {"dataset": "cifar", "limit": 300, "normal": None}, "meta: dataset must be one of"),
    ("meta", {"dataset": "fontdigits", "limit": -3, "normal": None}, "meta: limit must be a positive integer"),
    ("train_config", {"epochs": 1, "batch_size": 0, "lr": 1e-3, "optimizer": "adam", "seed": 0, "device": "cpu",
                      "eval_batch_size": 1000}, "train_config: TrainConfig: batch_size must be a positive integer"),
])
def test_resume_checks_what_the_command_line_reads_from_the_checkpoint(first_run, part, value, words, capsys):
    state = nanoae.load(first_run)
    state[part] = json.dumps(value)
    nanoae.save(state, first_run)
    assert train("vae", "--resume", str(first_run), "--epochs", "2") == 1
    _, err = last_line(capsys)
    assert f"{first_run}: {words}" in err and err.count("\n") == 1
