"""The chapter 14 graders (nanoae/exercises/ch14_word_embeddings.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in tests/test_notebooks.py.
"""
import numpy as np

import nanoae
from nanoae.analysis.word_vectors import WordVectors
from nanoae.exercises import ch14_word_embeddings as graders
from nanoae.ops import negative_sampling_loss
from nanoae.text.sampling import unigram_table
from grading_asserts import assert_fails_naming


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def ns_grad(u, v, error_of=lambda s, label: sigmoid(s) - label, scale=1.0):
    s = np.einsum("bd,btd->bt", u, v)
    label = np.zeros(s.shape[1])
    label[0] = 1
    error = error_of(s, label) * scale
    return np.einsum("bt,btd->bd", error, v), error[:, :, None] * u[:, None, :]


def test_negative_sampling_grader_passes_the_formula_written_here():
    assert graders.grade_negative_sampling_grad(ns_grad).passed


def test_negative_sampling_grader_fails_flipped_signs():
    assert_fails_naming(graders.grade_negative_sampling_grad(
        lambda u, v: ns_grad(u, v, lambda s, label: label - sigmoid(s))), "signs are wrong", "relative error")


def test_negative_sampling_grader_fails_a_missing_label():
    assert_fails_naming(graders.grade_negative_sampling_grad(
        lambda u, v: ns_grad(u, v, lambda s, label: sigmoid(s))), "-1 is missing")


def test_negative_sampling_grader_fails_noise_words_labelled_true():
    assert_fails_naming(graders.grade_negative_sampling_grad(
        lambda u, v: ns_grad(u, v, lambda s, label: sigmoid(s) - 1)), "label is 0")


def test_negative_sampling_grader_fails_a_mean_over_the_batch():
    assert_fails_naming(graders.grade_negative_sampling_grad(lambda u, v: ns_grad(u, v, scale=1 / len(u))),
                        "summed over the batch")


def test_negative_sampling_grader_fails_a_gradient_found_by_autograd():
    def by_autograd(u, v):
        u, v = nanoae.tensor(u, requires_grad=True), nanoae.tensor(v, requires_grad=True)
        negative_sampling_loss(u, v).backward()
        return u.grad.numpy(), v.grad.numpy()
    assert_fails_naming(graders.grade_negative_sampling_grad(by_autograd), "does this exercise for you")


def test_negative_sampling_grader_fails_a_wrong_shape():
    assert_fails_naming(graders.grade_negative_sampling_grad(lambda u, v: (u, v.sum(axis=1))), "shape")


def test_noise_distribution_grader_fails_the_plain_unigram_and_a_missing_normalisation():
    assert graders.grade_noise_distribution(lambda c: c ** 0.75 / (c ** 0.75).sum()).passed
    assert_fails_naming(graders.grade_noise_distribution(lambda c: c / c.sum()), "power 3/4 is missing")
    assert_fails_naming(graders.grade_noise_distribution(lambda c: c ** 0.75), "add up to 1")


def test_noise_distribution_grader_fails_the_librarys_table():
    def from_table(counts):
        table = unigram_table(counts, size=10_000_000)
        return np.bincount(table, minlength=len(counts)) / len(table)
    assert_fails_naming(graders.grade_noise_distribution(from_table), "unigram_table")


def three_cos_add(vectors, a, b, c, exclude=True, reverse=False, normalise=True):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True) if normalise else vectors
    scores = unit @ (unit[a] - unit[b] + unit[c] if reverse else unit[b] - unit[a] + unit[c])
    if exclude:
        scores[[a, b, c]] = -np.inf
    return int(np.argmax(scores))


def test_three_cos_add_grader_passes_the_formula_written_here():
    assert graders.grade_three_cos_add(three_cos_add).passed


def test_three_cos_add_grader_fails_the_usual_mistakes():
    assert_fails_naming(graders.grade_three_cos_add(lambda *q: three_cos_add(*q, exclude=False)),
                        "must be left out")
    assert_fails_naming(graders.grade_three_cos_add(lambda *q: three_cos_add(*q, reverse=True)), "b - a + c")
    assert_fails_naming(graders.grade_three_cos_add(lambda *q: three_cos_add(*q, normalise=False)), "cosines")


def test_three_cos_add_grader_fails_the_librarys_word_vectors():
    def library(vectors, a, b, c):
        words = [str(i) for i in range(len(vectors))]
        return int(WordVectors(words, vectors).analogy(words[a], words[b], words[c])[0][0])
    assert_fails_naming(graders.grade_three_cos_add(library), "does this exercise for you")
