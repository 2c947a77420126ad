"""The chapter 09 graders (nanoae/exercises/ch09_latent.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake; each also passes a second, different
correct answer, so it does not demand one way of writing it, and fails the
package's own function, which would do the exercise for the student.
"""
import fractions

import numpy as np

from nanoae.analysis import latent
from nanoae.exercises import ch09_latent as graders
from grading_asserts import assert_fails_naming


# --- slerp -------------------------------------------------------------------------------

def angle(z0, z1):
    return np.arccos(np.clip(z0 @ z1 / (np.linalg.norm(z0) * np.linalg.norm(z1)), -1, 1))


def test_slerp_grader_passes_a_rotation_from_z0_towards_z1():
    def rotated(z0, z1, t):                         # cos(t w) z0 plus sin(t w) along z1's part orthogonal to z0
        w = angle(z0, z1)
        return np.cos(t * w) * z0 + np.sin(t * w) * (z1 - np.cos(w) * z0) / np.sin(w)
    assert graders.grade_slerp(rotated).passed


def test_slerp_grader_fails_a_straight_line():
    assert_fails_naming(graders.grade_slerp(lambda z0, z1, t: (1 - t) * z0 + t * z1), "straight line")


def test_slerp_grader_fails_swapped_weights():
    def swapped(z0, z1, t):
        w = angle(z0, z1)
        return (np.sin(t * w) * z0 + np.sin((1 - t) * w) * z1) / np.sin(w)
    assert_fails_naming(graders.grade_slerp(swapped), "weights are swapped")


def test_slerp_grader_fails_a_missing_division_by_sin_omega():
    def undivided(z0, z1, t):
        w = angle(z0, z1)
        return np.sin((1 - t) * w) * z0 + np.sin(t * w) * z1
    assert_fails_naming(graders.grade_slerp(undivided), "division by sin(w) is missing")


def test_slerp_grader_fails_an_answer_on_the_unit_sphere():
    def normalized(z0, z1, t):
        u0, u1 = z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1)
        w = angle(z0, z1)
        return (np.sin((1 - t) * w) * u0 + np.sin(t * w) * u1) / np.sin(w)
    assert_fails_naming(graders.grade_slerp(normalized), "unit sphere")


def test_slerp_grader_fails_an_angle_in_degrees():
    def degrees(z0, z1, t):
        w = np.degrees(angle(z0, z1))
        return (np.sin((1 - t) * w) * z0 + np.sin(t * w) * z1) / np.sin(w)
    assert_fails_naming(graders.grade_slerp(degrees), "your slerp", "relative error")


# --- attribute_vector ------------------------------------------------------------------------------

def test_attribute_vector_grader_passes_means_taken_with_one_hot_rows():
    def one_hot(codes, labels, source, target):
        rows = (labels[None, :] == np.array([target, source])[:, None]).astype(float)   # (2, N)
        means = rows @ codes / rows.sum(axis=1, keepdims=True)                          # (2, J)
        return means[0] - means[1]
    assert graders.grade_attribute_vector(one_hot).passed


def test_attribute_vector_grader_fails_the_wrong_direction():
    def backwards(codes, labels, source, target):
        return codes[labels == source].mean(axis=0) - codes[labels == target].mean(axis=0)
    assert_fails_naming(graders.grade_attribute_vector(backwards), "sign is wrong")


def test_attribute_vector_grader_fails_sums_instead_of_means():
    def sums(codes, labels, source, target):
        return codes[labels == target].sum(axis=0) - codes[labels == source].sum(axis=0)
    assert_fails_naming(graders.grade_attribute_vector(sums), "summed the codes")


def test_attribute_vector_grader_fails_the_mean_of_all_codes_as_the_start():
    def global_mean(codes, labels, source, target):
        return codes[labels == target].mean(axis=0) - codes.mean(axis=0)
    assert_fails_naming(graders.grade_attribute_vector(global_mean), "mean of all codes")


def test_attribute_vector_grader_fails_a_mean_over_the_wrong_axis():
    def wrong_axis(codes, labels, source, target):
        return codes[labels == target].mean(axis=1) - codes[labels == source].mean(axis=1).mean()
    assert_fails_naming(graders.grade_attribute_vector(wrong_axis), "has shape", "axis 0")


# --- few_labels_split ------------------------------------------------------------------------------

def test_few_labels_split_grader_passes_a_shuffled_answer_in_another_order():
    def shuffle_then_take(labels, per_class, rng):
        order = rng.permutation(len(labels))                    # walk a random order, keep the first per class
        taken = {c: [] for c in range(labels.max() + 1)}
        for i in order:
            if len(taken[labels[i]]) < per_class:
                taken[labels[i]].append(i)
        return np.sort(np.concatenate([taken[c] for c in taken]))
    assert graders.grade_few_labels_split(shuffle_then_take).passed


def test_few_labels_split_grader_fails_the_first_examples_of_each_class():
    def first(labels, per_class, rng):
        return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(labels.max() + 1)])
    assert_fails_naming(graders.grade_few_labels_split(first), "every seed gave the same split")


def test_few_labels_split_grader_fails_draws_with_replacement():
    def with_repeats(labels, per_class, rng):
        return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class) for c in range(labels.max() + 1)])
    assert_fails_naming(graders.grade_few_labels_split(with_repeats), "picked twice", "replace=False")


def test_few_labels_split_grader_fails_the_global_numpy_generator():
    def global_rng(labels, per_class, rng):
        return np.concatenate([np.random.choice(np.flatnonzero(labels == c), per_class, replace=False)
                               for c in range(labels.max() + 1)])
    assert_fails_naming(graders.grade_few_labels_split(global_rng), "same seed gave different splits")


def test_few_labels_split_grader_fails_per_class_examples_in_all():
    def in_all(labels, per_class, rng):
        return rng.choice(len(labels), per_class, replace=False)
    assert_fails_naming(graders.grade_few_labels_split(in_all), "for EACH class")


def test_few_labels_split_grader_fails_a_split_that_ignores_the_classes():
    def any_class(labels, per_class, rng):
        return rng.choice(len(labels), per_class * (labels.max() + 1), replace=False)
    assert_fails_naming(graders.grade_few_labels_split(any_class), "expected 6 of each")


def test_few_labels_split_grader_fails_a_random_block_of_neighbours():
    def block(labels, per_class, rng):                         # random, but never picks two far-apart members
        chosen = []
        for c in range(labels.max() + 1):
            members = np.flatnonzero(labels == c)
            start = rng.integers(0, len(members) - per_class + 1)
            chosen.append(members[start:start + per_class])
        return np.concatenate(chosen)
    assert_fails_naming(graders.grade_few_labels_split(block), "same chance")


def test_few_labels_split_grader_fails_a_boolean_mask():
    def mask(labels, per_class, rng):
        chosen = np.zeros(len(labels), dtype=bool)
        for c in range(labels.max() + 1):
            chosen[rng.choice(np.flatnonzero(labels == c), per_class, replace=False)] = True
        return chosen
    assert_fails_naming(graders.grade_few_labels_split(mask), "not a boolean mask")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_slerp_grader_fails_the_packages_interpolation_read_at_t():
    def from_package(z0, z1, t):                    # t = k / n, the k-th of n + 1 evenly spaced steps
        step = fractions.Fraction(t).limit_denominator(100)
        path = latent.interpolate(z0, z1, step.denominator + 1, kind="slerp")
        return path[step.numerator]
    assert_fails_naming(graders.grade_slerp(from_package), "calls nanoae.analysis.latent.interpolate")


def test_attribute_vector_grader_fails_the_packages_attribute_vector():
    assert_fails_naming(graders.grade_attribute_vector(latent.attribute_vector),
                        "calls nanoae.analysis.latent.attribute_vector")


def test_attribute_vector_grader_fails_the_packages_class_means():
    def from_class_means(codes, labels, source, target):
        means = latent.class_means(codes, labels)
        return means[target] - means[source]
    assert_fails_naming(graders.grade_attribute_vector(from_class_means), "calls nanoae.analysis.latent.class_means")


def test_few_labels_split_grader_fails_the_packages_split():
    assert_fails_naming(graders.grade_few_labels_split(latent.few_labels_split),
                        "calls nanoae.analysis.latent.few_labels_split")
