"""A fault sweep of `nanoae train` and friends, run by hand as a user would (not part of the suite):

    python tests/fault_sweep.py [--kills 24] [--seed 0]

It kills runs at random moments (SIGKILL and SIGINT), fills the disk (a small
tmpfs, when run as root on Linux), starts two runs on one folder, and feeds
the command line truncated, bit-flipped and edited checkpoints and hostile
.npz files. Every trial is classified:

- clear error: a non-zero exit with one line on stderr and no traceback;
- ok: the run did what it should (a finished run, a resume that continued);
- traceback: a Python traceback reached the user;
- silent wrong: exit 0 where the input was bad, or a result that is wrong;
- run lost: a killed or failed run whose folder holds no loadable checkpoint
  although an epoch had finished, or a temporary file left behind after the next run.

The last three must be zero. It prints one table row per kind of fault.
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np

import nanoae
from nanoae.checkpoint import load_checkpoint

NANOAE = [sys.executable, "-m", "nanoae"]
SMALL = ["--limit", "2000", "--hidden", "64", "--latent", "8", "--quiet"]
BAD = ("traceback", "silent wrong", "run lost")


def run(args, timeout=300):
    result = subprocess.run(NANOAE + args, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def verdict_of_error(code, err):
    """A bad input must give a non-zero exit and one line naming the cause."""
    if "Traceback" in err:
        return "traceback"
    if code == 0:
        return "silent wrong"
    return "clear error" if err.count("\n") == 1 else "traceback"


def folder_is_whole(folder):
    """A run folder after a crash: a checkpoint that loads and agrees with the history, no temporaries."""
    path = os.path.join(folder, "checkpoint.npz")
    if not os.path.exists(path):
        return True                      # no epoch had finished: nothing to lose
    try:
        state = load_checkpoint(path)
        history = json.load(open(os.path.join(folder, "history.json")))
    except Exception:                     # noqa: BLE001 -- any failure to read back is a lost run
        return False
    return len(history) in (state["epoch"], state["epoch"] - 1)   # killed between the two writes: one behind


def temporaries(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp")] if os.path.isdir(folder) else []


# --- the faults ---------------------------------------------------------------------------------

def kills(tally, work, count, sig, rng):
    """Start a 200-epoch run, kill it at a random moment, check the folder, then resume it one epoch."""
    name = "SIGKILL at a random moment" if sig == signal.SIGKILL else "SIGINT (Ctrl-C) at a random moment"
    for i in range(count):
        folder = os.path.join(work, f"{sig.name}-{i}")
        proc = subprocess.Popen(NANOAE + ["train", "ae", *SMALL, "--epochs", "200", "--out", folder],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        # SIGKILL from Python's start-up on; SIGINT once Python has imported NumPy (about 0.2 s): before that
        # a Ctrl-C interrupts the interpreter's own start-up, which prints Python's traceback, not nanoae's.
        time.sleep(rng.uniform(0.05 if sig == signal.SIGKILL else 0.3, 8.0))
        proc.send_signal(sig)
        _, err = proc.communicate()
        if "Traceback" in err:
            tally[name]["traceback"] += 1
            continue
        if sig == signal.SIGINT and proc.returncode not in (0, 130):      # 0: it had finished already
            tally[name]["traceback" if err.count("\n") != 1 else "silent wrong"] += 1
            continue
        if not folder_is_whole(folder):
            tally[name]["run lost"] += 1
            continue
        checkpoint = os.path.join(folder, "checkpoint.npz")
        if os.path.exists(checkpoint):          # resume one more epoch: it must continue and clear temporaries
            epoch = load_checkpoint(checkpoint)["epoch"]
            code, _, err = run(["train", "ae", "--resume", checkpoint, "--epochs", str(epoch + 1), "--quiet"])
            if code != 0 or load_checkpoint(checkpoint)["epoch"] != epoch + 1 or temporaries(folder):
                tally[name]["run lost" if code == 0 else verdict_of_error(code, err)] += 1
                continue
        tally[name]["ok"] += 1


def full_disk(tally, work):
    """A run on a 2 MB disk: the checkpoint of epoch 1 fits, the next does not (it needs room beside it)."""
    name = "disk full (2 MB tmpfs)"
    disk = os.path.join(work, "disk")
    os.makedirs(disk)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk], capture_output=True).returncode:
        print("skipped the full-disk trial: cannot mount a tmpfs here (needs root on Linux)")
        return
    try:
        for hidden in ("64", "96", "128", "200"):                  # the disk fills at different moments
            folder = os.path.join(disk, f"h{hidden}")
            code, _, err = run(["train", "ae", "--limit", "500", "--hidden", hidden, "--quiet",
                                "--epochs", "3", "--out", folder])
            verdict = verdict_of_error(code, err) if code else "ok"
            if verdict == "clear error" and "No space left" not in err:
                verdict = "silent wrong"                            # the message must name the cause
            if not folder_is_whole(folder) or temporaries(folder):
                verdict = "run lost"
            tally[name][verdict] += 1
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        subprocess.run(["umount", disk])


def two_runs(tally, work, trials=6):
    """Two runs started together on one folder: one trains, the other is refused at once."""
    name = "two runs on one --out"
    for i in range(trials):
        folder = os.path.join(work, f"two-{i}")
        procs = [subprocess.Popen(NANOAE + ["train", "ae", *SMALL, "--epochs", "2", "--out", folder],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _ in results)
        refused = [err for code, err in results if code == 1]
        if any("Traceback" in err for _, err in results):
            tally[name]["traceback"] += 1
        elif codes != [0, 1] or not ("in use" in refused[0] or "holds an earlier run" in refused[0]):
            tally[name]["silent wrong"] += 1
        elif not folder_is_whole(folder) or temporaries(folder):
            tally[name]["run lost"] += 1
        else:
            tally[name]["clear error"] += 1


def damaged_checkpoints(tally, work, rng, good):
    """Truncated and bit-flipped copies of a good checkpoint, read by sample and by train --resume."""
    data = open(good, "rb").read()
    cases = [("truncated checkpoint", data[:rng.randrange(0, len(data))]) for _ in range(12)]
    for _ in range(12):
        flipped = bytearray(data)
        for _ in range(rng.randrange(1, 8)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        cases.append(("bit-flipped checkpoint", bytes(flipped)))
    for i, (name, content) in enumerate(cases):
        path = os.path.join(work, f"damaged-{i}", "checkpoint.npz")
        os.makedirs(os.path.dirname(path))
        open(path, "wb").write(content)
        for args in (["sample", path, "--n", "4"], ["train", "ae", "--resume", path, "--epochs", "9", "--quiet"]):
            code, _, err = run(args)
            if code == 0:     # a flip in padding or in an unused byte may leave a valid file: check it is
                try:
                    load_checkpoint(path)
                    tally[name]["ok"] += 1
                except Exception:                                  # noqa: BLE001
                    tally[name]["silent wrong"] += 1
            else:
                tally[name][verdict_of_error(code, err)] += 1


def edited_checkpoints(tally, work, good):
    """Checkpoints whose fields a user (or another version) changed."""
    def edit(change):
        state = nanoae.load(good)
        change(state)
        return state

    def json_edit(key, value):
        return lambda s: s.__setitem__(key, json.dumps(value))

    config = json.loads(nanoae.load(good)["model_config"])
    edits = {
        "unknown config field": json_edit("model_config", {**config, "colour": "blue"}),
        "config field of the wrong type": json_edit("model_config", {**config, "latent_dim": "eight"}),
        "meta as a list": json_edit("meta", [1, 2]),
        "history as a dict": json_edit("history", {"epoch": 1}),
        "rng as a string": json_edit("rng", "seed"),
        "epoch beyond the history": lambda s: s.__setitem__("epoch", 7),
        "optimizer buffer missing": lambda s: s["optimizer"].pop("m.0"),
        "optimizer scalar turned into an array": lambda s: s["optimizer"].__setitem__("lr", np.ones(3)),
        "weight of the wrong shape": lambda s: s["model"].__setitem__("encoder.0.weight", np.ones((2, 2))),
        "unknown model": lambda s: s.__setitem__("model_name", "gan"),
        "non-JSON text": lambda s: s.__setitem__("train_config", "{not json"),
        "NaN in the weights": lambda s: s["model"]["encoder.0.bias"].__setitem__(0, np.nan),
    }
    for i, (label, change) in enumerate(edits.items()):
        path = os.path.join(work, f"edited-{i}", "checkpoint.npz")
        os.makedirs(os.path.dirname(path))
        nanoae.save(edit(change), path)
        code, _, err = run(["train", "ae", "--resume", path, "--epochs", "9", "--quiet"])
        tally["edited checkpoint (12 kinds)"][verdict_of_error(code, err)] += 1


def hostile_files(tally, work):
    """.npz files built to hurt: lying headers, duplicate members, clashing keys, pickles, not a zip."""
    def zip_with(members, name):
        path = os.path.join(work, name, "checkpoint.npz")
        os.makedirs(os.path.dirname(path))
        with zipfile.ZipFile(path, "w") as z:
            for member, payload in members:
                with z.open(member, "w", force_zip64=True) as f:
                    f.write(payload)
        return path

    def npy(array, header_shape=None):
        import io
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array, allow_pickle=True)
        raw = buffer.getvalue()
        if header_shape is not None:
            raw = raw.replace(repr(array.shape).encode(), repr(header_shape).encode())
        return raw

    paths = [
        zip_with([("a.npy", npy(np.zeros(3), header_shape=(10 ** 12,)))], "lying-header"),
        zip_with([("a.npy", npy(np.zeros(3))), ("a.npy", npy(np.ones(3)))], "duplicate"),
        zip_with([("a.npy", npy(np.zeros(3))), ("a/b.npy", npy(np.ones(3)))], "clash"),
        zip_with([("a.npy", npy(np.array([{"x": 1}], dtype=object)))], "pickle"),
        zip_with([("a.txt", b"hello")], "not-npy"),
    ]
    for name, content in (("empty", b""), ("text", b"hello, world\n")):
        path = os.path.join(work, name, "checkpoint.npz")
        os.makedirs(os.path.dirname(path))
        open(path, "wb").write(content)
        paths.append(path)
    for path in paths:
        code, _, err = run(["sample", path])
        tally["hostile .npz (7 kinds)"][verdict_of_error(code, err)] += 1


def bad_options(tally, work):
    """Options a user might mistype, and sizes no machine holds."""
    cases = [["train", "ae", "--lr", "inf"], ["train", "ae", "--lr", "nan"], ["train", "ae", "--lr", "-1"],
             ["train", "ae", "--seed", "-1"], ["train", "ae", "--beta", "2"], ["train", "ae", "--noise", "0.2"],
             ["train", "ae", "--latent", "1000000000"], ["train", "ae", "--hidden", "100000000"],
             ["train", "conv-ae", "--channels", "100000,100000"], ["gradcheck", "--only", "zzzz"],
             ["train", "ae", "--lr", "1e300", *SMALL, "--epochs", "2", "--out", os.path.join(work, "lr")],
             ["train", "ae", "--dataset", "fashion-mnist", "--lr", "1e9", "--limit", "100", "--epochs", "1",
              "--quiet", "--out", os.path.join(work, "lr9")], ["sample", "x.npz", "--n", "100000000000"]]
    for args in cases:
        code, _, err = run(args)
        tally["bad options and sizes (13)"][verdict_of_error(code, err)] += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=24, help="SIGKILL trials (SIGINT: a quarter as many)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = collections.defaultdict(collections.Counter)
    work = tempfile.mkdtemp(prefix="nanoae-faults-")
    start = time.time()
    try:
        good = os.path.join(work, "good")
        assert run(["train", "ae", *SMALL, "--epochs", "1", "--out", good])[0] == 0
        good = os.path.join(good, "checkpoint.npz")
        kills(tally, work, args.kills, signal.SIGKILL, rng)
        kills(tally, work, max(1, args.kills // 4), signal.SIGINT, rng)
        full_disk(tally, work)
        two_runs(tally, work)
        damaged_checkpoints(tally, work, rng, good)
        edited_checkpoints(tally, work, good)
        hostile_files(tally, work)
        bad_options(tally, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    columns = ("tried", "ok", "clear error", *BAD)
    print(f"\n{'fault':<40}" + "".join(f"{c:>14}" for c in columns))
    for name, counts in tally.items():
        print(f"{name:<40}{sum(counts.values()):>14}" + "".join(f"{counts[c]:>14}" for c in columns[1:]))
    totals = collections.Counter()
    for counts in tally.values():
        totals.update(counts)
    print(f"{'all':<40}{sum(totals.values()):>14}" + "".join(f"{totals[c]:>14}" for c in columns[1:]))
    print(f"({time.time() - start:.0f} s)")
    return 1 if any(totals[c] for c in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
