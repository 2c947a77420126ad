"""The chapter 08 graders (nanoae/exercises/ch08_hashing.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import itertools

import numpy as np

from nanoae.analysis import hashing, retrieval
from nanoae.exercises import ch08_hashing as graders
from grading_asserts import assert_fails_naming


# --- hamming_distance -------------------------------------------------------------------------

def signs(bits):
    return 2.0 * bits - 1


def test_hamming_grader_fails_counting_agreements():
    def agreements(a, b):
        return (a[:, None, :] == b[None, :, :]).sum(axis=2)
    assert_fails_naming(graders.grade_hamming_distance(agreements), "AGREE")


def test_hamming_grader_fails_a_missing_half():
    assert_fails_naming(graders.grade_hamming_distance(lambda a, b: a.shape[1] - signs(a) @ signs(b).T),
                        "divide by 2")


def test_hamming_grader_fails_a_product_of_the_0_1_bits():
    assert_fails_naming(graders.grade_hamming_distance(lambda a, b: (a.shape[1] - 1.0 * a @ b.T) / 2),
                        "signs s = 2 bits - 1")


def test_hamming_grader_fails_the_raw_sign_product():
    assert_fails_naming(graders.grade_hamming_distance(lambda a, b: signs(a) @ signs(b).T),
                        "agreements minus disagreements")


def test_hamming_grader_fails_a_transposed_answer():
    def transposed(a, b):
        return (b[:, None, :] != a[None, :, :]).sum(axis=2)      # (N, M)
    assert_fails_naming(graders.grade_hamming_distance(transposed), "transpose")


# --- codes_within_radius ------------------------------------------------------------------------

def ball(code, distances):
    codes = []
    for d in distances:
        for positions in itertools.combinations(range(len(code)), d):
            flipped = code.copy()
            flipped[list(positions)] ^= 1
            codes.append(flipped)
    return np.array(codes).reshape(-1, len(code))


def test_radius_grader_fails_an_exclusive_radius():
    assert_fails_naming(graders.grade_codes_within_radius(lambda code, r: ball(code, range(r))),
                        "distance <= radius")


def test_radius_grader_fails_one_bit_too_far():
    assert_fails_naming(graders.grade_codes_within_radius(lambda code, r: ball(code, range(min(r + 1, len(code)) + 1))),
                        "one bit too far")


def test_radius_grader_fails_only_the_codes_at_exactly_the_radius():
    assert_fails_naming(graders.grade_codes_within_radius(lambda code, r: ball(code, [r])), "exactly radius")


def test_radius_grader_fails_a_missing_centre():
    assert_fails_naming(graders.grade_codes_within_radius(lambda code, r: ball(code, range(1, r + 1))),
                        "code itself")


def test_radius_grader_fails_duplicates_from_flipping_a_bit_twice():
    def with_repeats(code, r):
        codes = []
        for positions in itertools.product(range(len(code)), repeat=r):   # ordered, with repeats
            flipped = code.copy()
            for j in positions:
                flipped[j] ^= 1
            codes.append(flipped)
        return np.array(codes).reshape(-1, len(code))
    assert_fails_naming(graders.grade_codes_within_radius(with_repeats), "times", "each code once")


def test_radius_grader_fails_a_flat_list_of_bits():
    assert_fails_naming(graders.grade_codes_within_radius(lambda code, r: ball(code, range(r + 1)).ravel()),
                        "one code per row")


# --- precision_at_k -------------------------------------------------------------------------------

def precision(distances, labels, k, start=1, stop=None, axis=1, reverse=False):
    order = np.argsort(distances, axis=1)                    # item itself first (distance 0)
    if reverse:
        order = order[:, ::-1]
    nearest = order[:, start:(start + k) if stop is None else stop]
    return (labels[nearest] == labels[:, None]).sum(axis=1) / k if axis == 1 else \
        (labels[nearest] == labels[:, None]).mean(axis=0)


def test_precision_grader_fails_counting_the_query_itself():
    assert_fails_naming(graders.grade_precision_at_k(lambda d, y, k: precision(d, y, k, start=0)),
                        "counted the item itself")


def test_precision_grader_fails_k_plus_one_neighbours():
    assert_fails_naming(graders.grade_precision_at_k(lambda d, y, k: precision(d, y, k, stop=k + 2)),
                        "k + 1 neighbours")


def test_precision_grader_fails_k_plus_one_neighbours_averaged():
    def averaged(d, y, k):
        nearest = np.argsort(d, axis=1)[:, 1:k + 2]             # k + 1 others
        return (y[nearest] == y[:, None]).mean(axis=1)
    assert_fails_naming(graders.grade_precision_at_k(averaged), "k + 1 neighbours")


def test_precision_grader_fails_k_minus_one_neighbours():
    assert_fails_naming(graders.grade_precision_at_k(lambda d, y, k: precision(d, y, k, stop=k)),
                        "k - 1 neighbours")


def test_precision_grader_fails_a_mean_over_the_wrong_axis():
    assert_fails_naming(graders.grade_precision_at_k(lambda d, y, k: precision(d, y, k, axis=0)),
                        "averaged over the items (axis 0)")


def test_precision_grader_fails_the_farthest_items():
    assert_fails_naming(graders.grade_precision_at_k(lambda d, y, k: precision(d, y, k, start=0, reverse=True)),
                        "FARTHEST")


def test_precision_grader_fails_one_number_for_all_items():
    assert_fails_naming(graders.grade_precision_at_k(lambda d, y, k: precision(d, y, k).mean()),
                        "one precision per item")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_hamming_grader_fails_the_library_hamming_distance():
    assert_fails_naming(graders.grade_hamming_distance(hashing.hamming_distance),
                        "calls nanoae.analysis.hashing.hamming_distance")


def by_flip_masks(code, radius):
    """The ball from the hash table's masks: XOR the code's bucket number with every mask of up to radius bits."""
    key = int(hashing.code_keys(code[None])[0])
    masks = [mask for d in range(radius + 1) for mask in hashing.flip_masks(len(code), d)]
    return np.array([[((key ^ mask) >> j) & 1 for j in range(len(code))] for mask in masks])


def test_radius_grader_fails_the_hash_tables_flip_masks_even_when_they_are_cached():
    for _ in range(2):        # the second time, flip_masks holds every answer in its cache
        assert_fails_naming(graders.grade_codes_within_radius(by_flip_masks),
                            "calls nanoae.analysis.hashing.flip_masks")


def test_radius_grader_fails_a_lookup_in_a_hash_table_of_every_code():
    def by_lookup(code, radius):
        every_code = np.array(list(itertools.product((0, 1), repeat=len(code))), dtype=np.uint8)
        return every_code[hashing.HashIndex(every_code).lookup(code, radius)]
    assert_fails_naming(graders.grade_codes_within_radius(by_lookup), "calls nanoae.analysis.hashing.HashIndex.lookup")


def test_precision_grader_fails_the_library_precision_per_query():
    def by_the_library(distances, labels, k):
        nearest = np.argsort(distances + np.diag(np.full(len(labels), np.inf)), axis=1)[:, :k]
        return retrieval.precision_per_query(labels[nearest], labels)
    assert_fails_naming(graders.grade_precision_at_k(by_the_library),
                        "calls nanoae.analysis.retrieval.precision_per_query")
