"""nanoae/analysis/latent.py: interpolation, class means, attribute vectors, path measures, few-label splits.

The references are independent: a loop over t for the straight line, a
rotation in the plane of the two codes for slerp, boolean-mask loops for the
means, hand-computed paths for the smoothness measures.
"""
import math

import numpy as np
import pytest

from nanoae import backend
from nanoae.analysis import latent


def to_np(a):
    return backend.to_numpy(a)


# --- interpolate ------------------------------------------------------------------------

def test_linear_interpolation_matches_the_formula_at_every_step(xp):
    rng = np.random.default_rng(1)
    z0, z1 = rng.standard_normal(5), rng.standard_normal(5)
    path = latent.interpolate(xp.asarray(z0), xp.asarray(z1), 4)
    assert path.shape == (4, 5)
    expected = np.stack([(1 - t) * z0 + t * z1 for t in (0, 1 / 3, 2 / 3, 1)])
    np.testing.assert_allclose(to_np(path), expected, rtol=1e-12, atol=1e-12)


def test_interpolating_a_batch_gives_one_path_per_pair(xp):
    rng = np.random.default_rng(2)
    z0, z1 = rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    for kind in latent.KINDS:
        paths = latent.interpolate(xp.asarray(z0), xp.asarray(z1), 7, kind=kind)
        assert paths.shape == (3, 7, 6)
        for n in range(3):
            single = latent.interpolate(xp.asarray(z0[n]), xp.asarray(z1[n]), 7, kind=kind)
            np.testing.assert_allclose(to_np(paths[n]), to_np(single), rtol=1e-12, atol=1e-12)


def test_slerp_rotates_in_the_plane_of_the_two_codes_at_constant_speed(xp):
    rng = np.random.default_rng(3)
    z0, z1 = rng.standard_normal(8), rng.standard_normal(8)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)                      # equal norms r
    r = np.linalg.norm(z0)
    e1 = z0 / r                                                        # orthonormal basis of the plane
    e2 = z1 - (z1 @ e1) * e1
    e2 /= np.linalg.norm(e2)
    omega = math.acos(z0 @ z1 / r ** 2)
    steps = 6
    expected = np.stack([r * (math.cos(t * omega) * e1 + math.sin(t * omega) * e2)
                         for t in np.linspace(0, 1, steps)])
    path = to_np(latent.interpolate(xp.asarray(z0), xp.asarray(z1), steps, kind="slerp"))
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), r, rtol=1e-12)  # on the sphere, unlike the line


def test_slerp_keeps_the_ends_when_the_norms_differ(xp):
    rng = np.random.default_rng(4)
    z0, z1 = rng.standard_normal(4), 3 * rng.standard_normal(4)
    path = to_np(latent.interpolate(xp.asarray(z0), xp.asarray(z1), 5, kind="slerp"))
    np.testing.assert_allclose(path[0], z0, atol=1e-12)
    np.testing.assert_allclose(path[-1], z1, atol=1e-12)


def test_slerp_of_parallel_codes_is_the_straight_line_without_nan(xp):
    z0 = np.array([1.0, -2.0, 0.5])
    for z1 in (2 * z0, z0.copy()):
        path = to_np(latent.interpolate(xp.asarray(z0), xp.asarray(z1), 5, kind="slerp"))
        line = to_np(latent.interpolate(xp.asarray(z0), xp.asarray(z1), 5))
        np.testing.assert_allclose(path, line, atol=1e-12)


def test_interpolate_rejects_bad_inputs_with_a_clear_error():
    z = np.zeros(3)
    with pytest.raises(ValueError, match=r"interpolate: z0 and z1 must have the same shape, got \(3,\) and \(4,\)"):
        latent.interpolate(z, np.zeros(4), 5)
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        latent.interpolate(z, z, 1)
    with pytest.raises(ValueError, match="kind must be one of"):
        latent.interpolate(z, z, 5, kind="cubic")
    with pytest.raises(ValueError, match="z0 must be an array of codes"):
        latent.interpolate([0.0, 1.0], z, 5)
    with pytest.raises(ValueError, match="slerp needs nonzero codes"):
        latent.interpolate(z, np.ones(3), 5, kind="slerp")


# --- class means and attribute vectors --------------------------------------------------------

def test_class_means_match_a_loop_over_the_classes(xp):
    rng = np.random.default_rng(5)
    codes, labels = rng.standard_normal((40, 3)), rng.integers(0, 4, 40)
    labels[:4] = np.arange(4)                                          # every class present
    means = to_np(latent.class_means(xp.asarray(codes), xp.asarray(labels)))
    expected = np.stack([codes[labels == c].mean(axis=0) for c in range(4)])
    np.testing.assert_allclose(means, expected, rtol=1e-12)


def test_class_means_name_an_empty_class():
    codes, labels = np.zeros((3, 2)), np.array([0, 0, 2])
    with pytest.raises(ValueError, match=r"no example of class \[1\]"):
        latent.class_means(codes, labels)
    with pytest.raises(ValueError, match=r"no example of class \[1, 3\]"):
        latent.class_means(codes, labels, num_classes=4)
    with pytest.raises(ValueError, match="label 2 but num_classes=2"):
        latent.class_means(codes, labels, num_classes=2)
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        latent.class_means(codes, np.array([0, 1]))


def test_attribute_vector_is_target_mean_minus_source_mean(xp):
    rng = np.random.default_rng(6)
    codes, labels = rng.standard_normal((30, 4)), np.repeat([0, 1, 2], 10)
    v = to_np(latent.attribute_vector(xp.asarray(codes), xp.asarray(labels), source=2, target=0))
    np.testing.assert_allclose(v, codes[:10].mean(axis=0) - codes[20:].mean(axis=0), rtol=1e-12)
    moved = codes[20:] + v                                             # the source class, moved
    np.testing.assert_allclose(moved.mean(axis=0), codes[:10].mean(axis=0), rtol=1e-12)


def test_attribute_vector_names_a_missing_class():
    with pytest.raises(ValueError, match="no example has the target label 5"):
        latent.attribute_vector(np.zeros((2, 3)), np.array([0, 1]), source=0, target=5)
    with pytest.raises(TypeError, match="labels must be integer classes"):
        latent.attribute_vector(np.zeros((2, 3)), np.array([0.0, 1.0]), source=0, target=1)


# --- path measures ------------------------------------------------------------------------------

def test_an_evenly_spaced_straight_path_has_smoothness_and_detour_one(xp):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(10), rng.standard_normal(10)
    path = xp.asarray(np.stack([(1 - t) * a + t * b for t in np.linspace(0, 1, 9)]))
    assert latent.path_smoothness(path) == pytest.approx(1.0, abs=1e-12)
    assert latent.detour_ratio(path) == pytest.approx(1.0, abs=1e-12)


def test_a_path_that_jumps_in_one_step_has_smoothness_steps_minus_one():
    a, b = np.zeros(4), np.array([3.0, 0.0, 4.0, 0.0])
    path = np.stack([a, a, b, b, b])                                   # steps 0, 5, 0, 0
    np.testing.assert_allclose(latent.step_lengths(path), [0, 5, 0, 0])
    assert latent.path_smoothness(path) == pytest.approx(4.0)
    assert latent.detour_ratio(path) == pytest.approx(1.0)


def test_detour_ratio_of_a_path_around_a_corner_by_hand():
    path = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0]])              # 3 + 4 along, 5 straight
    assert latent.detour_ratio(path) == pytest.approx(7 / 5)
    assert latent.path_smoothness(path) == pytest.approx(4 / 3.5)


def test_path_measures_of_a_batch_give_one_number_per_path():
    rng = np.random.default_rng(8)
    paths = rng.standard_normal((3, 5, 6))
    smooth, detour = latent.path_smoothness(paths), latent.detour_ratio(paths)
    assert smooth.shape == detour.shape == (3,)
    for n in range(3):
        assert smooth[n] == pytest.approx(latent.path_smoothness(paths[n]))
        assert detour[n] == pytest.approx(latent.detour_ratio(paths[n]))


def test_path_measures_reject_a_single_image_and_a_closed_path():
    with pytest.raises(ValueError, match=r"step_lengths: expected a path .* got \(1, 4\)"):
        latent.path_smoothness(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="starts and ends at the same image"):
        latent.detour_ratio(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]))


# --- few_labels_split -------------------------------------------------------------------------------

def test_few_labels_split_picks_per_class_distinct_examples_of_each_class():
    labels = np.random.default_rng(9).integers(0, 5, 200)
    idx = latent.few_labels_split(labels, 7, np.random.default_rng(0))
    assert idx.shape == (35,)
    assert len(set(idx.tolist())) == 35
    np.testing.assert_array_equal(labels[idx], np.repeat(np.arange(5), 7))


def test_few_labels_split_is_fixed_by_the_generator_and_changes_with_its_seed():
    labels = np.repeat(np.arange(3), 50)
    first = latent.few_labels_split(labels, 10, np.random.default_rng(1))
    again = latent.few_labels_split(labels, 10, np.random.default_rng(1))
    other = latent.few_labels_split(labels, 10, np.random.default_rng(2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, np.concatenate([np.arange(c * 50, c * 50 + 10) for c in range(3)]))


def test_few_labels_split_names_a_class_with_too_few_examples():
    with pytest.raises(ValueError, match="class 1 has 2 examples, fewer than per_class=3"):
        latent.few_labels_split(np.array([0, 0, 0, 1, 1]), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="per_class must be a positive integer"):
        latent.few_labels_split(np.array([0, 1]), 0, np.random.default_rng(0))
