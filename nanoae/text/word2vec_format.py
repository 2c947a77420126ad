"""Word vectors in word2vec's text format, which gensim, fastText, spaCy and most tools read.

The format is a first line with the number of words and the dimension, then
one line per word: the word and its numbers, separated by single spaces::

    3 4
    king 0.1214 -0.5201 0.0032 0.8842
    queen 0.1181 -0.4995 0.0807 0.8011
    ...

Words hold no spaces (the tokenizer makes sure). ``gensim.models.KeyedVectors
.load_word2vec_format(path)`` reads what :func:`write_word2vec` writes.
"""
import os

from nanoae import backend

xp = backend.array_module_for("cpu")  # vectors are written and read through the CPU


def write_word2vec(path, words, vectors):
    """Write ``vectors`` (V, D) for ``words`` (V) to ``path``; the file appears whole or not at all."""
    vectors = xp.asarray(vectors, dtype=xp.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"write_word2vec: {len(words)} words but vectors of shape {vectors.shape}")
    for word in words:
        if not word or any(c.isspace() for c in word):
            raise ValueError(f"write_word2vec: a word must be non-empty without spaces, got {word!r}")
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n")
        for word, row in zip(words, vectors):
            f.write(word + " " + " ".join(f"{x:.6g}" for x in row) + "\n")
    os.replace(partial, path)


def read_word2vec(path):
    """(words, vectors (V, D) float32) from a word2vec text file."""
    with open(path, encoding="utf-8") as f:
        count, dim = (int(n) for n in f.readline().split())
        words, rows = [], []
        for line in f:
            parts = line.rstrip("\n").split(" ")
            if len(parts) != dim + 1:
                raise ValueError(f"{path}: line {len(words) + 2} has {len(parts) - 1} numbers, expected {dim}")
            words.append(parts[0])
            rows.append([float(x) for x in parts[1:]])
    if len(words) != count:
        raise ValueError(f"{path}: the header promises {count} words, the file holds {len(words)}")
    return words, xp.asarray(rows, dtype=xp.float32).reshape(count, dim)
