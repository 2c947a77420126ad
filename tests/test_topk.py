"""The topk op and the TopK layer: keep the k largest entries of each row, zero the rest.

Its gradient check is in the catalogue (nanoae/gradcheck_cases.py, run by
tests/test_ops.py and refereed by PyTorch in tests/test_torch_referee.py);
here: the forward against a NumPy reference that sorts each row, the gradient
by hand with a random upstream gradient, ties, and the errors.
"""
import numpy
import pytest

import nanoae
from nanoae import Tensor, gradcheck, nn, ops
from nanoae.gradcheck import GradcheckError
from nanoae.ops.sparse import TopK


def leaf(xp, array):
    return Tensor(xp.asarray(array, dtype="float64"), requires_grad=True)


def topk_by_sorting(x, k):
    """The k largest of each row kept, by a full stable sort of each row (ties: lowest index first)."""
    order = numpy.argsort(-x, axis=-1, kind="stable")[..., :k]
    kept = numpy.zeros(x.shape, dtype=bool)
    numpy.put_along_axis(kept, order, True, axis=-1)
    return numpy.where(kept, x, 0.0)


@pytest.mark.parametrize("shape, k", [((5, 8), 3), ((2, 3, 6), 1), ((4, 7), 7), ((6,), 2)])
def test_topk_forward_matches_a_full_sort(xp, shape, k):
    x = numpy.random.default_rng(1).standard_normal(shape)
    y = ops.topk(leaf(xp, x), k).numpy()
    numpy.testing.assert_array_equal(y, topk_by_sorting(x, k))
    assert ((y != 0).sum(axis=-1) == k).all()


def test_topk_backward_passes_the_upstream_gradient_through_the_kept_entries_only(xp):
    x = leaf(xp, [[0.5, -1.0, 2.0, -0.2, 1.5],
                  [-3.0, -1.0, -2.0, -0.5, -4.0]])     # the second row keeps negative entries
    upstream = numpy.random.default_rng(2).standard_normal((2, 5))
    (gx,) = nanoae.grad(ops.topk(x, 2), [x], grad_output=Tensor(xp.asarray(upstream)))
    expected = numpy.zeros((2, 5))
    expected[0, [2, 4]] = upstream[0, [2, 4]]
    expected[1, [1, 3]] = upstream[1, [1, 3]]
    numpy.testing.assert_array_equal(gx.numpy(), expected)


def test_topk_at_a_tie_keeps_the_lowest_indices_and_gives_them_the_gradient(xp):
    x = leaf(xp, [[1.0, 3.0, 2.0, 3.0, 3.0],     # three entries tie at 3 for two places
                  [0.0, 0.0, 0.0, 0.0, 0.0]])    # everything ties
    y = ops.topk(x, 2)
    assert y.numpy().tolist() == [[0.0, 3.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
    (gx,) = nanoae.grad(y, [x], grad_output=Tensor(xp.asarray([[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]])))
    assert gx.numpy().tolist() == [[0.0, 2.0, 0.0, 4.0, 0.0], [6.0, 7.0, 0.0, 0.0, 0.0]]


def test_topk_with_a_tie_below_the_threshold_keeps_every_entry_above_it(xp):
    x = leaf(xp, [[5.0, 1.0, 1.0, 4.0, 1.0]])      # k = 3: 5 and 4, then the first of the tied 1s
    assert ops.topk(x, 3).numpy().tolist() == [[5.0, 1.0, 0.0, 4.0, 0.0]]


def test_topk_keeps_float32(xp):
    x = Tensor(xp.asarray([[1.0, -2.0, 3.0]], dtype="float32"))
    assert ops.topk(x, 1).dtype == numpy.float32


@pytest.mark.parametrize("k, message", [(0, "positive integer"), (2.0, "positive integer"), (5, "more than the 4")])
def test_topk_refuses_a_k_out_of_range(k, message):
    with pytest.raises(ValueError, match=message):
        ops.topk(Tensor(numpy.zeros((3, 4))), k)


def test_gradcheck_catches_a_backward_that_lets_every_entry_through():
    class EveryEntry(TopK):
        def backward(self, gy):
            return gy
    x = numpy.random.default_rng(3).standard_normal((3, 5))
    assert gradcheck(lambda t: TopK(2)(t), [x])
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: EveryEntry(2)(t), [x])


def test_topk_layer_is_the_op_and_says_its_k(xp):
    x = numpy.random.default_rng(4).standard_normal((4, 6))
    layer = nn.TopK(3)
    numpy.testing.assert_array_equal(layer(leaf(xp, x)).numpy(), topk_by_sorting(x, 3))
    assert repr(layer) == "TopK(k=3)"
    assert layer.parameters() == []
