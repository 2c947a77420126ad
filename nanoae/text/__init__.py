"""Text for word embeddings: corpora, words, the vocabulary and how skip-gram samples its examples.

::

    from nanoae.text import Vocabulary, load_corpus

    corpus = load_corpus("synthetic")               # or "web", "gcide-wordnet"
    vocab = Vocabulary.build(corpus, min_count=1)
    tokens, sentence_of = vocab.encode(corpus)      # the corpus as word numbers

| file | what is inside |
| --- | --- |
| ``tokenizer.py`` | ``tokenize``: lowercase words, apostrophes, possessives |
| ``vocabulary.py`` | ``Vocabulary``: words kept by ``min_count``, their numbers and counts |
| ``sampling.py`` | subsampling of frequent words, the dynamic window, the unigram^0.75 negatives table |
| ``synthetic.py`` | a corpus made by a grammar with planted analogies (no download) |
| ``corpora.py`` | the World English Bible, GCIDE + WordNet, read from Debian's packages |
| ``evaluation_sets.py`` | the analogy and word-similarity sets shipped inside gensim, read where it is installed |
| ``word2vec_format.py`` | word vectors in word2vec's text format |
"""
from nanoae.text.corpora import Corpus, CorpusNotInstalled, load_gcide_wordnet, load_web
from nanoae.text.synthetic import synthetic_analogies, synthetic_corpus
from nanoae.text.tokenizer import tokenize
from nanoae.text.vocabulary import Vocabulary
from nanoae.text.word2vec_format import read_word2vec, write_word2vec

CORPORA = ("synthetic", "web", "gcide-wordnet")


def load_corpus(name, sentences=6000, seed=0):
    """The corpus ``name``, one of :data:`CORPORA`; ``sentences`` and ``seed`` shape the synthetic one."""
    if name == "synthetic":
        text = synthetic_corpus(sentences, seed)
        return Corpus("synthetic", lambda: text, notice="made by nanoae.text.synthetic")
    if name == "web":
        return load_web()
    if name == "gcide-wordnet":
        return load_gcide_wordnet()
    raise ValueError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")


__all__ = ["CORPORA", "Corpus", "CorpusNotInstalled", "Vocabulary", "load_corpus", "read_word2vec",
           "synthetic_analogies", "synthetic_corpus", "tokenize", "write_word2vec"]
