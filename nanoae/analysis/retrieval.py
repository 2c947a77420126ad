"""Retrieval by linear scan, and how to score it.

Given query rows and database rows, :func:`nearest_neighbours` returns, for
every query, the indices of its k nearest database rows, nearest first. It
scans the whole database (every distance is computed), a chunk of queries
at a time so that the (chunk, N) matrix of distances stays small:

- ``metric="euclidean"``: ||q - x||^2 = ||q||^2 - 2 q . x + ||x||^2, one matrix product per chunk;
- ``metric="hamming"``: rows are 0/1 codes, distances from :func:`nanoae.analysis.hashing.hamming_distance`.

Hamming distances are small integers, so ties are common: they go to the
lower database index, so the answer does not depend on the sort used (and
equals :meth:`nanoae.analysis.hashing.HashIndex.query`). Euclidean ties between
real-valued rows are rare and are broken in no particular order.

A retrieval is scored with the labels: **precision at k** is the fraction of
the k retrieved items that share the query's label, averaged over queries,

    P@k = 1/M sum_m 1/k sum_{i=1..k} [label(neighbour_mi) = label(query_m)].
"""
from nanoae import backend
from nanoae.analysis.hashing import hamming_distance

METRICS = ("euclidean", "hamming")


def nearest_neighbours(queries, database, k, metric="euclidean", chunk_size=500, return_distances=False):
    """The indices (M, k) of the k nearest rows of ``database`` (N, D) to each row of ``queries`` (M, D).

    Row m lists database indices nearest first (Hamming ties: lower index first).
    With ``return_distances=True`` also returns their distances (M, k)
    (Euclidean, not squared; or numbers of differing bits). A query that is
    also in the database finds itself first.
    """
    if metric not in METRICS:
        raise ValueError(f"nearest_neighbours: metric must be one of {METRICS}, got {metric!r}")
    for name, rows in (("queries", queries), ("database", database)):
        if not backend.is_array(rows) or rows.ndim != 2:
            raise ValueError(f"nearest_neighbours: expected {name} of shape (rows, features), "
                             f"got {getattr(rows, 'shape', type(rows).__name__)}")
    if queries.shape[1] != database.shape[1]:
        raise ValueError(f"nearest_neighbours: queries {queries.shape} and database {database.shape} "
                         "have different numbers of features")
    n = database.shape[0]
    if int(k) != k or not 1 <= k <= n:
        raise ValueError(f"nearest_neighbours: k must be an integer in [1, {n}] (the database rows), got {k!r}")
    k = int(k)
    xp = backend.get_array_module(queries, database)
    if metric == "euclidean":
        database_sq = (database.astype(xp.float32) ** 2).sum(axis=1)              # (N,)
    indices, distances = [], []
    for start in range(0, queries.shape[0], chunk_size):
        chunk = queries[start:start + chunk_size]                                  # (C, D)
        if metric == "euclidean":
            chunk = chunk.astype(xp.float32)
            dist = (chunk ** 2).sum(axis=1, keepdims=True) - 2 * chunk @ database.astype(xp.float32).T + database_sq
            dist = xp.maximum(dist, 0)                                             # (C, N), squared
            nearest = xp.argpartition(dist, k - 1, axis=1)[:, :k]                  # the k smallest, unordered
            near_dist = xp.take_along_axis(dist, nearest, axis=1)
            nearest = xp.take_along_axis(nearest, xp.argsort(near_dist, axis=1), axis=1)
            indices.append(nearest)
            distances.append(xp.sqrt(xp.take_along_axis(dist, nearest, axis=1)))
        else:
            dist = hamming_distance(chunk, database).astype(xp.int64)              # (C, N)
            # distance * N + index is unique per row and sorts by distance, then by index
            rank_key = dist * n + xp.arange(n, dtype=xp.int64)
            nearest = xp.argpartition(rank_key, k - 1, axis=1)[:, :k]
            nearest = xp.take_along_axis(nearest, xp.argsort(xp.take_along_axis(rank_key, nearest, axis=1), axis=1), axis=1)
            indices.append(nearest)
            distances.append(xp.take_along_axis(dist, nearest, axis=1))
    indices = xp.concatenate(indices)                                              # (M, k)
    return (indices, xp.concatenate(distances)) if return_distances else indices


def precision_per_query(retrieved_labels, query_labels):
    """For each query, the fraction of its retrieved items with its label: (M,) from (M, k) and (M,)."""
    if not backend.is_array(retrieved_labels) or retrieved_labels.ndim != 2:
        raise ValueError(f"precision_per_query: expected retrieved_labels of shape (M, k), "
                         f"got {getattr(retrieved_labels, 'shape', type(retrieved_labels).__name__)}")
    if not backend.is_array(query_labels) or query_labels.shape != retrieved_labels.shape[:1]:
        raise ValueError(f"precision_per_query: expected query_labels of shape ({retrieved_labels.shape[0]},) "
                         f"to match retrieved_labels {retrieved_labels.shape}, "
                         f"got {getattr(query_labels, 'shape', type(query_labels).__name__)}")
    return (retrieved_labels == query_labels[:, None]).mean(axis=1)


def precision_at_k(retrieved_labels, query_labels):
    """P@k: the mean over queries of the fraction of the k retrieved items with the query's label (a float)."""
    return float(precision_per_query(retrieved_labels, query_labels).mean())


def precision_at_ks(neighbours, database_labels, query_labels, ks):
    """{k: P@k} for each k in ``ks``, from neighbour indices (M, K) sorted nearest first (K >= max(ks))."""
    if max(ks) > neighbours.shape[1]:
        raise ValueError(f"precision_at_ks: k={max(ks)} needs at least that many neighbours per query, "
                         f"got {neighbours.shape[1]}")
    retrieved = database_labels[neighbours]                                       # (M, K)
    return {k: precision_at_k(retrieved[:, :k], query_labels) for k in ks}
