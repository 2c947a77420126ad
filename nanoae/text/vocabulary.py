"""The vocabulary: which words get a vector, their numbers and their counts.

Words seen fewer than ``min_count`` times are dropped: a word met twice
gives too few contexts to learn anything from, and rare words are most of a
vocabulary (Zipf's law), so dropping them makes the tables far smaller.
The words are numbered most frequent first (ties in alphabetical order), so
number 0 is the most frequent word and the same corpus always gives the same
numbers.
"""
from collections import Counter

from nanoae import backend

xp = backend.array_module_for("cpu")  # text is read, counted and sampled on the CPU


class Vocabulary:
    """``words`` (most frequent first) and their ``counts``; ``vocab[word]`` is a word's number."""

    def __init__(self, words, counts):
        if len(words) != len(counts):
            raise ValueError(f"Vocabulary: {len(words)} words but {len(counts)} counts")
        self.words = list(words)
        self.counts = xp.asarray(counts, dtype=xp.int64)                # (V,)
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("Vocabulary: a word is listed twice")

    @classmethod
    def build(cls, sentences, min_count=5, max_words=None):
        """Count the words of ``sentences`` (lists of words) and keep those seen ``min_count`` times or more
        (and only the ``max_words`` most frequent, if given)."""
        counter = Counter()
        for sentence in sentences:
            counter.update(sentence)
        kept = sorted(((word, n) for word, n in counter.items() if n >= min_count), key=lambda wn: (-wn[1], wn[0]))
        if max_words is not None:
            kept = kept[:max_words]
        if not kept:
            raise ValueError(f"Vocabulary: no word occurs {min_count} times or more "
                             f"({len(counter)} different words seen); lower min_count")
        return cls([word for word, _ in kept], [n for _, n in kept])

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.index[word]

    @property
    def total(self):
        """How many word occurrences the vocabulary's words make up in the corpus."""
        return int(self.counts.sum())

    def encode(self, sentences):
        """The corpus as numbers: ``tokens`` (N,) and, for each, the number of its sentence, ``sentence_of`` (N,).

        Words outside the vocabulary are left out, as word2vec does, so that
        the words on either side of a dropped word become neighbours.
        """
        tokens, sentence_of = [], []
        for s, sentence in enumerate(sentences):
            ids = [self.index[word] for word in sentence if word in self.index]
            tokens.extend(ids)
            sentence_of.extend([s] * len(ids))
        return xp.asarray(tokens, dtype=xp.int32), xp.asarray(sentence_of, dtype=xp.int32)
