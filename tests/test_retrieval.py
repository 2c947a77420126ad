"""nanoae.analysis.retrieval: nearest neighbours by linear scan, and precision at k."""
import numpy as np
import pytest

from nanoae.analysis.hashing import HashIndex
from nanoae.analysis.retrieval import nearest_neighbours, precision_at_k, precision_at_ks, precision_per_query


def test_euclidean_neighbours_match_sorting_all_distances_across_chunks():
    rng = np.random.default_rng(0)
    database, queries = rng.standard_normal((120, 7)), rng.standard_normal((23, 7))
    distances = np.sqrt(((queries[:, None, :] - database[None, :, :]) ** 2).sum(axis=2))   # (23, 120)
    indices, got = nearest_neighbours(queries, database, 9, chunk_size=5, return_distances=True)
    np.testing.assert_array_equal(indices, np.argsort(distances, axis=1)[:, :9])
    np.testing.assert_allclose(got, np.sort(distances, axis=1)[:, :9], rtol=1e-4, atol=1e-4)


def test_a_query_in_the_database_finds_itself_first():
    database = np.random.default_rng(1).random((50, 4)).astype(np.float32)
    assert nearest_neighbours(database[[3, 40]], database, 1).ravel().tolist() == [3, 40]


def test_hamming_neighbours_break_ties_by_lower_index_like_the_hash_index():
    rng = np.random.default_rng(2)
    database, queries = (rng.random((200, 6)) < 0.5).astype(np.uint8), (rng.random((12, 6)) < 0.5).astype(np.uint8)
    distances = (queries[:, None, :] != database[None, :, :]).sum(axis=2)
    indices, got = nearest_neighbours(queries, database, 30, metric="hamming", chunk_size=7, return_distances=True)
    np.testing.assert_array_equal(indices, np.argsort(distances, axis=1, kind="stable")[:, :30])
    np.testing.assert_array_equal(got, np.sort(distances, axis=1)[:, :30])
    index = HashIndex(database)
    assert all(index.query(q, 30).tolist() == row.tolist() for q, row in zip(queries, indices))


def test_nearest_neighbours_rejects_a_bad_k_metric_or_width():
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 5\]"):
        nearest_neighbours(x, x, 6)
    with pytest.raises(ValueError, match="metric must be one of"):
        nearest_neighbours(x, x, 1, metric="cosine")
    with pytest.raises(ValueError, match=r"queries \(5, 2\) and database \(5, 3\)"):
        nearest_neighbours(np.zeros((5, 2)), x, 1)


def test_precision_at_k_by_hand():
    retrieved = np.array([[1, 1, 0, 2], [3, 0, 0, 0], [2, 2, 2, 2]])
    queries = np.array([1, 0, 5])
    np.testing.assert_allclose(precision_per_query(retrieved, queries), [0.5, 0.75, 0.0])
    assert precision_at_k(retrieved, queries) == pytest.approx((0.5 + 0.75 + 0.0) / 3)


def test_precision_at_ks_reads_the_first_k_neighbours():
    database_labels = np.array([0, 1, 1, 0, 2])
    neighbours = np.array([[1, 2, 0, 4], [3, 0, 1, 2]])             # nearest first
    assert precision_at_ks(neighbours, database_labels, np.array([1, 0]), (1, 2, 4)) == \
        pytest.approx({1: 1.0, 2: 1.0, 4: (2 / 4 + 2 / 4) / 2})


def test_precision_rejects_labels_that_do_not_match_the_queries():
    with pytest.raises(ValueError, match=r"query_labels of shape \(2,\).*\(2, 3\).*\(3,\)"):
        precision_at_k(np.zeros((2, 3)), np.zeros(3))
