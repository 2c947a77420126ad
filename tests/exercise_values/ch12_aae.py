"""The values the chapter 12 graders compare against, from the formulas (instructors' side).

Each public function takes a case number, builds the grader's own inputs for
it, and returns {"expected": the right answer, "mistake/<name>": the answer of
that common mistake}; ``python tests/exercise_values/write.py ch12_aae``
stores them in nanoae/exercises/values/ch12_aae.npz.

A logit d > 0 means "drawn from the prior"; softplus(t) = log(1 + e^t), so the
binary cross-entropy of a logit t is softplus(-t) against label 1 and
softplus(t) against label 0:

    discriminator loss  = 1/B1 sum softplus(-d_real) + 1/B2 sum softplus(d_fake)
    generator loss      = 1/B2 sum softplus(-d_fake)          (non-saturating)

The mixture prior is k Gaussians N(mean_j, std^2 I), mean_j = radius (cos 2 pi j / k, sin 2 pi j / k),
each chosen with probability 1/k. Its grader checks draws, so what is stored is
the ring of means (against which it compares the centre of each component's
draws) and the spread of the draws around them.
"""
import math

import numpy as np

from nanoae.exercises import ch12_aae as graders


def _softplus(t):
    """log(1 + e^t), without overflow for large t."""
    return np.logaddexp(0.0, t)


def discriminator_loss(case):
    d_real, d_fake = graders.discriminator_inputs(case)
    real_term, fake_term = _softplus(-d_real), _softplus(d_fake)             # per example
    expected = real_term.mean() + fake_term.mean()
    return {
        "expected": expected,
        "mistake/labels_swapped": _softplus(d_real).mean() + _softplus(-d_fake).mean(),
        "mistake/terms_averaged": 0.5 * expected,
        "mistake/one_mean_over_both": (real_term.sum() + fake_term.sum()) / (len(d_real) + len(d_fake)),
        "mistake/summed": real_term.sum() + fake_term.sum(),
        "mistake/no_fake_term": real_term.mean(),
        "mistake/no_real_term": fake_term.mean(),
        "mistake/negated": -expected,
        "mistake/both_label_one": _softplus(-d_real).mean() + _softplus(-d_fake).mean(),
    }


def generator_loss(case):
    d_fake = graders.generator_inputs(case)
    expected = _softplus(-d_fake).mean()
    return {
        "expected": expected,
        "mistake/saturating": -_softplus(d_fake).mean(),
        "mistake/label_zero": _softplus(d_fake).mean(),
        "mistake/negated": -expected,
        "mistake/summed": _softplus(-d_fake).sum(),
    }


def _ring(k, radius, angle=lambda j, k: 2 * math.pi * j / k, cos_first=True):
    """The k means: radius (cos angle_j, sin angle_j), (k, 2)."""
    a = angle(np.arange(k), k)
    pair = (np.cos(a), np.sin(a)) if cos_first else (np.sin(a), np.cos(a))
    return radius * np.stack(pair, axis=1)


def sample_mixture_prior(case):
    """The means of the k Gaussians, of the right answer and of the usual mistakes, each (k, 2)."""
    _, k, radius, _ = graders.mixture_inputs(case)
    return {
        "expected": _ring(k, radius),
        "mistake/over_k_minus_one": _ring(k, radius, lambda j, k: 2 * math.pi * j / (k - 1)),
        "mistake/no_two_pi": _ring(k, radius, lambda j, k: j / k),
        "mistake/degrees": _ring(k, radius, lambda j, k: 360 * j / k),
        "mistake/unit_circle": _ring(k, 1.0),
        "mistake/radius_squared": _ring(k, radius) * radius,
        "mistake/cos_sin_swapped": _ring(k, radius, cos_first=False),
    }


def sample_mixture_prior_spread(case):
    """The standard deviation of the draws around their means, of the right answer and of the usual mistakes."""
    std = graders.mixture_inputs(case)[3]
    return {
        "expected": std,
        "mistake/std_as_variance": std ** 2,
        "mistake/square_root": math.sqrt(std),
    }
