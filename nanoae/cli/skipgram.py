"""``nanoae train skipgram``: word vectors from a corpus, with their vocabulary, loss curve, map and scores.

    nanoae train skipgram                                 the synthetic corpus, in seconds
    nanoae train skipgram --corpus web --epochs 5         the World English Bible
    nanoae train skipgram --corpus gcide-wordnet --out runs/gcide   GCIDE + WordNet (GPL: keep the vectors)

Skip-gram trains on text, not on images, so ``nanoae train`` hands it here
(:func:`nanoae.cli.train.run` says so in one line): its own options (the
corpus, the window, ...), its own loop (:mod:`nanoae.train_skipgram`) and its
own files. The run folder (``--out``, default runs/skipgram-CORPUS) gets

- ``vectors.txt``: the word vectors in word2vec's text format (gensim reads it);
- ``vocabulary.tsv``: each word and its count, most frequent first;
- ``history.json`` and ``loss.png``: the loss per pair, by epoch and along training;
- ``words.png``: royalty, family and place words on the first two principal components;
- ``evaluation.json``: analogies (3CosAdd, with coverage) and word similarity (Spearman's rho):
  the planted analogies on the synthetic corpus, gensim's test sets on the others;
- ``NOTICE.txt``: where the text came from, and its licence.
"""
import json
import os

from nanoae import plot
from nanoae.analysis.pca import PCA
from nanoae.analysis.word_vectors import WordVectors, analogy_accuracy, similarity_correlation
from nanoae.cli.arguments import fraction, positive
from nanoae.text import CORPORA, load_corpus, synthetic_analogies, write_word2vec
from nanoae.text.evaluation_sets import SIMILARITY_SETS, read_analogies, read_similarity
from nanoae.train_skipgram import CORPUS_SETTINGS, SkipGramTraining, train_skipgram

# flag -> (SkipGramTraining field, type, help): the options only skip-gram has.
OPTIONS = {
    "--dim": ("dim", positive(int), "size of a word vector"),
    "--window": ("window", positive(int), "widest reach of the dynamic window"),
    "--negatives": ("negatives", positive(int), "noise words per pair"),
    "--min-count": ("min_count", positive(int), "words seen fewer times get no vector"),
    "--sample": ("sample", fraction, "subsampling threshold of frequent words (0: keep all)"),
}
# Options skip-gram shares with the image models, and the fields they set.
SHARED = {"--epochs": "epochs", "--lr": "lr", "--batch-size": "batch_size", "--seed": "seed"}
FILES = ("vectors.txt", "vocabulary.tsv", "history.json", "evaluation.json")
MAP_WORDS = {"royalty": ("king", "queen", "prince", "princess"),
             "family": ("man", "woman", "father", "mother", "son", "daughter", "brother", "sister", "husband",
                        "wife"),
             "places": ("france", "paris", "italy", "rome", "egypt", "cairo", "israel", "jerusalem", "babylon",
                        "assyria", "nineveh")}


def add_arguments(parser):
    group = parser.add_argument_group("skipgram (word vectors from a corpus; defaults from "
                                      "nanoae.train_skipgram.SkipGramTraining)")
    group.add_argument("--corpus", choices=CORPORA, help="synthetic is made by a grammar (no package); web is the "
                       "World English Bible; gcide-wordnet a dictionary (default: synthetic)")
    for flag, (field, kind, help) in OPTIONS.items():
        group.add_argument(flag, type=kind, help=f"{help} ({default_text(field)})")
    group.add_argument("--dense", action="store_const", const=True,
                       help="dense embedding gradients instead of row-sparse ones (slower; for comparison)")


def default_text(field):
    """'default: 5' or 'default: 100; synthetic: 30', from SkipGramTraining and CORPUS_SETTINGS."""
    text = f"default: {getattr(SkipGramTraining(), field)}"
    for corpus, settings in CORPUS_SETTINGS.items():
        if field in settings:
            text += f"; {corpus}: {settings[field]}"
    return text


def settings_from_args(args, corpus):
    changes = {field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _, _) in OPTIONS.items()}
    changes.update({field: getattr(args, flag[2:].replace("-", "_")) for flag, field in SHARED.items()})
    changes = {field: value for field, value in changes.items() if value is not None}
    if args.dense:
        changes["sparse"] = False
    return SkipGramTraining.for_corpus(corpus, **changes)


def evaluate(vectors, corpus):
    """Analogy accuracy (by section) and word-similarity rho, on the sets that fit the corpus."""
    if corpus == "synthetic":
        return {"analogies": analogy_accuracy(vectors, synthetic_analogies())}
    return {"analogies": analogy_accuracy(vectors, read_analogies()),
            **{name: similarity_correlation(vectors, read_similarity(name)) for name in SIMILARITY_SETS}}


def write_map(vectors, path, corpus):
    words, groups = [], []
    for group, candidates in MAP_WORDS.items():
        present = [w for w in candidates if w in vectors]
        words += present
        groups += [group] * len(present)
    if len(words) < 3:
        return None
    rows = vectors.vectors[[vectors.index[w] for w in words]]
    points = PCA(2).fit(rows).transform(rows)
    return plot.word_map(points, words, groups, path, f"Word vectors from {corpus}, by PCA")


def run(args, image_only_given):
    if image_only_given:
        raise ValueError(f"{', '.join(image_only_given)} cannot be used with skipgram, which trains on a corpus")
    corpus_name = args.corpus or "synthetic"
    settings = settings_from_args(args, corpus_name)
    out = args.out or os.path.join("runs", f"skipgram-{corpus_name}")
    if not args.overwrite and any(os.path.exists(os.path.join(out, name)) for name in FILES):
        raise ValueError(f"{out} holds a skipgram run; choose another --out or add --overwrite")
    corpus = load_corpus(corpus_name)
    print(f"skipgram on {corpus_name}: {settings}; writing to {out}")
    model, vocab, history = train_skipgram(corpus, settings, progress=not args.quiet)
    os.makedirs(out, exist_ok=True)
    vectors = WordVectors(vocab.words, model.word_vectors())
    write_word2vec(os.path.join(out, "vectors.txt"), vocab.words, vectors.vectors)
    with open(os.path.join(out, "vocabulary.tsv"), "w", encoding="utf-8") as f:
        f.writelines(f"{word}\t{count}\n" for word, count in zip(vocab.words, vocab.counts.tolist()))
    scores = evaluate(vectors, corpus_name)
    for name, content in (("history.json", history), ("evaluation.json", scores)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=1)
    with open(os.path.join(out, "NOTICE.txt"), "w", encoding="utf-8") as f:
        f.write(corpus.notice + "\n")
    figures = [plot.loss_curve(history[-1]["curve"], os.path.join(out, "loss.png"), "Skip-gram loss",
                               "stretch of training steps", "loss per pair"),
               write_map(vectors, os.path.join(out, "words.png"), corpus_name)]
    print_summary(vectors, scores)
    print("wrote " + ", ".join([os.path.join(out, name) for name in (*FILES, "NOTICE.txt")]
                               + [f for f in figures if f]))
    return 0


def print_summary(vectors, scores):
    if all(w in vectors for w in ("man", "woman", "king")):
        answers = ", ".join(f"{w} {c:.2f}" for w, c in vectors.analogy("man", "woman", "king", k=3))
        print(f"king - man + woman: {answers}")
    for section, result in scores["analogies"].items():
        if result["asked"] and section in ("family", "capital-common-countries", "all"):
            print(f"analogies {section}: accuracy {result['accuracy']:.3f} on {result['asked']} of "
                  f"{result['total']} questions (coverage {result['coverage']:.2f})")
    for name in SIMILARITY_SETS:
        if name in scores:
            print(f"{name}: Spearman rho {scores[name]['rho']:.3f} (coverage {scores[name]['coverage']:.2f})")
