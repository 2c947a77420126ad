"""nanoae train skipgram: the synthetic corpus end to end, and options kept to their own kind of model."""
import json

import pytest

from nanoae.cli import main
from nanoae.text import read_word2vec


def test_train_skipgram_writes_vectors_vocabulary_curve_map_and_scores(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "skipgram", "--epochs", "3", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "king - man + woman: queen" in printed
    words, vectors = read_word2vec(out / "vectors.txt")
    assert vectors.shape == (len(words), 30)
    assert (out / "vocabulary.tsv").read_text().splitlines()[0].split("\t")[0] == words[0]
    assert len(json.loads((out / "history.json").read_text())) == 3
    assert json.loads((out / "evaluation.json").read_text())["analogies"]["all"]["coverage"] == 1.0
    assert (out / "loss.png").exists() and (out / "words.png").exists()
    assert main(["train", "skipgram", "--out", str(out)]) == 1            # a run is not overwritten
    assert "--overwrite" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "skipgram", "--dataset", "mnist"], "--dataset cannot be used with skipgram"),
    (["train", "vae", "--window", "3"], "--window apply only to skipgram"),
])
def test_options_of_one_kind_of_model_are_refused_for_the_other(argv, message, capsys):
    assert main(argv) == 1
    assert message in capsys.readouterr().err
