"""Codebook health and code lengths (nanoae/analysis/codebook.py) against values worked out by hand."""
import math

import numpy as np
import pytest

from nanoae import Tensor
from nanoae.analysis import codebook


def test_code_counts_count_each_code_of_a_grid_and_keep_unused_ones():
    codes = np.array([[[0, 2], [2, 2]], [[4, 0], [2, 4]]])            # (2, 2, 2)
    np.testing.assert_array_equal(codebook.code_counts(codes, 6), [2, 0, 4, 0, 2, 0])
    np.testing.assert_array_equal(codebook.code_counts(Tensor(codes), 6), [2, 0, 4, 0, 2, 0])


def test_code_counts_refuse_a_code_outside_the_codebook():
    with pytest.raises(ValueError, match=r"in \[0, 4\), got 0..4"):
        codebook.code_counts(np.array([0, 4]), 4)


def test_perplexity_is_k_for_equal_use_1_for_one_code_and_exp_entropy_between():
    assert codebook.perplexity(np.array([5, 5, 5, 5])) == pytest.approx(4.0)
    assert codebook.perplexity(np.array([0, 9, 0, 0])) == pytest.approx(1.0)
    # p = (1/2, 1/4, 1/4): H = 1/2 log 2 + 2 * 1/4 log 4 = 1.5 log 2, perplexity 2^1.5
    assert codebook.perplexity(np.array([2, 1, 1, 0, 0])) == pytest.approx(2 ** 1.5)


def test_dead_codes_and_their_share_and_the_health_summary():
    counts = np.array([3, 0, 1, 0, 0, 4])
    np.testing.assert_array_equal(codebook.dead_codes(counts), [1, 3, 4])
    assert codebook.dead_share(counts) == 0.5
    health = codebook.codebook_health(counts)
    assert health["used"] == 3 and health["dead"] == 3 and health["dead_share"] == 0.5
    assert 1 < health["perplexity"] < 3


def test_usage_of_no_counts_at_all_is_an_error():
    with pytest.raises(ValueError, match="no code"):
        codebook.usage(np.zeros(4, dtype=int))


def test_bits_per_image_is_places_times_log2_of_the_codebook_size():
    assert codebook.bits_per_image((7, 7), 512) == 441
    assert codebook.bits_per_image((2, 3), 10) == pytest.approx(6 * math.log2(10))


def test_quantize_uniformly_uses_2_to_the_bits_levels_and_errs_by_at_most_half_a_step():
    x = np.random.default_rng(0).uniform(-2, 3, (500, 3)).astype("float32")
    rounded = codebook.quantize_uniformly(x, 3, low=-2.0, high=3.0)
    levels = np.unique(rounded)
    assert len(levels) == 8 and rounded.dtype == np.float32
    np.testing.assert_allclose(levels, np.linspace(-2, 3, 8), rtol=1e-6)
    assert np.abs(rounded - x).max() <= 5 / 7 / 2 + 1e-6


def test_quantize_uniformly_clips_to_the_range_and_takes_one_range_per_column():
    x = np.array([[-5.0, 0.75], [5.0, 0.25]])
    rounded = codebook.quantize_uniformly(x, 1, low=np.array([-1.0, 0.0]), high=np.array([1.0, 1.0]))
    np.testing.assert_array_equal(rounded, [[-1.0, 1.0], [1.0, 0.0]])   # 1 bit: the two ends of each range


def test_quantize_uniformly_refuses_a_fractional_number_of_bits():
    with pytest.raises(ValueError, match="positive integer"):
        codebook.quantize_uniformly(np.zeros((2, 2)), 2.5, 0.0, 1.0)
