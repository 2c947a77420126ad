"""SkipGram: the negative-sampling loss and its gradient, training on the synthetic corpus, the vectors.

The synthetic corpus plants every analogy it asks (nanoae.text.synthetic), so
a trained model must answer all of them; the run takes about two seconds.
"""
import importlib.util

import numpy as np
import pytest

import nanoae
from nanoae.analysis.word_vectors import WordVectors, analogy_accuracy, ranks, similarity_correlation, spearman
from nanoae.gradcheck import gradcheck
from nanoae.models.skipgram import SkipGram, SkipGramConfig
from nanoae.ops import negative_sampling_loss
from nanoae.text import load_corpus, read_word2vec, synthetic_analogies, write_word2vec
from nanoae.train_skipgram import SkipGramTraining, train_skipgram

needs_gensim = pytest.mark.skipif(importlib.util.find_spec("gensim") is None, reason="gensim is not installed")


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_negative_sampling_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 1 + 2, 4))
    assert gradcheck(negative_sampling_loss, [u, v])


def test_negative_sampling_loss_differentiates_twice():
    """The Hessian times a direction w, through create_graph, against central differences of the gradient."""
    rng = np.random.default_rng(2)
    u_, v_, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 1 + 2, 3)), rng.standard_normal((2, 3))

    def gradient(u_values):
        u = nanoae.tensor(u_values, requires_grad=True)
        return nanoae.grad(negative_sampling_loss(u, nanoae.tensor(v_)), [u])[0].numpy()

    u = nanoae.tensor(u_, requires_grad=True)
    (first,) = nanoae.grad(negative_sampling_loss(u, nanoae.tensor(v_)), [u], create_graph=True)
    (hessian_w,) = nanoae.grad((first * nanoae.tensor(w)).sum(), [u])
    eps = 1e-6
    numeric = (gradient(u_ + eps * w) - gradient(u_ - eps * w)) / (2 * eps)
    np.testing.assert_allclose(hessian_w.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_negative_sampling_loss_equals_the_chain_of_its_parts():
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal((4, 5)), rng.standard_normal((4, 1 + 3, 5))
    s = np.einsum("bd,btd->bt", u, v)
    by_hand = -np.log(sigmoid(s[:, 0])).sum() - np.log(sigmoid(-s[:, 1:])).sum()
    assert negative_sampling_loss(nanoae.tensor(u), nanoae.tensor(v)).item() == pytest.approx(by_hand, rel=1e-12)


def test_negative_sampling_gradient_is_sigmoid_minus_label_times_the_other_vector():
    rng = np.random.default_rng(1)
    u_, v_ = rng.standard_normal((2, 5)), rng.standard_normal((2, 4, 5))
    u, v = nanoae.tensor(u_, requires_grad=True), nanoae.tensor(v_, requires_grad=True)
    negative_sampling_loss(u, v).backward()
    label = np.array([1.0, 0, 0, 0])                      # the true context first, then the noise words
    error = sigmoid(np.einsum("bd,btd->bt", u_, v_)) - label          # (B, 1 + k)
    np.testing.assert_allclose(u.grad.numpy(), np.einsum("bt,btd->bd", error, v_), rtol=1e-10)
    np.testing.assert_allclose(v.grad.numpy(), error[:, :, None] * u_[:, None, :], rtol=1e-10)


def test_a_fresh_model_scores_zero_so_each_pair_costs_one_plus_k_times_ln_2():
    model = SkipGram(SkipGramConfig(vocab_size=10, dim=4))
    loss = model.loss(np.array([1, 2]), np.array([3, 4]), np.array([[5, 6], [7, 8]]))
    assert loss.item() == pytest.approx(2 * 3 * np.log(2))


@pytest.fixture(scope="module")
def synthetic_run():
    corpus = load_corpus("synthetic")
    model, vocab, history = train_skipgram(corpus, SkipGramTraining.for_corpus("synthetic"), progress=False)
    return model, vocab, history


def test_skipgram_recovers_every_planted_analogy_with_queen_first(synthetic_run):
    model, vocab, _ = synthetic_run
    vectors = WordVectors(vocab.words, model.word_vectors())
    assert vectors.analogy("man", "woman", "king")[0][0] == "queen"
    results = analogy_accuracy(vectors, synthetic_analogies())
    assert results["all"]["accuracy"] == 1.0 and results["all"]["coverage"] == 1.0


def test_skipgram_loss_falls(synthetic_run):
    _, _, history = synthetic_run
    curve, per_epoch = history[-1]["curve"], [record["loss"] for record in history]
    assert curve[0] < 6 * np.log(2) and curve[0] > 1.5 * curve[-1]   # from (1 + k) ln 2 at the start
    assert per_epoch == sorted(per_epoch, reverse=True)


def test_sparse_and_dense_embeddings_train_to_the_same_vectors():
    corpus = load_corpus("synthetic", sentences=300)
    runs = [train_skipgram(corpus, SkipGramTraining.for_corpus("synthetic", epochs=1, sparse=sparse),
                           progress=False)[0].word_vectors() for sparse in (True, False)]
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4, atol=1e-5)


def test_spearman_uses_mean_ranks_for_ties_and_only_the_order_matters():
    assert ranks(np.array([10, 30, 20, 30])).tolist() == [1, 3.5, 2, 3.5]
    x = np.array([1.0, 2, 3, 4, 5])
    assert spearman(x, x ** 3) == pytest.approx(1.0) and spearman(x, -x) == pytest.approx(-1.0)
    # [1, 2, 3] against [1, 3, 2]: 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 2 / 24 = 0.5, by hand.
    assert spearman(np.array([1.0, 2, 3]), np.array([1.0, 3, 2])) == pytest.approx(0.5)


def test_analogies_leave_out_the_question_words_and_report_coverage():
    words = ["a", "b", "c", "d"]
    vectors = WordVectors(words, np.array([[1.0, 0], [0, 1], [1, 0.1], [0.1, 1]]))
    assert vectors.analogy("a", "b", "c")[0][0] == "d"               # b itself would be nearer
    results = analogy_accuracy(vectors, {"s": [("a", "b", "c", "d"), ("a", "b", "c", "zebra")]})
    assert results["s"]["asked"] == 1 and results["s"]["coverage"] == 0.5 and results["s"]["accuracy"] == 1.0
    rho = similarity_correlation(vectors, [("a", "c", 9.0), ("a", "b", 1.0), ("a", "d", 2.0), ("a", "x", 5.0)])
    assert rho["asked"] == 3 and rho["rho"] == pytest.approx(1.0)


def test_word2vec_text_format_round_trips(tmp_path):
    vectors = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    write_word2vec(tmp_path / "v.txt", ["king", "queen", "don't"], vectors)
    words, read = read_word2vec(tmp_path / "v.txt")
    assert words == ["king", "queen", "don't"]
    np.testing.assert_allclose(read, vectors, rtol=1e-5)
    with pytest.raises(ValueError, match="without spaces"):
        write_word2vec(tmp_path / "w.txt", ["two words"], vectors[:1])


@needs_gensim
def test_trained_vectors_load_in_gensims_reader(synthetic_run, tmp_path):
    from gensim.models import KeyedVectors
    model, vocab, _ = synthetic_run
    write_word2vec(tmp_path / "vectors.txt", vocab.words, model.word_vectors())
    loaded = KeyedVectors.load_word2vec_format(str(tmp_path / "vectors.txt"))
    assert loaded.index_to_key == vocab.words
    np.testing.assert_allclose(loaded["queen"], model.word_vectors()[vocab["queen"]], rtol=1e-5)
    assert loaded.most_similar(positive=["woman", "king"], negative=["man"], topn=1)[0][0] == "queen"
