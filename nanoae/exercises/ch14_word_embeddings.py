"""Graders for chapter 14, word embeddings.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``negative_sampling_grad(u, v)`` | (dL/du, dL/dv) of skip-gram's loss by hand, NumPy | the values stored for these inputs |
| ``noise_distribution(counts)`` | the probability of drawing each word as a negative | the values stored for these counts |
| ``three_cos_add(vectors, a, b, c)`` | the row of the answer to a : b = c : ? | the answers stored for these vectors |

``u`` (B, D) holds the centre words' input vectors and ``v`` (B, 1 + k, D)
the output vectors of each centre's true context (first) and its k noise
words; the loss is sum_b [ -log sigmoid(u_b . v_b0) - sum_{t>0} log sigmoid(-u_b . v_bt) ].
Inputs have both signs and B, 1 + k and D all differ, so a sum over the
wrong axis changes the shape or the answer. Each exercise rules out the
library code that would do it: the autograd engine and the loss op,
the unigram table, and the word-vector tools. When an answer is wrong, the
grader names the usual mistake it matches.
"""
from nanoae import backend
from nanoae.analysis.word_vectors import WordVectors
from nanoae.autograd import Tensor, grad
from nanoae.exercises import Mismatch, StoredValues, as_numpy, grader, passed_within, random_array
from nanoae.ops import negative_sampling_loss
from nanoae.text.sampling import keep_probabilities, unigram_table

TOL = 1e-9      # the stored values are exact in float64
CASES = ((3, 4, 5, 140), (5, 3, 2, 150))   # (B, 1 + k, D, seed), all three different
QUESTIONS = 40                              # analogy questions per case
STORED = StoredValues("ch14_word_embeddings")
xp = backend.array_module_for("cpu")

MISTAKES = {
    "negative_sampling_grad": {
        "negated": "the signs are wrong: the factor is sigmoid(s) - label, which is positive for a noise word",
        "no_label": "the true context's -1 is missing: its factor is sigmoid(s) - 1",
        "all_true": "every target was treated as the true context: the noise words' label is 0, not 1",
        "sigmoid_of_minus": "sigmoid(-s) is in place of sigmoid(s)",
        "batch_mean": "every entry is B times too small: the loss is summed over the batch, not averaged",
    },
    "noise_distribution": {
        "unigram": "the power 3/4 is missing: that is the plain unigram distribution",
        "not_normalised": "the probabilities do not add up to 1: divide by the sum over all words",
        "power_of_probability_unnormalised": "count^(3/4) must be normalised again after the power",
        "square_root": "the power is 3/4, not 1/2",
    },
    "three_cos_add": {
        "question_words_allowed": "the question words a, b and c must be left out of the answers",
        "wrong_direction": "the direction is b - a + c (a is to b as c is to the answer)",
        "not_normalised": "use cosines: divide every vector by its length first",
    },
}


# --- the inputs of each case (the stored values were computed on these) --------------------------

def negative_sampling_inputs(case):
    """u (B, D) and v (B, 1 + k, D), standard normal."""
    batch, targets, dim, seed = CASES[case]
    return random_array((batch, dim), seed) * 0.7, random_array((batch, targets, dim), seed + 1) * 0.7


def word_counts(case):
    """Counts of 12 (case 0) or 30 words, from 1 to a few thousand, as a Zipfian corpus has."""
    size = 12 if case == 0 else 30
    return xp.floor(3000.0 / xp.arange(1, size + 1) ** 1.1 * (1 + random_array(size, 160 + case, 0.0, 0.3)))


def analogy_inputs(case):
    """vectors (V, D) of mixed lengths, and QUESTIONS rows (a, b, c) of three different words."""
    vocab, dim = (50, 8) if case == 0 else (80, 12)
    vectors = random_array((vocab, dim), 170 + case) * random_array((vocab, 1), 171 + case, 0.2, 3.0)
    rng = backend.new_generator(172 + case)
    questions = xp.stack([rng.choice(vocab, size=3, replace=False) for _ in range(QUESTIONS)])
    return vectors, questions


# --- exercise 1: the gradient of the negative-sampling loss, by hand ------------------------------

@grader("negative_sampling_grad", forbidden=(Tensor.backward, grad, negative_sampling_loss))
def grade_negative_sampling_grad(negative_sampling_grad):
    worst = 0.0
    for case in range(len(CASES)):
        u, v = negative_sampling_inputs(case)
        answer = negative_sampling_grad(u.copy(), v.copy())
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            raise Mismatch("return a pair (dL/du, dL/dv)")
        for name, value, like in (("dL/du", answer[0], u), ("dL/dv", answer[1], v)):
            if as_numpy(value).shape != like.shape:
                raise Mismatch(f"return {name} with the shape {like.shape}; got {as_numpy(value).shape}")
        both = xp.concatenate([as_numpy(answer[0]).reshape(-1), as_numpy(answer[1]).reshape(-1)])
        worst = max(worst, STORED.check(both, "negative_sampling_grad", case, MISTAKES["negative_sampling_grad"],
                                        TOL, f"your (dL/du, dL/dv) flattened (B, 1 + k, D = {v.shape})"))
    return passed_within(worst, TOL) + " for both gradients"


# --- exercise 2: the noise distribution --------------------------------------------------------------

@grader("noise_distribution", forbidden=(unigram_table, keep_probabilities))
def grade_noise_distribution(noise_distribution):
    worst = 0.0
    for case in range(len(CASES)):
        counts = word_counts(case)
        got = as_numpy(noise_distribution(counts.copy()))
        worst = max(worst, STORED.check(got, "noise_distribution", case, MISTAKES["noise_distribution"], TOL,
                                        f"your probabilities ({len(counts)} words)"))
    return passed_within(worst, TOL)


# --- exercise 3: analogies by 3CosAdd -----------------------------------------------------------------

@grader("three_cos_add", forbidden=(WordVectors.analogy, WordVectors.nearest, WordVectors.answers))
def grade_three_cos_add(three_cos_add):
    asked = 0
    for case in range(len(CASES)):
        vectors, questions = analogy_inputs(case)
        got = xp.asarray([int(three_cos_add(vectors.copy(), *(int(w) for w in q))) for q in questions],
                         dtype=float)
        STORED.check(got, "three_cos_add", case, MISTAKES["three_cos_add"], 0.0,
                     f"your answers (rows) to the {len(questions)} questions")
        asked += len(questions)
    return f"all {asked} answers right"
