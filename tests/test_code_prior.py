"""The VQ-VAE's prior over its codes (nanoae/models/code_prior.py): it reads the grid in raster order
and predicts each code from the ones before it only; its loss is the negative log-likelihood written
out; its samples follow the distribution it gives; it learns a dependency between codes."""
import math

import numpy as np
import pytest

import nanoae
from nanoae import backend
from nanoae.models import CodePrior, CodePriorConfig
from nanoae.train import TrainConfig, fit

SMALL = dict(codebook_size=5, grid_shape=(2, 3), embedding_dim=4, hidden_size=6)


def small(**overrides):
    return CodePrior(CodePriorConfig(**{**SMALL, **overrides}))


def grids(n, seed=0, k=5):
    return np.random.default_rng(seed).integers(0, k, (n, 2, 3))


def test_the_prediction_at_each_place_reads_only_the_codes_before_it(xp):
    prior, codes = small(), grids(3)
    before = prior.logits(xp.asarray(codes)).numpy()               # (3, 6, 5)
    changed = codes.copy().reshape(3, 6)
    changed[:, 2] = (changed[:, 2] + 1) % 5                        # the third place, in raster order
    after = prior.logits(xp.asarray(changed)).numpy()
    np.testing.assert_array_equal(after[:, :3], before[:, :3])     # places 1-3 do not see it
    assert not np.allclose(after[:, 3:], before[:, 3:])            # places 4-6 do


def test_loss_is_the_negative_log_likelihood_summed_over_places_and_averaged_over_the_batch(xp):
    prior, codes = small(), grids(4)
    nll, terms = prior.loss(xp.asarray(codes))
    logits = prior.logits(xp.asarray(codes)).numpy().astype("float64")      # (4, 6, 5)
    log_p = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    by_hand = -np.take_along_axis(log_p, codes.reshape(4, 6, 1), axis=2).sum() / 4
    assert nll.item() == pytest.approx(by_hand, rel=1e-5) and terms["nll"] is nll


def test_a_prior_that_knows_nothing_costs_the_plain_length_of_the_code(xp):
    prior = small()
    prior.out.weight.data[...] = 0
    prior.out.bias.data[...] = 0
    nll, _ = prior.loss(xp.asarray(grids(4)))
    assert nll.item() / math.log(2) == pytest.approx(6 * math.log2(5), rel=1e-6)   # T log2 K bits


def test_samples_follow_the_distribution_the_prior_gives(xp):
    prior = small()
    p = np.array([0.1, 0.5, 0.0, 0.3, 0.1])
    prior.out.weight.data[...] = 0                                  # every place: the same p, whatever came before
    prior.out.bias.data[...] = xp.asarray(np.log(np.maximum(p, 1e-30)), dtype="float32")
    backend.manual_seed(1)
    drawn = prior.sample(2000).numpy()
    assert drawn.shape == (2000, 2, 3) and drawn.dtype.kind == "i"
    frequencies = np.bincount(drawn.reshape(-1), minlength=5) / drawn.size
    standard_error = np.sqrt(p * (1 - p) / drawn.size)
    assert (np.abs(frequencies - p) <= 4 * standard_error + 1e-12).all(), frequencies
    cold = prior.sample(50, temperature=0.01).numpy()
    assert (cold == 1).all()                                        # near 0, the most likely code only


def test_it_learns_that_every_place_repeats_the_first_code():
    base = np.random.default_rng(0).integers(0, 5, (256, 1))
    codes = np.repeat(base, 6, axis=1)                              # (256, 6): one code, six times
    prior = small()
    history = fit(prior, codes, codes[:64], TrainConfig(epochs=12, lr=0.03, batch_size=32), progress=False)
    uniform = 6 * math.log(5)
    assert history[0]["test_nll"] < uniform and history[-1]["test_nll"] < 0.25 * uniform
    backend.manual_seed(0)
    drawn = prior.sample(20, temperature=0.5).numpy().reshape(20, 6)
    assert (drawn == drawn[:, :1]).mean() > 0.9


def test_codes_of_the_wrong_length_or_kind_are_refused():
    prior = small()
    with pytest.raises(ValueError, match=r"integer grids of \(2, 3\) \(6 per image\)"):
        prior.loss(np.zeros((4, 5), dtype=int))
    with pytest.raises(ValueError, match="float"):
        prior.loss(nanoae.Tensor(np.zeros((4, 6), dtype="float32")))
