"""nanoae.analysis.probe: the linear classifier learns what a linear classifier can,
does not depend on the scale of the features, and rejects bad input."""
import numpy as np
import pytest

from nanoae.analysis.probe import accuracy, fit_classifier


def blobs(rng, n_per_class, centres, scale=1.0):
    x = np.concatenate([c + rng.standard_normal((n_per_class, len(c))) for c in centres]) * scale
    y = np.repeat(np.arange(len(centres)), n_per_class)
    return x.astype(np.float32), y


def test_separates_well_separated_classes_and_follows_the_labels_it_was_given():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 6 - 2
    x, y = blobs(rng, 40, centres)
    x_test, y_test = blobs(rng, 100, centres)
    assert fit_classifier(x, y).accuracy(x_test, y_test) > 0.95
    relabelled = (y + 1) % 3                                  # the same clusters under other names
    assert fit_classifier(x, relabelled).accuracy(x_test, (y_test + 1) % 3) > 0.95
    assert fit_classifier(x, relabelled).accuracy(x_test, y_test) < 0.05


def test_the_result_does_not_depend_on_the_scale_of_the_features():
    rng = np.random.default_rng(1)
    x, y = blobs(rng, 30, np.eye(4) * 2)
    small = fit_classifier(x, y).predict(x)
    large = fit_classifier(x * 1000 + 5, y).predict(x * 1000 + 5)
    assert (small == large).mean() > 0.97
    assert len(set(small.tolist())) == 4


def test_a_class_never_seen_is_still_a_column_when_num_classes_says_so():
    rng = np.random.default_rng(2)
    x, y = blobs(rng, 10, np.eye(2) * 5)
    clf = fit_classifier(x, y, num_classes=5)
    assert clf(x).shape == (20, 5)
    assert set(clf.predict(x).tolist()) <= {0, 1}


def test_accuracy_counts_matches():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        accuracy(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("features, labels, error, words", [
    (np.zeros(5), np.zeros(5, int), ValueError, r"\(N, D\)"),
    (np.zeros((5, 2)), np.zeros(4, int), ValueError, r"shape \(5,\)"),
    (np.zeros((5, 2)), np.zeros(5), TypeError, "integer"),
])
def test_fit_classifier_rejects_bad_input(features, labels, error, words):
    with pytest.raises(error, match=words):
        fit_classifier(features, labels)


def test_predict_rejects_features_of_another_width():
    rng = np.random.default_rng(3)
    clf = fit_classifier(*blobs(rng, 5, np.eye(2)), epochs=2)
    with pytest.raises(ValueError, match="3 columns.*trained on 2"):
        clf.predict(np.zeros((4, 3), np.float32))
