"""The Tensor API: construction, dtypes, attributes, operators and shape errors.

Values and gradients are compared with closed forms computed in NumPy. Inputs
have both signs and stay away from 0 (so that 1/x is tame), and every backward
starts from a random upstream gradient, never all ones.
"""
import numpy as np
import pytest

import nanoae
from nanoae import Tensor


def signed(rng, *shape):
    """Random values of both signs with 0.5 <= |x| <= 1.5, as float64."""
    magnitude = rng.uniform(0.5, 1.5, size=shape)
    sign = np.where(np.arange(magnitude.size) % 2 == 0, 1.0, -1.0).reshape(shape)
    return magnitude * sign


# --- construction and dtypes -------------------------------------------------------

def test_python_floats_and_lists_default_to_float32(xp):
    assert nanoae.tensor(1.5).dtype == np.float32
    assert nanoae.tensor([[1.0, -2.0], [3.0, 4.5]]).dtype == np.float32
    assert Tensor([0.25, -1.0]).dtype == np.float32


def test_numpy_arrays_keep_their_dtype(xp):
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32, np.float16, np.int32):
        data = xp.asarray(signed(rng, 3).astype(dtype))
        assert nanoae.tensor(data).dtype == dtype
        assert Tensor(data).dtype == dtype


def test_tensor_keeps_data_and_requires_grad(xp):
    data = xp.asarray(signed(np.random.default_rng(1), 2, 3))
    t = Tensor(data, requires_grad=True)
    assert t.data is data
    assert t.requires_grad is True
    assert t.grad is None
    assert t.creator is None
    assert Tensor(data).requires_grad is False


def test_shape_dtype_and_ndim_describe_the_data(xp):
    t = nanoae.tensor(xp.asarray(signed(np.random.default_rng(2), 2, 3, 4)))
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.dtype == np.float64
    assert nanoae.tensor(2.0).shape == ()


def test_requires_grad_on_an_int_tensor_raises(xp):
    with pytest.raises(TypeError, match="floating-point"):
        nanoae.tensor(xp.asarray([1, 2, 3]), requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        nanoae.tensor([1, 2, 3], requires_grad=True)


def test_numpy_returns_a_numpy_array_with_the_values(xp):
    values = signed(np.random.default_rng(3), 3, 2)
    out = nanoae.tensor(xp.asarray(values)).numpy()
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, values)


def test_item_returns_the_python_number(xp):
    value = nanoae.tensor(xp.asarray([[-2.75]])).item()
    assert isinstance(value, float)
    assert value == -2.75


def test_item_on_many_elements_raises_a_clear_error(xp):
    with pytest.raises(ValueError, match=r"one element.*\(2, 3\)"):
        nanoae.tensor(xp.zeros((2, 3))).item()


# --- detach, .T and .mT ------------------------------------------------------------------

def test_detach_shares_data_and_stops_the_gradient(xp):
    rng = np.random.default_rng(4)
    x_np, g_np = signed(rng, 5), rng.standard_normal(5)
    x = nanoae.tensor(xp.asarray(x_np), requires_grad=True)
    d = x.detach()
    assert d.data is x.data
    assert d.requires_grad is False and d.creator is None

    # y = x * stop(x): only the first factor passes a gradient, so dy/dx = x (not 2x).
    (x * d).backward(xp.asarray(g_np))
    np.testing.assert_allclose(x.grad.numpy(), g_np * x_np)


def test_T_reverses_the_axes_and_its_gradient_reverses_back(xp):
    rng = np.random.default_rng(5)
    x_np, g_np = signed(rng, 2, 3, 4), rng.standard_normal((4, 3, 2))
    x = nanoae.tensor(xp.asarray(x_np), requires_grad=True)
    y = x.T
    np.testing.assert_array_equal(y.numpy(), x_np.T)
    y.backward(xp.asarray(g_np))
    np.testing.assert_array_equal(x.grad.numpy(), g_np.T)


def test_mT_swaps_the_last_two_axes_and_its_gradient_swaps_back(xp):
    rng = np.random.default_rng(6)
    x_np, g_np = signed(rng, 2, 3, 4), rng.standard_normal((2, 4, 3))
    x = nanoae.tensor(xp.asarray(x_np), requires_grad=True)
    y = x.mT
    np.testing.assert_array_equal(y.numpy(), np.swapaxes(x_np, -1, -2))
    y.backward(xp.asarray(g_np))
    np.testing.assert_array_equal(x.grad.numpy(), np.swapaxes(g_np, -1, -2))


# --- operators with a number or array on the left ---------------------------------

REFLECTED = [
    # name, f(x) written with the tensor on the right, f on NumPy, df/dx on NumPy
    ("1 - x", lambda x: 1 - x, lambda x: 1 - x, lambda x: -np.ones_like(x)),
    ("2 / x", lambda x: 2 / x, lambda x: 2 / x, lambda x: -2 / x**2),
    ("3 * x", lambda x: 3 * x, lambda x: 3 * x, lambda x: 3 * np.ones_like(x)),
    ("2 + x", lambda x: 2 + x, lambda x: 2 + x, lambda x: np.ones_like(x)),
    ("x ** 2", lambda x: x ** 2, lambda x: x**2, lambda x: 2 * x),
]


@pytest.mark.parametrize("name, f, f_np, df_np", REFLECTED, ids=[case[0] for case in REFLECTED])
def test_reflected_operator_gives_values_and_gradient(xp, name, f, f_np, df_np):
    rng = np.random.default_rng(7)
    x_np, g_np = signed(rng, 6), rng.standard_normal(6)
    x = nanoae.tensor(xp.asarray(x_np), requires_grad=True)
    y = f(x)
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(y.numpy(), f_np(x_np), rtol=1e-12)
    y.backward(xp.asarray(g_np))
    np.testing.assert_allclose(x.grad.numpy(), g_np * df_np(x_np), rtol=1e-12)


def test_array_times_tensor_gives_a_tensor_with_gradient(xp):
    # Without Tensor.__array_ufunc__ = None, NumPy would loop over the tensor and
    # return an object array of tensors instead of calling Tensor.__rmul__.
    rng = np.random.default_rng(8)
    a_np, x_np, g_np = signed(rng, 2, 3), signed(rng, 2, 3), rng.standard_normal((2, 3))
    x = nanoae.tensor(xp.asarray(x_np), requires_grad=True)
    y = xp.asarray(a_np) * x
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(y.numpy(), a_np * x_np, rtol=1e-12)
    y.backward(xp.asarray(g_np))
    np.testing.assert_allclose(x.grad.numpy(), g_np * a_np, rtol=1e-12)


# --- dtype preservation ----------------------------------------------------------------

def _chain_with_python_numbers(x):
    """y = (2 / (1 - 2.5 x))^2.   dy/dx = 2 * 2 / (1 - 2.5 x) * 2 * 2.5 / (1 - 2.5 x)^2 = 20 / (1 - 2.5 x)^3."""
    return (2 / (1 - x * 2.5)) ** 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_python_numbers_keep_the_dtype_of_values_and_gradients(xp, dtype):
    rng = np.random.default_rng(9)
    x_np, g_np = signed(rng, 6), rng.standard_normal(6)
    x = nanoae.tensor(xp.asarray(x_np.astype(dtype)), requires_grad=True)
    y = _chain_with_python_numbers(x)
    y.backward(xp.asarray(g_np.astype(dtype)))
    assert y.dtype == dtype
    assert x.grad.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), (2 / (1 - 2.5 * x_np)) ** 2, rtol=rtol)
    np.testing.assert_allclose(x.grad.numpy(), g_np * 20 / (1 - 2.5 * x_np) ** 3, rtol=rtol)


NUMBER_OPS = [("x + 2", lambda x: x + 2, "AddNumber"), ("2.5 + x", lambda x: 2.5 + x, "AddNumber"),
              ("x - 2", lambda x: x - 2, "SubNumber"), ("x * -3", lambda x: x * -3, "MulNumber"),
              ("0.5 * x", lambda x: 0.5 * x, "MulNumber"), ("x / 4", lambda x: x / 4, "DivNumber")]


@pytest.mark.parametrize("name, f, op", NUMBER_OPS, ids=[case[0] for case in NUMBER_OPS])
def test_a_python_number_is_kept_on_the_op_not_made_an_input(xp, name, f, op):
    x = nanoae.tensor(xp.asarray(signed(np.random.default_rng(11), 3)), requires_grad=True)
    y = f(x)
    assert type(y.creator).__name__ == op
    assert len(y.creator.inputs) == 1 and y.creator.inputs[0] is x


def test_a_numpy_float64_scalar_does_not_turn_float32_values_into_float64(xp):
    # numpy.float64 is a Python float too, but NumPy would let its dtype win over the array's.
    x = nanoae.tensor(xp.asarray(signed(np.random.default_rng(12), 3), dtype=np.float32), requires_grad=True)
    for y in (x * np.float64(2.5), x + np.float64(1), x / np.float64(3), x - np.float64(1)):
        assert y.dtype == np.float32


@pytest.mark.parametrize("wrap", [lambda g: g, Tensor], ids=["array", "tensor"])
def test_a_float64_upstream_gradient_does_not_turn_float32_gradients_into_float64(xp, wrap):
    rng = np.random.default_rng(10)
    x_np, g_np = signed(rng, 4), rng.standard_normal(4)
    x = nanoae.tensor(xp.asarray(x_np.astype(np.float32)), requires_grad=True)
    (x * 3.0).backward(wrap(xp.asarray(g_np)))  # g_np is float64
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), 3 * g_np, rtol=1e-6)


# --- shape errors --------------------------------------------------------------------------

def test_matmul_of_mismatched_shapes_raises_shape_error_naming_op_and_shapes(xp):
    a = nanoae.tensor(xp.zeros((3, 4)))
    b = nanoae.tensor(xp.zeros((5, 2)))
    with pytest.raises(nanoae.ShapeError) as error:
        a @ b
    message = str(error.value)
    assert "MatMul" in message and "(3, 4)" in message and "(5, 2)" in message


def test_add_of_shapes_that_do_not_broadcast_raises_shape_error_naming_op_and_shapes(xp):
    a = nanoae.tensor(xp.zeros((3, 4)))
    b = nanoae.tensor(xp.zeros(5))
    with pytest.raises(nanoae.ShapeError) as error:
        a + b
    message = str(error.value)
    assert "Add" in message and "(3, 4)" in message and "(5,)" in message


def test_transpose_takes_axes_as_arguments_or_as_one_tuple(xp):
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = nanoae.tensor(xp.asarray(data))
    for t in (x.transpose(1, 0, 2), x.transpose((1, 0, 2))):
        np.testing.assert_array_equal(t.numpy(), data.transpose(1, 0, 2))
    np.testing.assert_array_equal(x.transpose().numpy(), data.transpose())


def test_float_of_a_one_element_tensor_is_its_value(xp):
    assert float(nanoae.tensor(xp.asarray([-2.5]))) == -2.5
    with pytest.raises(ValueError, match="one element"):
        float(nanoae.tensor(xp.asarray([1.0, 2.0])))


@pytest.mark.parametrize("other", [None, "1", object()])
def test_an_operand_that_is_no_number_or_array_is_a_type_error_naming_the_op(other):
    x = nanoae.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Add: an input is"):
        x + other
    with pytest.raises(TypeError, match=r"Mul: an input is"):
        other * x


# --- NumPy functions given a Tensor ----------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda x: np.exp(x), "np.exp"), (lambda x: np.sum(x, axis=1), "np.sum"),
    (lambda x: np.concatenate([x, x]), "np.concatenate"), (lambda x: np.maximum(x, 0), "np.maximum"),
    (lambda x: np.tanh(x), "np.tanh")])
def test_a_numpy_function_given_a_tensor_says_what_to_use_instead(call, name):
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match=name) as error:
        call(x)
    assert "x.exp()" in str(error.value) and "nanoae.functional" in str(error.value)


def test_array_operators_with_a_tensor_on_the_right_stay_in_the_graph():
    rng = np.random.default_rng(1)
    a, x = rng.standard_normal((2, 3)), Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    g = rng.standard_normal((2, 3))
    out = a * x + a - x / (a * a + 1) + (a @ x.T).sum() - a
    out.backward(Tensor(g))
    expected = g * (a - 1 / (a * a + 1)) + (a.T @ np.ones((2, 2))).T * g.sum()  # d/dx of each term
    assert isinstance(out, Tensor) and out.creator is not None
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)
    assert np.array_equal((a < x).data, a < x.data) and np.array_equal((a >= x).data, a >= x.data)


def test_a_misspelt_attribute_is_an_error_not_a_new_attribute():
    t = nanoae.tensor([1.0, -2.0])
    with pytest.raises(AttributeError):
        t.requires_gard = True          # Tensor has __slots__: only its own attributes can be set
    t.requires_grad = True
    assert t.requires_grad
