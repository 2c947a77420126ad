"""How skip-gram draws its training examples: subsampling, the dynamic window, the negatives table.

Three of word2vec's choices (Mikolov et al. 2013), each a few lines here:

- **Subsampling of frequent words.** "the" occurs thousands of times and says
  little about its neighbours. Each occurrence of a word w with frequency
  f(w) = count(w) / total is kept with probability

      p_keep(w) = (sqrt(f(w) / t) + 1) * t / f(w)      (capped at 1)

  with t = ``sample`` (1e-3 by default): words rarer than about t are always
  kept, "the" maybe one time in ten. Fewer pairs, less time, and the window
  reaches further past the dropped words. ``sample=0`` keeps everything
  (right for a tiny vocabulary, where every word is frequent).
- **The dynamic window.** For each centre word the window's reach is drawn
  uniformly from 1..``window``, so a neighbour at distance d is used with
  probability (window - d + 1) / window: near words weigh more.
- **Negatives from unigram^0.75.** The k "noise" words for each pair are drawn
  with probability proportional to count(w)^0.75, not count(w): the power
  flattens the distribution, so rare words are drawn more often than their
  share and "the" less. word2vec fills a table with each word's number
  repeated in proportion to that probability and draws uniform positions in
  it; so does :func:`unigram_table`.
"""
from nanoae import backend

xp = backend.array_module_for("cpu")  # text is read, counted and sampled on the CPU


def keep_probabilities(counts, sample):
    """p_keep for each word (V,) from its ``counts`` (V,): the formula above; all ones when ``sample`` is 0."""
    counts = xp.asarray(counts, dtype=xp.float64)
    if sample <= 0:
        return xp.ones_like(counts)
    frequency = counts / counts.sum()
    return xp.minimum(1.0, (xp.sqrt(frequency / sample) + 1) * sample / frequency)


def subsample(tokens, sentence_of, keep, rng):
    """Keep each occurrence of word w with probability ``keep[w]``: (tokens, sentence_of) of those kept."""
    kept = rng.random(len(tokens)) < keep[tokens]
    return tokens[kept], sentence_of[kept]


def unigram_table(counts, size=1_000_000, power=0.75):
    """A table (size,) of word numbers, word w filling a share count(w)^power / sum_v count(v)^power of it.

    Drawing a uniform position in the table draws w with that probability.
    Every word gets at least one place, so none can never be drawn.
    """
    weights = xp.asarray(counts, dtype=xp.float64) ** power
    places = xp.maximum(1, xp.round(weights / weights.sum() * size)).astype(xp.int64)
    return xp.repeat(xp.arange(len(places), dtype=xp.int32), places)


def draw_negatives(table, shape, rng):
    """Noise words of the given shape, drawn from ``table`` (see :func:`unigram_table`)."""
    return table[rng.integers(0, len(table), size=shape)]


def skipgram_pairs(tokens, sentence_of, window, rng):
    """Every (centre, context) pair of the corpus within a dynamic window, as two arrays (P,).

    For the centre at position i a reach r_i is drawn from 1..window; the
    pairs are (tokens[i], tokens[j]) for 0 < |i - j| <= r_i with j in the same
    sentence. Built offset by offset with array operations, not word by word.
    """
    n = len(tokens)
    reach = rng.integers(1, window + 1, size=n)                       # (N,)
    centres, contexts = [], []
    for offset in range(1, window + 1):
        left, right = xp.arange(n - offset), xp.arange(offset, n)  # position pairs offset apart
        same_sentence = sentence_of[left] == sentence_of[right]
        forward = same_sentence & (reach[left] >= offset)            # centre on the left, context to its right
        backward = same_sentence & (reach[right] >= offset)          # centre on the right
        centres += [tokens[left[forward]], tokens[right[backward]]]
        contexts += [tokens[right[forward]], tokens[left[backward]]]
    return xp.concatenate(centres), xp.concatenate(contexts)
