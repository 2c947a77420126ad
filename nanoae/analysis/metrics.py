"""How well a score separates two classes: the ROC curve and the area under it.

A detector gives every example a score, higher meaning "more likely positive"
(for anomaly detection: more anomalous), and flags the examples whose score
reaches a threshold t. With labels 1 (positive) and 0 (negative),

    TPR(t) = #{positives with score >= t} / #positives     (true-positive rate, recall)
    FPR(t) = #{negatives with score >= t} / #negatives     (false-positive rate)

Lowering t from +inf to the smallest score moves the point (FPR, TPR) from
(0, 0) to (1, 1): that path is the ROC curve. Examples with equal scores are
flagged together, so the curve has one point per distinct score, and a group
of tied positives and negatives moves it along a diagonal segment.

The area under the curve (AUC) is a probability (Hanley & McNeil 1982). Draw
a positive P and a negative N at random; then

    AUC = Pr(score(P) > score(N)) + 1/2 Pr(score(P) = score(N)),

the Mann-Whitney statistic U divided by n_pos n_neg. So 1 means every positive
outscores every negative, 0.5 is a coin toss, 0 is a perfectly reversed score.
The trapezoid rule on the ROC points gives exactly this number: a tie group's
diagonal segment adds half of the pairs it contains.

Scores and labels may be NumPy or CuPy arrays; the array module comes from them.
"""
from nanoae import backend


def _check(scores, labels, name):
    """scores (N,) and labels (N,) of 0/1 (or bools) with both classes present; returns xp."""
    if not (backend.is_array(scores) and backend.is_array(labels)):
        raise TypeError(f"{name}: scores and labels must be arrays, got {type(scores).__name__} "
                        f"and {type(labels).__name__}")
    xp = backend.get_array_module(scores, labels)
    if scores.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(f"{name}: scores and labels must be 1-D arrays of the same length, got shapes "
                         f"{scores.shape} and {labels.shape}")
    if not bool(xp.isfinite(scores).all()):
        raise ValueError(f"{name}: the scores contain NaN or infinite values")
    if not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError(f"{name}: labels must be 0 (negative, normal) or 1 (positive, anomaly)")
    n_pos = int((labels == 1).sum())
    if n_pos == 0 or n_pos == len(labels):
        raise ValueError(f"{name}: need both classes, got {n_pos} positives and {len(labels) - n_pos} "
                         f"negatives: the ROC curve divides by both counts")
    return xp


def roc_curve(scores, labels):
    """The ROC curve of ``scores`` (N,) against ``labels`` (N,) (1 positive, 0 negative).

    Returns ``(fpr, tpr, thresholds)``, three arrays of length (number of
    distinct scores + 1). ``thresholds`` runs from +inf (nothing flagged, the
    point (0, 0)) down through every distinct score, and point k is what
    flagging every score >= thresholds[k] gives; the last point is (1, 1).
    """
    xp = _check(scores, labels, "roc_curve")
    scores = scores.astype(xp.float64)
    order = xp.argsort(-scores)                                # highest score first
    sorted_scores = scores[order]                              # (N,)
    positive = (labels[order] == 1).astype(xp.float64)         # (N,)
    tp = xp.cumsum(positive)                                   # tp[k]: positives among the k+1 highest
    fp = xp.cumsum(1 - positive)                               # fp[k]: negatives among them
    # A threshold can only sit between different scores: keep the last index of each group of ties.
    last_of_group = xp.concatenate([sorted_scores[1:] != sorted_scores[:-1], xp.ones(1, dtype=bool)])
    zero = xp.zeros(1)
    fpr = xp.concatenate([zero, fp[last_of_group] / fp[-1]])
    tpr = xp.concatenate([zero, tp[last_of_group] / tp[-1]])
    thresholds = xp.concatenate([xp.full(1, xp.inf), sorted_scores[last_of_group]])
    return fpr, tpr, thresholds


def roc_auc(scores, labels):
    """The area under the ROC curve, by the trapezoid rule, as a Python float.

    AUC = sum_k (FPR_k+1 - FPR_k) (TPR_k + TPR_k+1) / 2, which equals the
    probability that a random positive outscores a random negative, ties
    counted as one half (module docstring).
    """
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2).sum())


def threshold_at_fpr(normal_scores, rate):
    """The threshold that flags at most a fraction ``rate`` of normal examples.

    An example is flagged when its score is strictly greater than the
    threshold t. With the normal scores sorted from high to low,
    s_1 >= s_2 >= ... >= s_n, and k = floor(rate * n), t = s_(k+1): at most k
    normal scores lie above it (exactly k without ties), so the false-positive
    rate on these normal examples is at most ``rate``, and no lower threshold
    taken from them keeps it so. ``rate`` is in [0, 1).
    """
    if not backend.is_array(normal_scores) or normal_scores.ndim != 1 or len(normal_scores) == 0:
        raise ValueError(f"threshold_at_fpr: normal_scores must be a non-empty 1-D array, got "
                         f"{getattr(normal_scores, 'shape', type(normal_scores).__name__)}")
    if not 0 <= rate < 1:
        raise ValueError(f"threshold_at_fpr: rate must be in [0, 1), got {rate!r}")
    xp = backend.get_array_module(normal_scores)
    descending = xp.sort(normal_scores)[::-1]
    k = int(rate * len(normal_scores))
    return float(descending[k])
