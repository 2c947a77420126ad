"""The word-vector test sets that ship inside gensim's package, read where gensim is installed.

- ``questions-words.txt``: Mikolov et al.'s 19,544 analogy questions in 14
  sections (": capital-common-countries", ": family", ...), one per line,
  "a b c d" meaning a : b = c : d;
- ``wordsim353.tsv``: 353 word pairs with a human relatedness score 0-10;
- ``simlex999.txt``: 999 pairs scored for *similarity* (not relatedness:
  coffee and cup are related, not similar), 0-10.

They are read from the installed package (``gensim/test/test_data``), not
copied into nanoae. Words are lowercased, as the tokenizer makes them.
"""
import importlib.util
from pathlib import Path

from nanoae.text.corpora import CorpusNotInstalled

SIMILARITY_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


def gensim_test_data():
    """The folder of gensim's test data; CorpusNotInstalled naming ``pip install gensim`` if it is missing."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or spec.origin is None:
        raise CorpusNotInstalled("the evaluation sets ship inside gensim, which is not installed; install it "
                                 "with: pip install gensim")
    return Path(spec.origin).parent / "test" / "test_data"


def read_analogies(path=None):
    """{section: [(a, b, c, d), ...]} from a questions-words file (by default gensim's)."""
    path = path or gensim_test_data() / "questions-words.txt"
    sections, section = {}, None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.startswith(":"):
                section = line[1:].strip()
                sections[section] = []
            elif line.strip():
                words = tuple(line.lower().split())
                if section is None or len(words) != 4:
                    raise ValueError(f"{path}:{number}: expected a ': section' line first and four words a line")
                sections[section].append(words)
    return sections


def read_similarity(name):
    """[(word1, word2, score), ...] of the set ``name``, one of :data:`SIMILARITY_SETS`."""
    if name not in SIMILARITY_SETS:
        raise ValueError(f"unknown similarity set {name!r}; choose one of {', '.join(SIMILARITY_SETS)}")
    pairs = []
    with open(gensim_test_data() / SIMILARITY_SETS[name], encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            first, second, score = line.split("\t")[:3]
            pairs.append((first.lower(), second.lower(), float(score)))
    return pairs
