"""nanoae.text: tokenizer, vocabulary, subsampling, the negatives table, the dynamic window, the corpora.

The real corpora's tests are skipped where their Debian package is missing;
they check the reading (no markup left), never the text itself.
"""
import importlib.util
from collections import Counter

import numpy as np
import pytest

from nanoae.text import Vocabulary, corpora, load_corpus, synthetic_analogies, synthetic_corpus, tokenize
from nanoae.text.evaluation_sets import read_analogies, read_similarity
from nanoae.text.sampling import draw_negatives, keep_probabilities, skipgram_pairs, subsample, unigram_table

needs_gensim = pytest.mark.skipif(importlib.util.find_spec("gensim") is None, reason="gensim is not installed")


def test_tokenize_lowercases_keeps_inner_apostrophes_and_drops_possessives():
    assert tokenize("The Ship’s crew didn't sail; sailors' O'Brien-Smith 1913.") == \
        ["the", "ship", "crew", "didn't", "sail", "sailors", "o'brien", "smith"]


def test_vocabulary_keeps_words_seen_min_count_times_most_frequent_first():
    sentences = [["b", "a", "c"], ["a", "b", "d"], ["a"]]
    vocab = Vocabulary.build(sentences, min_count=2)
    assert vocab.words == ["a", "b"] and vocab.counts.tolist() == [3, 2] and vocab["b"] == 1
    tokens, sentence_of = vocab.encode(sentences)
    assert tokens.tolist() == [1, 0, 0, 1, 0] and sentence_of.tolist() == [0, 0, 1, 1, 2]
    with pytest.raises(ValueError, match="lower min_count"):
        Vocabulary.build(sentences, min_count=4)


def test_keep_probability_follows_word2vecs_formula_and_sample_zero_keeps_all():
    counts = np.array([900, 90, 10])
    keep = keep_probabilities(counts, 0.01)
    f = 0.9                                           # the first word's frequency, by hand
    assert keep[0] == pytest.approx((np.sqrt(f / 0.01) + 1) * 0.01 / f)
    assert keep[0] < keep[1] <= keep[2] == 1.0
    assert keep_probabilities(counts, 0).tolist() == [1, 1, 1]


def test_subsampling_keeps_each_word_at_its_rate():
    tokens = np.repeat(np.arange(2), 20000).astype(np.int32)
    kept, _ = subsample(tokens, np.zeros_like(tokens), np.array([0.25, 1.0]), np.random.default_rng(0))
    counts = np.bincount(kept, minlength=2)
    assert counts[1] == 20000 and counts[0] == pytest.approx(5000, rel=0.05)


def test_unigram_table_draws_words_in_proportion_to_count_to_the_three_quarters():
    counts = np.array([1000, 100, 10, 1])
    table = unigram_table(counts, size=100_000)
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    drawn = np.bincount(draw_negatives(table, (200_000,), np.random.default_rng(0)), minlength=4) / 200_000
    np.testing.assert_allclose(drawn, expected, rtol=0.05, atol=2e-4)
    assert drawn[3] > counts[3] / counts.sum()        # the power lifts the rarest word above its share


def test_window_of_one_pairs_each_word_with_its_neighbours_within_a_sentence():
    tokens = np.array([10, 11, 12, 20, 21], dtype=np.int32)
    sentence_of = np.array([0, 0, 0, 1, 1], dtype=np.int32)
    centres, contexts = skipgram_pairs(tokens, sentence_of, 1, np.random.default_rng(0))
    assert sorted(zip(centres.tolist(), contexts.tolist())) == \
        [(10, 11), (11, 10), (11, 12), (12, 11), (20, 21), (21, 20)]


def test_dynamic_window_uses_distance_d_with_probability_window_minus_d_plus_one_over_window():
    n, window = 50_000, 4
    positions = np.arange(n, dtype=np.int32)          # token = its position, so a pair tells its distance
    centres, contexts = skipgram_pairs(positions, np.zeros(n, dtype=np.int32), window, np.random.default_rng(1))
    distance = Counter(np.abs(contexts - centres).tolist())
    for d in range(1, window + 1):
        assert distance[d] / (2 * n) == pytest.approx((window - d + 1) / window, abs=0.01)


def test_synthetic_corpus_is_the_same_for_a_seed_and_holds_every_planted_word():
    assert synthetic_corpus(50, seed=3) == synthetic_corpus(50, seed=3) != synthetic_corpus(50, seed=4)
    words = {w for sentence in synthetic_corpus() for w in sentence}
    questions = synthetic_analogies()
    assert len(questions["family"]) == 9 * 8 and len(questions["capital-common-countries"]) == 8 * 7
    assert all(w in words for q in questions["family"] + questions["capital-common-countries"] for w in q)


def test_osis_notes_become_a_space_so_words_stay_apart():
    verse = ('<w lemma="x">In</w> <w>a</w> <w>garden</w><note placement="foot"><reference>1:1 </reference>'
             'a made-up note</note><w>stood</w> &amp; <div type="x-p"/>grew')
    assert tokenize(corpora.clean_osis(verse)) == ["in", "a", "garden", "stood", "grew"]


def test_gcide_markup_is_cleaned():
    entry = 'Word \\Word\\, n. [AS. word.] 1. A pre["e]minent {sound}; a t[ae]le. [1913 Webster]'
    assert tokenize(corpora.clean_gcide(entry)) == ["word", "n", "a", "preeminent", "sound", "a", "taele"]


def test_a_missing_package_names_the_command_that_installs_it(monkeypatch, tmp_path):
    monkeypatch.setattr(corpora, "GCIDE", tmp_path / "gcide.dict.dz")
    with pytest.raises(corpora.CorpusNotInstalled, match="sudo apt-get install dict-gcide"):
        load_corpus("gcide-wordnet")
    monkeypatch.setattr(corpora, "WEB_FOLDER", tmp_path / "web")
    with pytest.raises(corpora.CorpusNotInstalled, match="sudo apt-get install sword-text-web"):
        load_corpus("web")
    with pytest.raises(ValueError, match="synthetic, web, gcide-wordnet"):
        load_corpus("wikipedia")


@pytest.mark.skipif(not corpora.WEB_FOLDER.exists() or importlib.util.find_spec("pysword") is None,
                    reason="sword-text-web or pysword is not installed")
def test_web_verses_read_through_pysword_lose_all_markup():
    from pysword.modules import SwordModules
    modules = SwordModules(str(corpora.SWORD_LIBRARY))
    modules.parse_modules()
    verses = list(modules.get_bible_from_module(corpora.WEB_MODULE).get_iter(books=["gen"], chapters=[1],
                                                                             clean=False))
    cleaned = [corpora.clean_osis(v) for v in verses]
    assert len(verses) == 31 and all("<" not in v and ">" not in v for v in cleaned)
    assert all(tokenize(v) for v in cleaned)


@pytest.mark.skipif(not corpora.GCIDE.exists() or not (corpora.WORDNET / "data.noun").exists(),
                    reason="dict-gcide or wordnet-base is not installed")
def test_gcide_wordnet_sentences_are_words_without_markup():
    for i, sentence in enumerate(load_corpus("gcide-wordnet")):
        assert sentence and all(w == tokenize(w)[0] for w in sentence)
        if i == 2000:
            break
    glosses = list(corpora._read_wordnet_glosses())
    assert len(glosses) > 100_000 and all(glosses[:1000])


@needs_gensim
def test_the_evaluation_sets_are_read_from_gensims_package():
    sections = read_analogies()
    assert sum(len(q) for q in sections.values()) == 19544 and len(sections["family"]) == 506
    assert len(read_similarity("wordsim353")) == 353 and len(read_similarity("simlex999")) == 999
