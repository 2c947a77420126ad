"""nanoae's skip-gram beside plain NumPy and gensim's Word2Vec: same corpus, same settings, time and quality.

Three trainers of skip-gram with negative sampling, on the same sentences with
the same settings (vector size, window, negatives, min_count, subsampling,
learning rate falling linearly from 0.025, epochs):

- nanoae: ``train_skipgram``, the engine's forward and backward on row-sparse gradients, one thread;
- plain NumPy: the same loop (the same pairs, noise words and batches) with the gradient written
  by hand and the rows updated with ``add.at``, written below; nanoae's cost over it is the engine's;
- gensim: word2vec's C loop with ``--workers`` threads, one pair at a time.

All vectors are then scored by the same code (nanoae.analysis.word_vectors):

- analogies by 3CosAdd on questions-words (all sections, and the family one), with coverage;
- Spearman's rho on WordSim353 and SimLex-999;
- king - man + woman, the first three answers.

The test sets are read from gensim's installed package. Prints one table.

    python benchmarks/skipgram.py [--corpus web] [--epochs 5] [--workers 2]
"""
import argparse
import time

import numpy as np

from nanoae.analysis.word_vectors import WordVectors, analogy_accuracy, similarity_correlation
from nanoae.text import CORPORA, load_corpus, synthetic_analogies
from nanoae.text.evaluation_sets import SIMILARITY_SETS, read_analogies, read_similarity
from nanoae.text import Vocabulary
from nanoae.text.sampling import draw_negatives, keep_probabilities, skipgram_pairs, subsample, unigram_table
from nanoae.train_skipgram import SkipGramTraining, train_skipgram


def train_gensim(sentences, settings, workers):
    from gensim.models import Word2Vec
    start = time.perf_counter()
    model = Word2Vec(sentences=sentences, vector_size=settings.dim, window=settings.window, min_count=settings.min_count,
                     sample=settings.sample, negative=settings.negatives, sg=1, hs=0, alpha=settings.lr,
                     min_alpha=settings.lr * settings.min_lr_fraction, epochs=settings.epochs, workers=workers,
                     seed=settings.seed)
    seconds = time.perf_counter() - start          # includes building the vocabulary, as nanoae's does
    return WordVectors(model.wv.index_to_key, model.wv.vectors), seconds / settings.epochs


def train_plain_numpy(sentences, settings):
    """Skip-gram as nanoae trains it, without the engine: the gradient of the loss written out."""
    start = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    vocab = Vocabulary.build(sentences, settings.min_count)
    tokens, sentence_of = vocab.encode(sentences)
    keep, table = keep_probabilities(vocab.counts, settings.sample), unigram_table(vocab.counts)
    d, b, k = settings.dim, settings.batch_size, settings.negatives
    w_in = rng.uniform(-0.5 / d, 0.5 / d, (len(vocab), d)).astype(np.float32)
    w_out = np.zeros((len(vocab), d), dtype=np.float32)
    label = np.zeros(1 + k, dtype=np.float32)
    label[0] = 1
    for epoch in range(settings.epochs):
        kept, kept_sentence = subsample(tokens, sentence_of, keep, rng)
        centres, contexts = skipgram_pairs(kept, kept_sentence, settings.window, rng)
        order = rng.permutation(len(centres))
        centres, contexts = centres[order], contexts[order]
        steps = -(-len(centres) // b)
        for step in range(steps):
            lr = settings.lr * max(settings.min_lr_fraction, 1 - (epoch + step / steps) / settings.epochs)
            c = centres[step * b:(step + 1) * b]
            targets = np.concatenate([contexts[step * b:(step + 1) * b, None],
                                      draw_negatives(table, (len(c), k), rng)], axis=1)     # (B, 1 + k)
            u, v = w_in[c], w_out[targets]                                                   # (B, D), (B, 1 + k, D)
            error = 1 / (1 + np.exp(-np.einsum("bd,btd->bt", u, v))) - label                 # sigmoid(s) - label
            scatter_add(w_in, c, -lr * np.einsum("bt,btd->bd", error, v))
            scatter_add(w_out, targets.reshape(-1), -lr * (error[:, :, None] * u[:, None, :]).reshape(-1, d))
    return WordVectors(vocab.words, w_in), (time.perf_counter() - start) / settings.epochs


def scatter_add(table, rows, values):
    """table[rows] += values with repeated rows summed, by add.at on the flattened table (as nanoae does)."""
    d = table.shape[1]
    np.add.at(table.reshape(-1), (rows[:, None] * d + np.arange(d)).reshape(-1), values.reshape(-1))


def train_nanoae(sentences, settings):
    start = time.perf_counter()
    model, vocab, _ = train_skipgram(sentences, settings, progress=False)
    return WordVectors(vocab.words, model.word_vectors()), (time.perf_counter() - start) / settings.epochs


def scores(vectors, corpus):
    questions = synthetic_analogies() if corpus == "synthetic" else read_analogies()
    analogies = analogy_accuracy(vectors, questions)
    row = {"all": analogies["all"], "family": analogies["family"]}
    if corpus != "synthetic":
        row.update({name: similarity_correlation(vectors, read_similarity(name)) for name in SIMILARITY_SETS})
    answers = vectors.analogy("man", "woman", "king", k=3) if all(w in vectors for w in ("man", "woman", "king")) \
        else []
    row["king - man + woman"] = " ".join(word for word, _ in answers)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=CORPORA, default="web")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gensim's threads")
    parser.add_argument("--without-plain", action="store_true",
                        help="leave out the plain-NumPy run (it takes as long as nanoae's; for the large corpus)")
    args = parser.parse_args()
    sentences = list(load_corpus(args.corpus))    # read once, so neither run pays for reading the corpus
    settings = SkipGramTraining.for_corpus(args.corpus, epochs=args.epochs)
    print(f"corpus {args.corpus}: {len(sentences)} sentences, {sum(map(len, sentences))} words; {settings}")
    results = {}
    trainers = {"nanoae": lambda: train_nanoae(sentences, settings),
                "plain NumPy": lambda: train_plain_numpy(sentences, settings),
                "gensim": lambda: train_gensim(sentences, settings, args.workers)}
    if args.without_plain:
        del trainers["plain NumPy"]
    for name, train in trainers.items():
        vectors, per_epoch = train()
        results[name] = (len(vectors.words), per_epoch, scores(vectors, args.corpus))
    print(f"{'':22} {'words':>7} {'s/epoch':>8} {'analogies (coverage)':>21} {'family (coverage)':>18} "
          f"{'wordsim353':>10} {'simlex999':>9}  king - man + woman")
    for name, (words, per_epoch, row) in results.items():
        similarity = [f"{row[n]['rho']:.3f}" if n in row else "-" for n in SIMILARITY_SETS]
        print(f"{name:22} {words:7d} {per_epoch:8.2f} {row['all']['accuracy']:12.3f} ({row['all']['coverage']:.3f}) "
              f"{row['family']['accuracy']:9.3f} ({row['family']['coverage']:.3f}) {similarity[0]:>10} "
              f"{similarity[1]:>9}  {row['king - man + woman']}")
    seconds = {name: per_epoch for name, (_, per_epoch, _) in results.items()}
    ratios = [f"nanoae / {name} = {seconds['nanoae'] / seconds[name]:.2f}" for name in seconds if name != "nanoae"]
    print(f"time per epoch: {', '.join(ratios)} (gensim with {args.workers} threads)")


if __name__ == "__main__":
    main()
