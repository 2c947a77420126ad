"""nanoae.analysis.metrics: the ROC curve and its area, against a hand computation and a pair count."""
import itertools

import numpy as np
import pytest

from nanoae import backend
from nanoae.analysis.metrics import roc_auc, roc_curve, threshold_at_fpr

# The hand-computed example. Scores with their labels (1 positive, 0 negative), sorted from high to low:
#
#   score  0.9  0.8  0.8  0.7  0.5  0.5  0.3  0.1
#   label   1    1    0    1    0    1    0    0         4 positives, 4 negatives
#
# Lower the threshold t through each distinct score and count what "score >= t" flags:
#
#   t     flagged positives  flagged negatives   (FPR, TPR)
#   inf          0                  0            (0,    0)
#   0.9          1                  0            (0,    1/4)
#   0.8          2                  1            (1/4,  2/4)    the tie 0.8 adds one of each at once
#   0.7          3                  1            (1/4,  3/4)
#   0.5          4                  2            (2/4,  1)      the tie 0.5 too
#   0.3          4                  3            (3/4,  1)
#   0.1          4                  4            (1,    1)
#
# Area by trapezoids: 1/4 (1/4 + 2/4)/2 + 1/4 (3/4 + 1)/2 + 1/4 + 1/4 = 3/32 + 7/32 + 8/32 + 8/32 = 13/16.
# As a probability, over the 16 (positive, negative) pairs: 0.9 beats all 4 negatives; 0.8 ties 0.8
# (1/2) and beats 3; 0.7 beats 3; 0.5 ties 0.5 (1/2) and beats 2: 4 + 3.5 + 3 + 2.5 = 13 of 16.
HAND_SCORES = [0.8, 0.1, 0.9, 0.5, 0.3, 0.7, 0.8, 0.5]   # the same examples, shuffled
HAND_LABELS = [0, 0, 1, 1, 0, 1, 1, 0]
HAND_FPR = [0, 0, 1 / 4, 1 / 4, 2 / 4, 3 / 4, 1]
HAND_TPR = [0, 1 / 4, 2 / 4, 3 / 4, 1, 1, 1]
HAND_THRESHOLDS = [np.inf, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1]


def arrays(xp, scores, labels):
    return xp.asarray(scores, dtype=xp.float64), xp.asarray(labels)


def pair_count_auc(scores, labels):
    """Pr(positive outscores negative) + 1/2 Pr(tie), counted over every pair (the Mann-Whitney U / n_pos n_neg)."""
    positives = [s for s, y in zip(scores, labels) if y == 1]
    negatives = [s for s, y in zip(scores, labels) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives))
    return wins / (len(positives) * len(negatives))


def test_roc_curve_matches_the_hand_computed_example(xp):
    fpr, tpr, thresholds = roc_curve(*arrays(xp, HAND_SCORES, HAND_LABELS))
    np.testing.assert_allclose(backend.to_numpy(fpr), HAND_FPR)
    np.testing.assert_allclose(backend.to_numpy(tpr), HAND_TPR)
    np.testing.assert_allclose(backend.to_numpy(thresholds), HAND_THRESHOLDS)


def test_roc_auc_matches_the_hand_computed_example(xp):
    assert roc_auc(*arrays(xp, HAND_SCORES, HAND_LABELS)) == pytest.approx(13 / 16, abs=1e-15)
    assert pair_count_auc(HAND_SCORES, HAND_LABELS) == 13 / 16


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_equals_the_pair_count_with_ties_counted_half(xp, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 60)
    labels[:2] = [0, 1]
    scores = np.round(rng.standard_normal(60) + labels, 1)          # one decimal: many ties, across classes too
    assert len(np.unique(scores)) < 60
    assert roc_auc(*arrays(xp, scores, labels)) == pytest.approx(pair_count_auc(scores, labels), abs=1e-12)


def test_roc_auc_does_not_depend_on_the_order_of_tied_examples(xp):
    scores, labels = np.array(HAND_SCORES), np.array(HAND_LABELS)
    for seed in range(10):
        order = np.random.default_rng(seed).permutation(len(scores))
        assert roc_auc(*arrays(xp, scores[order], labels[order])) == pytest.approx(13 / 16, abs=1e-15)


def test_roc_curve_has_one_point_per_distinct_score(xp):
    scores = [3.0, 3.0, 3.0, 1.0, 1.0, 2.0]
    fpr, tpr, thresholds = roc_curve(*arrays(xp, scores, [1, 0, 0, 1, 0, 1]))
    assert len(fpr) == len(tpr) == len(thresholds) == 3 + 1
    # the three-way tie at 3.0 (1 positive, 2 negatives) is one diagonal step from (0, 0)
    assert (float(fpr[1]), float(tpr[1])) == pytest.approx((2 / 3, 1 / 3))


def test_roc_curve_runs_from_0_0_to_1_1_and_never_goes_down(xp):
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 200)
    labels[:2] = [0, 1]
    fpr, tpr, thresholds = (backend.to_numpy(a) for a in roc_curve(*arrays(xp, rng.standard_normal(200), labels)))
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all() and (np.diff(thresholds) < 0).all()


def test_perfect_reversed_and_constant_scores_give_1_0_and_one_half(xp):
    labels = [0, 0, 0, 1, 1]
    assert roc_auc(*arrays(xp, [0.1, 0.2, 0.3, 0.4, 0.5], labels)) == 1.0
    assert roc_auc(*arrays(xp, [0.5, 0.4, 0.3, 0.2, 0.1], labels)) == 0.0
    assert roc_auc(*arrays(xp, [0.7] * 5, labels)) == 0.5


def test_boolean_labels_and_integer_scores_are_accepted(xp):
    scores = xp.asarray([2, 1, 4, 3])
    expected = pair_count_auc([2, 1, 4, 3], [1, 0, 1, 0])
    assert roc_auc(scores, xp.asarray([True, False, True, False])) == pytest.approx(expected)


@pytest.mark.parametrize("labels, message", [
    ([1, 1, 1], "need both classes"),
    ([0, 0, 0], "need both classes"),
    ([0, 1, 2], "labels must be 0"),
    ([0, 1], "same length"),
])
def test_roc_auc_rejects_bad_labels_with_a_clear_error(xp, labels, message):
    with pytest.raises(ValueError, match=message):
        roc_auc(*arrays(xp, [0.1, 0.2, 0.3], labels))


def test_roc_curve_rejects_two_dimensional_nan_and_non_array_scores(xp):
    with pytest.raises(ValueError, match="roc_curve.*1-D.*shapes \\(2, 2\\) and \\(2, 2\\)"):
        roc_curve(xp.zeros((2, 2)), xp.asarray([[0, 1], [0, 1]]))
    with pytest.raises(ValueError, match="NaN"):
        roc_curve(xp.asarray([0.1, float("nan")]), xp.asarray([0, 1]))
    with pytest.raises(TypeError, match="must be arrays"):
        roc_curve([0.1, 0.2], [0, 1])


def test_threshold_at_fpr_flags_at_most_the_rate_of_normal_scores(xp):
    normal = xp.asarray([0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])     # 10 scores, no ties
    assert threshold_at_fpr(normal, 0.0) == 0.9          # nothing above the largest
    assert threshold_at_fpr(normal, 0.2) == 0.7          # 0.9 and 0.8 lie above
    assert threshold_at_fpr(normal, 0.25) == 0.7         # floor(2.5) = 2
    assert threshold_at_fpr(normal, 0.95) == 0.0
    for rate in (0.0, 0.1, 0.33, 0.5):
        t = threshold_at_fpr(normal, rate)
        assert float((normal > t).mean()) <= rate


def test_threshold_at_fpr_with_ties_flags_fewer_rather_than_more(xp):
    normal = xp.asarray([1.0, 2.0, 2.0, 2.0, 3.0])
    assert threshold_at_fpr(normal, 0.4) == 2.0          # only 3.0 lies above: 20% <= 40%


def test_threshold_at_fpr_rejects_a_rate_outside_0_1(xp):
    with pytest.raises(ValueError, match="rate must be in"):
        threshold_at_fpr(xp.asarray([1.0, 2.0]), 1.0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        threshold_at_fpr(xp.zeros(0), 0.1)
