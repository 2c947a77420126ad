"""What word vectors know: nearest neighbours, analogies by 3CosAdd, and Spearman correlation with people.

Everything works on unit vectors, so a dot product is the cosine of the
angle between two words: 1 for the same direction, 0 for unrelated.

- **Nearest neighbours** of a word: the words of highest cosine.
- **Analogies** a : b = c : ? by 3CosAdd (Mikolov et al. 2013; Levy & Goldberg
  2014 named it): the answer is the word d, other than a, b and c, with the
  highest cos(d, b - a + c). With the question words allowed, the answer
  would nearly always be b or c themselves. A question is asked only when its
  four words have vectors; the *coverage* says what share that was, so a
  score is never silently computed on the easy part of a test set.
- **Spearman's rho** between the cosines of word pairs and people's scores
  of the same pairs: the correlation of their *ranks*, so only the order
  matters, not the scale.
"""
from nanoae import backend


class WordVectors:
    """``words`` (V) and their ``vectors`` (V, D), with the unit vectors and a word -> row index."""

    def __init__(self, words, vectors):
        xp = backend.get_array_module(vectors)
        if vectors.ndim != 2 or len(words) != vectors.shape[0]:
            raise ValueError(f"WordVectors: {len(words)} words but vectors of shape {vectors.shape}")
        self.words, self.vectors = list(words), vectors
        self.index = {word: i for i, word in enumerate(self.words)}
        norms = xp.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / xp.maximum(norms, 1e-12)                    # (V, D), rows of length 1

    def __contains__(self, word):
        return word in self.index

    def nearest(self, query, k=10, exclude=()):
        """The ``k`` words of highest cosine with ``query`` (a word or a vector), as [(word, cosine)]."""
        xp = backend.get_array_module(self.unit)
        if isinstance(query, str):
            exclude = (query, *exclude)
            query = self.unit[self.index[query]]
        cosines = self.unit @ (query / max(float(xp.linalg.norm(query)), 1e-12))   # (V,)
        for word in exclude:
            if word in self.index:
                cosines[self.index[word]] = -xp.inf
        best = xp.argsort(-cosines)[:k]
        return [(self.words[int(i)], float(cosines[i])) for i in best]

    def analogy(self, a, b, c, k=1):
        """a : b = c : ?, by 3CosAdd over the vocabulary without a, b and c: [(word, cosine)]."""
        u = self.unit
        return self.nearest(u[self.index[b]] - u[self.index[a]] + u[self.index[c]], k, exclude=(a, b, c))

    def answers(self, questions, chunk=512):
        """3CosAdd's answer (a word) to each (a, b, c) of ``questions``, all four words in the vocabulary."""
        xp = backend.get_array_module(self.unit)
        found = []
        for start in range(0, len(questions), chunk):
            rows = xp.asarray([[self.index[w] for w in q[:3]] for q in questions[start:start + chunk]])
            a, b, c = self.unit[rows[:, 0]], self.unit[rows[:, 1]], self.unit[rows[:, 2]]   # (n, D) each
            cosines = (b - a + c) @ self.unit.T                                            # (n, V)
            n = xp.arange(len(rows))[:, None]
            cosines[n, rows] = -xp.inf                                   # the question words are not answers
            found += [self.words[int(i)] for i in xp.argmax(cosines, axis=1)]
        return found


def analogy_accuracy(vectors, sections):
    """3CosAdd's accuracy on ``sections`` ({section: [(a, b, c, d), ...]}).

    Returns {section: {"correct", "asked", "total", "accuracy", "coverage"}},
    with "all" for the whole set; a question is asked when its four words are
    in the vocabulary, and accuracy is correct / asked.
    """
    results, totals = {}, {"correct": 0, "asked": 0, "total": 0}
    for section, questions in sections.items():
        asked = [q for q in questions if all(w in vectors for w in q)]
        correct = sum(found == q[3] for found, q in zip(vectors.answers(asked), asked)) if asked else 0
        counts = {"correct": correct, "asked": len(asked), "total": len(questions)}
        results[section] = _with_rates(counts)
        totals = {key: totals[key] + counts[key] for key in totals}
    results["all"] = _with_rates(totals)
    return results


def _with_rates(counts):
    return {**counts, "accuracy": counts["correct"] / counts["asked"] if counts["asked"] else 0.0,
            "coverage": counts["asked"] / counts["total"] if counts["total"] else 0.0}


def ranks(values):
    """The rank of each value, 1 for the smallest; tied values share the mean of their ranks.

    [10, 30, 20, 30] -> [1, 3.5, 2, 3.5]: the two 30s would be ranks 3 and 4.
    """
    xp = backend.get_array_module(values)
    values = xp.asarray(values, dtype=float)
    order = xp.argsort(values, kind="stable")
    sorted_values = values[order]
    result = xp.empty(len(values))
    start = 0
    while start < len(values):                       # each run of equal values gets the run's mean rank
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        result[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(x, y):
    """Spearman's rank correlation: Pearson's correlation of the ranks of x and of y, in [-1, 1]."""
    xp = backend.get_array_module(x)
    rx, ry = ranks(xp.asarray(x)), ranks(xp.asarray(y))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / xp.sqrt((rx * rx).sum() * (ry * ry).sum()))


def similarity_correlation(vectors, pairs):
    """Spearman's rho between cosine and people's score over ``pairs`` [(w1, w2, score)] in the vocabulary.

    Returns {"rho", "asked", "total", "coverage"}.
    """
    xp = backend.get_array_module(vectors.unit)
    asked = [(a, b, s) for a, b, s in pairs if a in vectors and b in vectors]
    cosines = [float(vectors.unit[vectors.index[a]] @ vectors.unit[vectors.index[b]]) for a, b, _ in asked]
    rho = spearman(xp.asarray(cosines), xp.asarray([s for _, _, s in asked])) if len(asked) > 1 else 0.0
    return {"rho": rho, "asked": len(asked), "total": len(pairs), "coverage": len(asked) / len(pairs)}
