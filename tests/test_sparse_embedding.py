"""Row-sparse gradients: nn.Embedding(sparse=True), SparseRows, SGD and SparseAdam on rows.

The sparse gradient is checked against finite differences (gradcheck
densifies it) and against the dense lookup's gradient; the optimizers against
the dense step and a NumPy reference of lazy Adam; untouched rows bit for bit.
"""
import numpy as np
import pytest

import nanoae
from nanoae import nn, ops, optim
from nanoae.gradcheck import GradcheckError, gradcheck

# Row 1 is picked three times, row 2 never: repeats and untouched rows in one batch.
INDICES = np.array([[1, 4, 1], [0, 1, 3]])
V, D = 6, 3


def tables(xp, sparse_first=True, seed=0):
    """A sparse and a dense Embedding with the same weights (both signs)."""
    sparse, dense = nn.Embedding(V, D, sparse=True), nn.Embedding(V, D)
    weights = np.random.default_rng(seed).standard_normal((V, D)).astype("float32")
    for emb in (sparse, dense):
        emb.weight.data = xp.asarray(weights.copy())
    return sparse, dense


def upstream(seed=1):
    return np.random.default_rng(seed).standard_normal(INDICES.shape + (D,)).astype("float32")


def backward_through(emb, xp, seed=1):
    y = emb(INDICES)
    (y * nanoae.tensor(xp.asarray(upstream(seed)))).sum().backward()


def test_sparse_embedding_gradient_densified_matches_finite_differences(xp):
    weight = nanoae.tensor(xp.asarray(np.random.default_rng(2).standard_normal((V, D))))
    assert gradcheck(lambda w: ops.sparse_embedding(w, INDICES), [weight])


def test_gradcheck_catches_a_sparse_gradient_that_drops_repeated_rows(monkeypatch):
    def add_to_dropping_repeats(self, dense):
        total = dense.copy()
        total[self.indices] += self.values  # a repeated row is written once, not summed
        return total

    monkeypatch.setattr(ops.SparseRows, "add_to", add_to_dropping_repeats)
    weight = nanoae.tensor(np.random.default_rng(2).standard_normal((V, D)))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda w: ops.sparse_embedding(w, INDICES), [weight])


def test_sparse_gradient_lists_the_picked_rows_and_equals_the_dense_gradient(xp):
    sparse, dense = tables(xp)
    backward_through(sparse, xp)
    backward_through(dense, xp)
    g = sparse.weight.grad
    assert g.is_sparse and g.shape == (V, D)
    assert nanoae.backend.to_numpy(g.indices).tolist() == INDICES.tolist()
    np.testing.assert_allclose(g.to_dense().numpy(), dense.weight.grad.numpy(), rtol=1e-6)


def test_coalesce_sums_repeated_rows_once_each(xp):
    sparse, dense = tables(xp)
    backward_through(sparse, xp)
    backward_through(dense, xp)
    coalesced = sparse.weight.grad.coalesce()
    rows = nanoae.backend.to_numpy(coalesced.indices)
    assert rows.tolist() == [0, 1, 3, 4]
    np.testing.assert_allclose(nanoae.backend.to_numpy(coalesced.values), dense.weight.grad.numpy()[rows],
                               rtol=1e-6)


def test_sparse_gradients_accumulate_within_a_graph_and_across_backward_calls(xp):
    sparse, dense = tables(xp)
    for emb in (sparse, dense):
        (emb(INDICES) * emb(INDICES[::-1])).sum().backward()   # the table used twice in one graph
        backward_through(emb, xp, seed=3)                       # and a second backward
    assert sparse.weight.grad.is_sparse
    np.testing.assert_allclose(sparse.weight.grad.to_dense().numpy(), dense.weight.grad.numpy(), rtol=1e-5)


def test_a_table_read_both_sparsely_and_densely_gets_one_dense_gradient(xp):
    sparse, _ = tables(xp)
    weight = sparse.weight
    y = (sparse(INDICES).sum() * 2 + (weight * weight).sum())
    y.backward()
    expected = 2 * weight.numpy()
    np.add.at(expected, INDICES.reshape(-1), 2.0)
    assert not weight.grad.is_sparse
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-6)


def test_sgd_steps_from_sparse_and_dense_gradients_are_the_same(xp):
    sparse, dense = tables(xp)
    for emb in (sparse, dense):
        opt = optim.SGD(emb.parameters(), lr=0.3)
        for seed in (1, 2, 3):
            opt.zero_grad()
            backward_through(emb, xp, seed)
            opt.step()
    np.testing.assert_allclose(sparse.weight.numpy(), dense.weight.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make_optimizer", [lambda p: optim.SGD(p, lr=0.3), lambda p: optim.SparseAdam(p, lr=0.1)],
                         ids=["SGD", "SparseAdam"])
def test_rows_no_index_picked_are_not_modified_bit_for_bit(xp, make_optimizer):
    sparse, _ = tables(xp)
    before = sparse.weight.numpy().copy()
    opt = make_optimizer(sparse.parameters())
    backward_through(sparse, xp)
    opt.step()
    after = sparse.weight.numpy()
    untouched = [2, 5]
    assert np.array_equal(after[untouched], before[untouched])
    assert not np.any(after[[0, 1, 3, 4]] == before[[0, 1, 3, 4]])


def lazy_adam_reference(p, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam on the rows each step's gradient names, in float64; steps: [(indices, rows), ...]."""
    p = p.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, (indices, rows) in enumerate(steps, start=1):
        g = np.zeros_like(p)
        np.add.at(g, indices, rows)
        touched = np.unique(indices)
        m[touched] = beta1 * m[touched] + (1 - beta1) * g[touched]
        v[touched] = beta2 * v[touched] + (1 - beta2) * g[touched] ** 2
        m_hat, v_hat = m[touched] / (1 - beta1 ** t), v[touched] / (1 - beta2 ** t)
        p[touched] -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def test_sparse_adam_matches_lazy_adam_written_in_numpy(xp):
    sparse, _ = tables(xp)
    start = sparse.weight.numpy().copy()
    opt = optim.SparseAdam(sparse.parameters(), lr=0.05)
    steps = []
    for seed, indices in ((1, INDICES), (2, INDICES[:, :2]), (3, INDICES[::-1])):
        rows = np.random.default_rng(seed).standard_normal(indices.shape + (D,)).astype("float32")
        opt.zero_grad()
        (sparse(indices) * nanoae.tensor(xp.asarray(rows))).sum().backward()
        opt.step()
        steps.append((indices.reshape(-1), rows.reshape(-1, D).astype(np.float64)))
    expected = lazy_adam_reference(start, steps, lr=0.05)
    np.testing.assert_allclose(sparse.weight.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_sparse_adam_equals_adam_when_every_row_is_touched_at_every_step(xp):
    sparse, dense = tables(xp)
    every_row = np.arange(V).reshape(2, 3)
    opts = [optim.SparseAdam(sparse.parameters(), lr=0.05), optim.Adam(dense.parameters(), lr=0.05)]
    for seed in (1, 2, 3):
        rows = nanoae.tensor(xp.asarray(np.random.default_rng(seed).standard_normal((2, 3, D)).astype("float32")))
        for emb, opt in zip((sparse, dense), opts):
            opt.zero_grad()
            (emb(every_row) * rows).sum().backward()
            opt.step()
    np.testing.assert_allclose(sparse.weight.numpy(), dense.weight.numpy(), rtol=1e-5, atol=1e-6)


def test_optimizers_without_a_sparse_update_say_which_to_use(xp):
    sparse, dense = tables(xp)
    backward_through(sparse, xp)
    backward_through(dense, xp)
    with pytest.raises(TypeError, match="use SGD or SparseAdam"):
        optim.Adam(sparse.parameters()).step()
    with pytest.raises(ValueError, match="momentum and weight decay"):
        optim.SGD(sparse.parameters(), lr=0.1, momentum=0.9).step()
    with pytest.raises(TypeError, match="use Adam for dense"):
        optim.SparseAdam(dense.parameters()).step()


def test_a_sparse_gradient_refuses_create_graph_and_a_table_made_by_an_op():
    sparse, _ = tables(np)
    y = sparse(INDICES).sum()
    with pytest.raises(RuntimeError, match="cannot be differentiated again"):
        nanoae.grad(y, [sparse.weight], create_graph=True)
    with pytest.raises(ValueError, match="2-D leaf tensor"):
        ops.sparse_embedding(sparse.weight * 2, INDICES)


def test_sparse_embedding_repr_says_sparse():
    assert repr(nn.Embedding(V, D, sparse=True)).endswith("(6, 3, sparse=True)")
