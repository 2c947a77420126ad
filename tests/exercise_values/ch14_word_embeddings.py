"""The values the chapter 14 graders compare against, from the formulas (instructors' side).

``python tests/exercise_values/write.py ch14_word_embeddings`` stores them in
nanoae/exercises/values/ch14_word_embeddings.npz.
"""
import numpy as np

from nanoae.exercises import ch14_word_embeddings as graders


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def negative_sampling_grad(case):
    u, v = graders.negative_sampling_inputs(case)
    s = np.einsum("bd,btd->bt", u, v)                                      # (B, 1 + k)
    label = np.zeros(s.shape[1])
    label[0] = 1

    def pair(error):
        du = np.einsum("bt,btd->bd", error, v)
        dv = error[:, :, None] * u[:, None, :]
        return np.concatenate([du.reshape(-1), dv.reshape(-1)])
    return {
        "expected": pair(_sigmoid(s) - label),
        "mistake/negated": pair(label - _sigmoid(s)),
        "mistake/no_label": pair(_sigmoid(s)),
        "mistake/all_true": pair(_sigmoid(s) - 1),
        "mistake/sigmoid_of_minus": pair(_sigmoid(-s) - label),
        "mistake/batch_mean": pair((_sigmoid(s) - label) / len(u)),
    }


def noise_distribution(case):
    counts = graders.word_counts(case)
    return {
        "expected": counts ** 0.75 / (counts ** 0.75).sum(),
        "mistake/unigram": counts / counts.sum(),
        "mistake/not_normalised": counts ** 0.75,
        "mistake/power_of_probability_unnormalised": (counts / counts.sum()) ** 0.75,
        "mistake/square_root": counts ** 0.5 / (counts ** 0.5).sum(),
    }


def _answers(vectors, questions, reversed_direction=False, exclude=True, normalise=True):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True) if normalise else vectors
    found = []
    for a, b, c in questions:
        direction = unit[a] - unit[b] + unit[c] if reversed_direction else unit[b] - unit[a] + unit[c]
        scores = unit @ direction
        if exclude:
            scores[[a, b, c]] = -np.inf
        found.append(int(np.argmax(scores)))
    return np.asarray(found, dtype=float)


def three_cos_add(case):
    vectors, questions = graders.analogy_inputs(case)
    return {
        "expected": _answers(vectors, questions),
        "mistake/question_words_allowed": _answers(vectors, questions, exclude=False),
        "mistake/wrong_direction": _answers(vectors, questions, reversed_direction=True),
        "mistake/not_normalised": _answers(vectors, questions, normalise=False),
    }
