"""The autograd engine: backward, graph memory, no_grad, higher-order gradients, nanoae.grad.

Every gradient is compared with a closed form worked out by hand (written next
to the test), for inputs of both signs and a random upstream gradient.
"""
import gc
import weakref

import numpy as np
import pytest

import nanoae
from nanoae import Tensor


def signed(rng, *shape):
    """Random values of both signs with 0.5 <= |x| <= 1.5, as float64."""
    magnitude = rng.uniform(0.5, 1.5, size=shape)
    sign = np.where(np.arange(magnitude.size) % 2 == 0, 1.0, -1.0).reshape(shape)
    return magnitude * sign


def leaf(xp, values):
    return nanoae.tensor(xp.asarray(values), requires_grad=True)


# --- backward ------------------------------------------------------------------------

def test_backward_through_a_chain_of_10000_ops_gives_the_gradient_without_recursion_error(xp):
    # y = x * c * c * ... (10,000 times) = x c^10000, so dy/dx = c^10000. A recursive
    # topological sort would pass Python's recursion limit (1,000) long before the end.
    c = 1.0001
    x = leaf(xp, np.array(-0.5))
    y = x
    for _ in range(10_000):
        y = y * c
    y.backward()
    np.testing.assert_allclose(x.grad.item(), c ** 10_000, rtol=1e-10)


def test_backward_sums_gradients_of_reused_tensor(xp):
    # y = x^2, z = y^2 + y.   dz/dx = (2y + 1) * 2x = 4x^3 + 2x.
    rng = np.random.default_rng(0)
    x_np, g_np = signed(rng, 5), rng.standard_normal(5)
    x = leaf(xp, x_np)
    y = x * x
    z = y * y + y
    z.backward(xp.asarray(g_np))
    np.testing.assert_allclose(x.grad.numpy(), g_np * (4 * x_np**3 + 2 * x_np), rtol=1e-12)


def test_backward_through_a_diamond_graph_adds_both_paths(xp):
    # a = tanh x splits into b = 3a and c = e^a, which meet again in d = b c = 3a e^a.
    # dd/da = 3 e^a (1 + a), da/dx = 1 - a^2.
    rng = np.random.default_rng(1)
    x_np, g_np = signed(rng, 4), rng.standard_normal(4)
    x = leaf(xp, x_np)
    a = x.tanh()
    d = (a * 3) * a.exp()
    d.backward(xp.asarray(g_np))
    a_np = np.tanh(x_np)
    np.testing.assert_allclose(x.grad.numpy(), g_np * 3 * np.exp(a_np) * (1 + a_np) * (1 - a_np**2),
                               rtol=1e-12)


def test_backward_with_upstream_gradient_through_broadcasting(xp):
    # y = x * w with x (3, 4) and w (4,) broadcast over rows.   dx = g w,   dw = sum over rows of g x.
    rng = np.random.default_rng(2)
    x_np, w_np, g_np = signed(rng, 3, 4), signed(rng, 4), rng.standard_normal((3, 4))
    x, w = leaf(xp, x_np), leaf(xp, w_np)
    (x * w).backward(xp.asarray(g_np))
    np.testing.assert_allclose(x.grad.numpy(), g_np * w_np, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), (g_np * x_np).sum(axis=0), rtol=1e-12)


def test_gradients_accumulate_across_backward_calls_until_zeroed(xp):
    # loss = sum(x^3 * g).   dloss/dx = 3 x^2 g.
    rng = np.random.default_rng(3)
    x_np, g_np = signed(rng, 4), rng.standard_normal(4)
    x = leaf(xp, x_np)
    g = xp.asarray(g_np)
    expected = 3 * x_np**2 * g_np

    def loss():
        return (x ** 3 * g).sum()

    loss().backward()
    loss().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-12)

    x.zero_grad()
    loss().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)

    x.grad = None
    loss().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_each_leaf_owns_a_writeable_grad(xp):
    # a + b hands one gradient to both inputs, and sum's gradient is a read-only
    # broadcast view; .grad must still be a separate array that can be changed in place.
    rng = np.random.default_rng(4)
    a, b = leaf(xp, signed(rng, 3)), leaf(xp, signed(rng, 3))
    (a + b).sum().backward()
    assert a.grad is not b.grad
    a.grad.data *= 0.5
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 1.0])


class _Swap(nanoae.Function):
    """(a, b) -> a * 2 + b * 3, whose backward goes through operands and hands back
    arrays, one of them the upstream gradient's own array, to check the engine's side."""

    def forward(self, a, b):
        return a * 2 + b * 3

    def backward(self, gz):
        seen.append(type(gz.data) if isinstance(gz, Tensor) else None)
        (g,) = nanoae.autograd.operands(gz)
        seen.append(type(g))
        return g * 2, g if self.inputs[1].requires_grad and self.pass_upstream else g * 3


seen = []


@pytest.mark.parametrize("pass_upstream", [False, True])
def test_backward_may_return_arrays_from_operands_and_the_engine_makes_them_tensors(xp, pass_upstream):
    rng = np.random.default_rng(40)
    a, b = leaf(xp, signed(rng, 4)), leaf(xp, signed(rng, 4))
    upstream = xp.asarray(rng.standard_normal(4))
    op = _Swap()
    op.pass_upstream = pass_upstream
    seen.clear()
    op(a, b).backward(upstream)
    assert seen[1] is type(upstream)                        # no create_graph: operands gave the array
    assert isinstance(a.grad, Tensor) and isinstance(b.grad, Tensor)
    np.testing.assert_allclose(a.grad.numpy(), 2 * nanoae.backend.to_numpy(upstream), rtol=1e-15)
    np.testing.assert_allclose(b.grad.numpy(), (1 if pass_upstream else 3) * nanoae.backend.to_numpy(upstream),
                               rtol=1e-15)
    # b's gradient may be the caller's own array handed through: b.grad must still be its own.
    b.grad.data *= 0
    assert float(abs(upstream).sum()) > 0


def test_operands_are_tensors_while_the_backward_pass_is_recorded(xp):
    rng = np.random.default_rng(41)
    a, b = leaf(xp, signed(rng, 3)), leaf(xp, signed(rng, 3))
    op = _Swap()
    op.pass_upstream = False
    seen.clear()
    nanoae.grad(op(a, b).sum(), [a], create_graph=True)
    assert seen[1] is Tensor


def test_backward_on_a_non_scalar_without_grad_says_a_gradient_is_needed(xp):
    x = leaf(xp, signed(np.random.default_rng(5), 3))
    with pytest.raises(RuntimeError, match="needs a gradient"):
        (x * 2).backward()


def test_backward_with_grad_of_the_wrong_shape_raises(xp):
    rng = np.random.default_rng(6)
    x = leaf(xp, signed(rng, 3))
    with pytest.raises(nanoae.ShapeError, match=r"grad has shape \(2,\).*shape \(3,\)"):
        (x * 2).backward(xp.asarray(rng.standard_normal(2)))


def test_backward_on_a_tensor_that_does_not_require_grad_raises(xp):
    x = nanoae.tensor(xp.asarray(signed(np.random.default_rng(7), 3)))
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        (x * 2).sum().backward()


def test_retain_grad_keeps_the_grad_of_an_intermediate(xp):
    # y = tanh x, z = sum(y^2 g).   dz/dy = 2 y g;   intermediates normally get no .grad.
    rng = np.random.default_rng(8)
    x_np, g_np = signed(rng, 4), rng.standard_normal(4)
    x = leaf(xp, x_np)
    y = x.tanh().retain_grad()
    other = x.exp()
    (y * y * xp.asarray(g_np) + other).sum().backward()
    y_np = np.tanh(x_np)
    np.testing.assert_allclose(y.grad.numpy(), 2 * y_np * g_np, rtol=1e-12)
    assert other.grad is None


# --- graph memory ------------------------------------------------------------------------

def _graph_with_hidden_intermediate(x):
    """loss = sum(tanh(x)^2), and a weak reference to tanh(x)'s array, which only the graph holds."""
    h = x.tanh()
    ref = weakref.ref(h.data)
    return (h * h).sum(), ref


def test_backward_releases_intermediate_arrays(xp):
    x = leaf(xp, signed(np.random.default_rng(9), 5))
    loss, ref = _graph_with_hidden_intermediate(x)
    gc.collect()
    assert ref() is not None  # the graph holds it until backward
    loss.backward()
    gc.collect()
    assert ref() is None


def test_retain_graph_keeps_intermediates_and_a_second_backward_doubles_the_grad(xp):
    # loss = sum(tanh(x)^2).   dloss/dx = 2 tanh x (1 - tanh^2 x).
    x_np = signed(np.random.default_rng(10), 5)
    x = leaf(xp, x_np)
    loss, ref = _graph_with_hidden_intermediate(x)
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    loss.backward()
    t = np.tanh(x_np)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * t * (1 - t**2)), rtol=1e-12)
    gc.collect()
    assert ref() is None  # the second backward did not retain it


def test_second_backward_through_a_freed_graph_raises_mentioning_retain_graph(xp):
    x = leaf(xp, signed(np.random.default_rng(11), 3))
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


# --- no_grad and enable_grad ---------------------------------------------------------------

def test_no_grad_records_nothing(xp):
    x = leaf(xp, signed(np.random.default_rng(12), 3))
    with nanoae.no_grad():
        assert not nanoae.is_grad_enabled()
        y = x * 2 + 1
    assert y.creator is None
    assert y.requires_grad is False


def test_no_grad_restores_grad_mode_after_the_block(xp):
    x = leaf(xp, signed(np.random.default_rng(13), 3))
    with nanoae.no_grad():
        pass
    assert nanoae.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_grad_mode_after_an_exception():
    with pytest.raises(KeyError):
        with nanoae.no_grad():
            raise KeyError("inside")
    assert nanoae.is_grad_enabled()


def test_enable_grad_records_inside_no_grad(xp):
    x = leaf(xp, signed(np.random.default_rng(14), 3))
    with nanoae.no_grad():
        with nanoae.enable_grad():
            y = x * 2
        z = x * 2
        assert not nanoae.is_grad_enabled()
    assert y.requires_grad and y.creator is not None
    assert not z.requires_grad


def test_nested_no_grad_keeps_grad_off_until_the_outer_block_ends():
    with nanoae.no_grad():
        with nanoae.no_grad():
            pass
        assert not nanoae.is_grad_enabled()
    assert nanoae.is_grad_enabled()


# --- higher-order gradients ---------------------------------------------------------------

def _second_derivative_via_grad_attribute(f, x, u, v):
    """v * d/dx (u * f'(x)): backward with create_graph, then backward through x.grad."""
    f(x).backward(u, create_graph=True)
    first = x.grad
    x.grad = None
    first.backward(v)
    return x.grad


def _second_derivative_via_nanoae_grad(f, x, u, v):
    """The same with nanoae.grad twice, leaving x.grad alone."""
    (first,) = nanoae.grad(f(x), [x], grad_output=u, create_graph=True)
    (second,) = nanoae.grad(first, [x], grad_output=v)
    assert x.grad is None
    return second


SECOND_DERIVATIVES = [
    # name, f, f'' in NumPy
    ("cube", lambda x: x ** 3, lambda x: 6 * x),
    ("tanh", lambda x: x.tanh(), lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("exp", lambda x: x.exp(), np.exp),
    # 2x (3x - 1)(x/2 + 4) = 3x^3 + 23x^2 - 8x: every op with a Python number (AddNumber, ...)
    ("with numbers", lambda x: 2 * x * (x * 3 - 1) * (x / 2 + 4), lambda x: 18 * x + 46),
]


@pytest.mark.parametrize("method", [_second_derivative_via_grad_attribute, _second_derivative_via_nanoae_grad],
                         ids=["via_grad_attribute", "via_nanoae_grad"])
@pytest.mark.parametrize("name, f, f2", SECOND_DERIVATIVES, ids=[case[0] for case in SECOND_DERIVATIVES])
def test_second_derivative_matches_closed_form(xp, name, f, f2, method):
    # With upstream gradients u then v: d/dx (u f'(x)) v = u v f''(x).
    rng = np.random.default_rng(15)
    x_np, u_np, v_np = signed(rng, 5), rng.standard_normal(5), rng.standard_normal(5)
    x = leaf(xp, x_np)
    second = method(f, x, xp.asarray(u_np), xp.asarray(v_np))
    np.testing.assert_allclose(second.numpy(), u_np * v_np * f2(x_np), rtol=1e-12)


def test_mixed_partial_of_x_y_squared_is_2y_in_either_order(xp):
    # f = x y^2.   df/dx = y^2, d2f/dxdy = 2y;   df/dy = 2xy, d2f/dydx = 2y.
    rng = np.random.default_rng(16)
    x_np, y_np = signed(rng, 4), signed(rng, 4)
    u_np, v_np = rng.standard_normal(4), rng.standard_normal(4)
    x, y = leaf(xp, x_np), leaf(xp, y_np)
    u, v = xp.asarray(u_np), xp.asarray(v_np)

    (fx,) = nanoae.grad(x * y * y, [x], grad_output=u, create_graph=True)
    (fxy,) = nanoae.grad(fx, [y], grad_output=v)
    np.testing.assert_allclose(fxy.numpy(), u_np * v_np * 2 * y_np, rtol=1e-12)

    (fy,) = nanoae.grad(x * y * y, [y], grad_output=u, create_graph=True)
    (fyx,) = nanoae.grad(fy, [x], grad_output=v)
    np.testing.assert_allclose(fyx.numpy(), u_np * v_np * 2 * y_np, rtol=1e-12)


def test_third_derivative_of_x_to_the_fourth_is_24x(xp):
    # f = x^4, f' = 4x^3, f'' = 12x^2, f''' = 24x; each step also multiplies by its upstream u, v, w.
    rng = np.random.default_rng(17)
    x_np = signed(rng, 5)
    u_np, v_np, w_np = rng.standard_normal((3, 5))
    x = leaf(xp, x_np)
    (d1,) = nanoae.grad(x ** 4, [x], grad_output=xp.asarray(u_np), create_graph=True)
    (d2,) = nanoae.grad(d1, [x], grad_output=xp.asarray(v_np), create_graph=True)
    (d3,) = nanoae.grad(d2, [x], grad_output=xp.asarray(w_np))
    np.testing.assert_allclose(d1.numpy(), u_np * 4 * x_np**3, rtol=1e-12)
    np.testing.assert_allclose(d2.numpy(), u_np * v_np * 12 * x_np**2, rtol=1e-12)
    np.testing.assert_allclose(d3.numpy(), u_np * v_np * w_np * 24 * x_np, rtol=1e-12)


# --- nanoae.grad ------------------------------------------------------------------------------

def test_grad_returns_gradients_and_leaves_dot_grad_alone(xp):
    # f = sum(x w g).   df/dx = w g,   df/dw = x g.
    rng = np.random.default_rng(18)
    x_np, w_np, g_np = signed(rng, 3), signed(rng, 3), rng.standard_normal(3)
    x, w = leaf(xp, x_np), leaf(xp, w_np)
    earlier = Tensor(xp.asarray(rng.standard_normal(3)))
    w.grad = earlier
    gx, gw = nanoae.grad((x * w * xp.asarray(g_np)).sum(), [x, w])
    np.testing.assert_allclose(gx.numpy(), w_np * g_np, rtol=1e-12)
    np.testing.assert_allclose(gw.numpy(), x_np * g_np, rtol=1e-12)
    assert x.grad is None
    assert w.grad is earlier


def test_grad_returns_none_for_an_input_the_output_does_not_depend_on(xp):
    rng = np.random.default_rng(19)
    x, unused = leaf(xp, signed(rng, 3)), leaf(xp, signed(rng, 3))
    gx, g_unused = nanoae.grad((x * x).sum(), [x, unused])
    assert gx is not None
    assert g_unused is None


def test_grad_works_for_a_non_leaf_input(xp):
    # h = tanh x, f = sum(h^2 g).   df/dh = 2 h g.
    rng = np.random.default_rng(20)
    x_np, g_np = signed(rng, 4), rng.standard_normal(4)
    x = leaf(xp, x_np)
    h = x.tanh()
    (gh,) = nanoae.grad((h * h * xp.asarray(g_np)).sum(), [h])
    np.testing.assert_allclose(gh.numpy(), 2 * np.tanh(x_np) * g_np, rtol=1e-12)
    assert h.grad is None and x.grad is None


def test_no_grad_works_as_a_decorator(xp):
    x = nanoae.tensor(xp.asarray([1.0, -2.0]), requires_grad=True)

    @nanoae.no_grad()
    def double(t):
        return t * 2

    y = double(x)
    assert y.creator is None and not y.requires_grad
    assert nanoae.is_grad_enabled()


# --- in-place changes between forward and backward ----------------------------------------------

def test_backward_after_the_data_was_overwritten_raises_naming_the_op():
    x = nanoae.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = (x * x).sum()
    x.data[...] = 10                                   # would silently give gradients of 20
    with pytest.raises(RuntimeError, match=r"Mul\.backward: its input 0 \(shape \(3,\), a leaf\) was changed"):
        y.backward()


def test_backward_after_an_optimizer_step_raises():
    """The classic mistake: step before backward. The version counter catches it exactly."""
    w = nanoae.nn.Parameter(np.array([0.5, -1.5]))
    loss = (w * nanoae.tensor(np.array([2.0, 3.0]))).sum()
    w.grad = nanoae.tensor(np.ones(2))
    nanoae.optim.SGD([w], lr=1e-9).step()               # so small a change that only the version sees it
    with pytest.raises(RuntimeError, match="was changed in place after Mul used it"):
        loss.backward()


def test_replacing_the_data_array_is_caught_too():
    x = nanoae.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.exp().sum()
    x.data = np.array([1.0, 2.0])                      # same values, another array
    with pytest.raises(RuntimeError, match=r"Exp\.backward"):
        y.backward()


def test_changes_after_backward_and_before_the_next_forward_are_fine():
    x = nanoae.tensor(np.array([1.0, -2.0]), requires_grad=True)
    (x * x).sum().backward()
    x.data[...] = 10
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 20.0])
