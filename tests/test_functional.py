"""Losses and the VAE's pieces: values against hand-written NumPy formulas,
reductions, shape checks, gradients against finite differences, and the one
log_var convention (log of the variance) checked by sampling.
"""
import re

import numpy as np
import pytest

import nanoae
from nanoae import functional as F


def tensor(xp, array, dtype="float64", requires_grad=False):
    return nanoae.tensor(xp.asarray(array, dtype=dtype), requires_grad=requires_grad)


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# Every loss with: inputs (NumPy, float64), a function of tensors, and its
# per-element formula written by hand. Inputs take both signs where the domain allows.
def _mse_case(rng):
    return [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))], F.mse_loss, lambda x, t: (x - t) ** 2


def _bce_case(rng):
    return ([probabilities(rng, (3, 4)), rng.uniform(0, 1, (3, 4))], F.binary_cross_entropy,
            lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)))


def _bce_logits_case(rng):
    return ([rng.standard_normal((3, 4)) * 3, rng.uniform(0, 1, (3, 4))], F.binary_cross_entropy_with_logits,
            lambda z, t: -(t * np.log(sigmoid(z)) + (1 - t) * np.log(1 - sigmoid(z))))


def _gaussian_kl_case(rng):
    return ([rng.standard_normal((3, 4)), rng.standard_normal((3, 4))], F.gaussian_kl,
            lambda mu, log_var: -0.5 * (1 + log_var - mu ** 2 - np.exp(log_var)))


def _kl_bernoulli_case(rng):
    rho = 0.1
    return ([probabilities(rng, (3, 4))], lambda rho_hat, reduction="mean": F.kl_bernoulli(rho, rho_hat, reduction),
            lambda q: rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q)))


LOSSES = {"mse_loss": _mse_case, "binary_cross_entropy": _bce_case,
          "binary_cross_entropy_with_logits": _bce_logits_case, "gaussian_kl": _gaussian_kl_case,
          "kl_bernoulli": _kl_bernoulli_case}
REDUCE = {"none": lambda a: a, "sum": np.sum, "mean": np.mean}


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_matches_its_formula_with_each_reduction(xp, name, reduction):
    inputs, loss, formula = LOSSES[name](np.random.default_rng(0))
    out = loss(*(tensor(xp, a) for a in inputs), reduction=reduction)
    expected = REDUCE[reduction](formula(*inputs))
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradient_matches_numerical(xp, name, reduction):
    inputs, loss, _ = LOSSES[name](np.random.default_rng(1))
    assert nanoae.gradcheck(lambda *xs: loss(*xs, reduction=reduction), [xp.asarray(a) for a in inputs])


@pytest.mark.parametrize("name", LOSSES)
def test_loss_with_unknown_reduction_raises(name):
    inputs, loss, _ = LOSSES[name](np.random.default_rng(2))
    with pytest.raises(ValueError, match=f"{name}: reduction must be one of"):
        loss(*(nanoae.tensor(a) for a in inputs), reduction="average")


@pytest.mark.parametrize("fn", [F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                                F.gaussian_kl, F.reparameterize])
def test_input_and_target_of_different_shapes_raise_shape_error(fn):
    with pytest.raises(nanoae.ShapeError, match=r"\(3, 4\).*\(4, 3\)"):
        fn(nanoae.zeros(3, 4) + 0.5, nanoae.zeros(4, 3) + 0.5)


def test_losses_are_float32_for_float32_inputs(xp):
    x = nanoae.rand(4, 5)
    target = xp.asarray(np.random.default_rng(3).random((4, 5)))  # a float64 array as target
    for loss in (F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        assert loss(x, target).dtype == np.float32


# --- binary cross-entropy at the edges ----------------------------------------------------

def test_binary_cross_entropy_at_zero_and_one_is_finite_without_nan_gradient(xp):
    p = tensor(xp, [0.0, 1.0, 0.0, 1.0], dtype="float32", requires_grad=True)
    t = tensor(xp, [1.0, 0.0, 0.0, 1.0], dtype="float32")
    loss = F.binary_cross_entropy(p, t, reduction="none")
    values = loss.numpy()
    assert np.all(np.isfinite(values)) and np.all(values[:2] > 20)  # confidently wrong: large
    np.testing.assert_array_equal(values[2:], 0)  # exactly right: no loss
    loss.backward(tensor(xp, [100.0, -100.0, 3.0, 3.0], dtype="float32"))  # large upstream gradients
    grad = p.grad.numpy()
    assert not np.any(np.isnan(grad))
    # The clamped ends get no gradient; where p equals t the gradient is the true one: d/dp
    # of -ln(1 - p) at p = 0 is 1, of -ln(p) at p = 1 is -1 (times the upstream 3).
    np.testing.assert_array_equal(grad, [0.0, 0.0, 3.0, -3.0])


def test_binary_cross_entropy_with_logits_equals_bce_of_sigmoid_for_moderate_logits(xp):
    rng = np.random.default_rng(4)
    z, t = tensor(xp, rng.uniform(-5, 5, (6, 7))), tensor(xp, rng.uniform(0, 1, (6, 7)))
    from_logits = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    from_probabilities = F.binary_cross_entropy(F.sigmoid(z), t, reduction="none")
    np.testing.assert_allclose(from_logits.numpy(), from_probabilities.numpy(), rtol=1e-9)


def test_binary_cross_entropy_with_logits_is_exact_for_huge_logits_in_float32(xp):
    z = np.array([100.0, 100.0, -100.0, -100.0, 100.0], dtype=np.float32)
    t = np.array([1.0, 0.0, 1.0, 0.0, 0.5], dtype=np.float32)
    # The naive formula needs sigmoid(100) = 1 - 4e-44, which float32 rounds to 1: ln(1 - 1) = -inf.
    logits = tensor(xp, z, dtype="float32", requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, tensor(xp, t, dtype="float32"), reduction="none")
    expected = np.logaddexp(0, z.astype(np.float64)) - t * z  # ln(1 + e^z) - t z, stably
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6, atol=1e-30)
    loss.backward(tensor(xp, np.ones(5), dtype="float32"))
    np.testing.assert_allclose(logits.grad.numpy(), sigmoid(z.astype(np.float64)) - t, atol=1e-7)


def test_binary_cross_entropy_with_logits_is_exact_at_infinite_logits(xp):
    # The limits by hand: t softplus(-z) + (1 - t) softplus(z) is 0 where the sigmoid
    # agrees with t exactly and inf elsewhere; the gradient sigmoid(z) - t is 1 - t at
    # z = +inf and -t at z = -inf.
    inf = np.inf
    z = np.array([inf, inf, -inf, -inf, inf, -inf])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.5])
    expected_loss = np.array([0.0, inf, 0.0, inf, inf, inf])
    expected_grad = np.array([0.0, 1.0, 0.0, -1.0, 0.5, -0.5])
    upstream = np.random.default_rng(12).standard_normal(6)  # random, both signs
    for dtype in ("float32", "float64"):
        logits = tensor(xp, z, dtype=dtype, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(logits, tensor(xp, t, dtype=dtype), reduction="none")
        np.testing.assert_array_equal(loss.numpy(), expected_loss)
        loss.backward(tensor(xp, upstream, dtype=dtype))
        np.testing.assert_allclose(logits.grad.numpy(), expected_grad * upstream, rtol=1e-6)


def test_binary_cross_entropy_with_logits_fast_form_agrees_with_the_form_for_infinite_logits(xp):
    # The op computes finite logits as ln(1 + e^-|z|) + t max(-z, 0) + (1 - t) max(z, 0) and
    # switches to the where-form when a logit is infinite; both must give the same numbers.
    from nanoae.ops.loss import BCEWithLogits
    rng = np.random.default_rng(13)
    z = np.concatenate([rng.standard_normal(50) * 5, [0.0, -0.0, 88.0, -88.0, 1e30, -1e30, 20.5, -20.5]])
    t = np.concatenate([rng.uniform(0, 1, 50), [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.3]])
    for dtype in ("float32", "float64"):
        zs, ts = xp.asarray(z, dtype=dtype), xp.asarray(t, dtype=dtype)
        op = BCEWithLogits()
        op.xp = xp
        fast = F.binary_cross_entropy_with_logits(tensor(xp, z, dtype=dtype), tensor(xp, t, dtype=dtype),
                                                  reduction="none").numpy()
        careful = nanoae.backend.to_numpy(op._with_infinite_logits(zs, ts))
        np.testing.assert_allclose(fast, careful, rtol=2e-7 if dtype == "float32" else 1e-15, atol=0)
        # One infinite logit sends the whole array down the careful path: the finite ones are unchanged.
        with_inf = F.binary_cross_entropy_with_logits(tensor(xp, np.append(z, np.inf), dtype=dtype),
                                                      tensor(xp, np.append(t, 1.0), dtype=dtype), reduction="none")
        np.testing.assert_allclose(with_inf.numpy(), np.append(fast, 0.0), rtol=2e-7 if dtype == "float32" else 1e-15)


@pytest.mark.parametrize("infinite", [False, True], ids=["finite logits", "infinite logits"])
def test_binary_cross_entropy_with_logits_summed_in_the_op_matches_the_closed_form(xp, infinite):
    # reduction="sum" and "mean" sum inside the op (one number out, one number back in backward).
    # Value and both gradients against NumPy's closed form, also when infinite logits send the
    # forward down the careful path (and without a NumPy warning).
    import warnings
    rng = np.random.default_rng(14)
    z, t = rng.standard_normal(40) * 6, rng.uniform(0, 1, 40)
    t[:4] = [0.0, 1.0, 0.0, 1.0]
    per_element = t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)
    if infinite:
        z[:2] = [-np.inf, np.inf]          # t = 0 at -inf, t = 1 at +inf: loss 0
        per_element[:2] = 0
    g = rng.standard_normal()              # the upstream gradient of the one number
    for dtype in ("float32", "float64"):
        for reduction, scale in (("sum", 1.0), ("mean", 1 / len(z))):
            zs = tensor(xp, z, dtype=dtype, requires_grad=True)
            ts = tensor(xp, t, dtype=dtype, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                total = F.binary_cross_entropy_with_logits(zs, ts, reduction=reduction)
            assert total.shape == ()
            rtol = 1e-5 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(total.item(), per_element.sum() * scale, rtol=rtol)
            (total * tensor(xp, g, dtype=dtype)).backward()
            sigmoid_z = 1 / (1 + np.exp(-z))
            np.testing.assert_allclose(zs.grad.numpy(), (sigmoid_z - t) * scale * g, rtol=rtol, atol=1e-7)
            np.testing.assert_allclose(ts.grad.numpy(), -z * scale * g, rtol=rtol)


def test_binary_cross_entropy_with_logits_summed_is_nan_for_a_nan_logit(xp):
    total = F.binary_cross_entropy_with_logits(tensor(xp, [0.5, np.nan]), tensor(xp, [1.0, 0.0]), reduction="sum")
    assert np.isnan(total.item())


def test_binary_cross_entropy_with_logits_does_not_cancel_for_large_logits_in_float32(xp):
    # t = 1 - 2^-24 and z = 3 * 2^24 are exact in float32, and the loss is
    # (1 - t) z + t ln(1 + e^-z) = 3 (the second term underflows to 0). The form
    # softplus(z) - t z rounds t z to float32's spacing of 4 there and gets 4.
    t, z = 1 - 2.0 ** -24, 3 * 2.0 ** 24
    loss = F.binary_cross_entropy_with_logits(tensor(xp, [z], dtype="float32"), tensor(xp, [t], dtype="float32"),
                                              reduction="none")
    np.testing.assert_allclose(loss.numpy(), [3.0], rtol=1e-6)


def raises_value_error_saying(message):
    return pytest.raises(ValueError, match=re.escape(message))


@pytest.mark.parametrize("values, found", [
    ([-0.1, 0.5, 1.5], "[-0.1, 1.5]"),
    ([0.2, 0.5, 1.5], "[0.2, 1.5]"),
    ([-0.1, 0.0, 1.0], "[-0.1, 1]"),  # not clamped silently, as the ends 0 and 1 are
])
def test_binary_cross_entropy_rejects_input_outside_zero_one_naming_the_range_found(xp, values, found):
    p, t = tensor(xp, values, dtype="float32"), tensor(xp, [0.5] * 3, dtype="float32")
    with raises_value_error_saying(f"binary_cross_entropy: input must hold probabilities in [0, 1], got values "
                                   f"in {found}; pass logits to binary_cross_entropy_with_logits instead"):
        F.binary_cross_entropy(p, t)


def test_binary_cross_entropy_rejects_nan_input(xp):
    p, t = tensor(xp, [0.2, np.nan, 0.7]), tensor(xp, [0.5] * 3)
    with raises_value_error_saying("input must hold probabilities in [0, 1], got values in [0.2, 0.7] and NaN"):
        F.binary_cross_entropy(p, t)
    with raises_value_error_saying("got NaN;"):
        F.binary_cross_entropy(tensor(xp, [np.nan]), tensor(xp, [0.5]))


@pytest.mark.parametrize("target, found", [([0.0, 1.0, 2.0], "values in [0, 2]"),
                                           ([-1.0, 0.5, 0.5], "values in [-1, 0.5]"),
                                           ([0.0, np.nan, 1.0], "values in [0, 1] and NaN")])
def test_binary_cross_entropy_rejects_target_outside_zero_one_naming_the_range_found(xp, target, found):
    input = tensor(xp, [0.5, 0.5, 0.5])
    with raises_value_error_saying(f"binary_cross_entropy: target must hold probabilities in [0, 1], got {found}"):
        F.binary_cross_entropy(input, xp.asarray(target))


# --- the VAE's pieces ---------------------------------------------------------------

def test_gaussian_kl_is_zero_for_the_prior_and_positive_elsewhere(xp):
    zero = F.gaussian_kl(tensor(xp, np.zeros(4)), tensor(xp, np.zeros(4)), reduction="none")
    np.testing.assert_array_equal(zero.numpy(), 0)
    rng = np.random.default_rng(5)
    kl = F.gaussian_kl(tensor(xp, rng.standard_normal(50)), tensor(xp, rng.standard_normal(50)), reduction="none")
    assert np.all(kl.numpy() > 0)


def test_reparameterize_with_given_eps_is_mu_plus_std_times_eps(xp):
    rng = np.random.default_rng(6)
    mu, log_var, eps = (rng.standard_normal((3, 4)) for _ in range(3))
    z = F.reparameterize(tensor(xp, mu), tensor(xp, log_var), tensor(xp, eps))
    np.testing.assert_allclose(z.numpy(), mu + np.exp(0.5 * log_var) * eps, rtol=1e-12)


def test_reparameterize_gradient_matches_numerical_with_injected_eps(xp):
    rng = np.random.default_rng(7)
    inputs = [xp.asarray(rng.standard_normal((3, 4))) for _ in range(3)]  # mu, log_var, eps
    assert nanoae.gradcheck(F.reparameterize, inputs, names=["mu", "log_var", "eps"])


def test_reparameterize_draws_on_the_device_of_mu_in_its_dtype(xp):
    z = F.reparameterize(nanoae.zeros(3, 4), nanoae.zeros(3, 4))
    assert z.shape == (3, 4) and z.dtype == np.float32 and z.xp is xp
    assert not np.array_equal(z.numpy(), F.reparameterize(nanoae.zeros(3, 4), nanoae.zeros(3, 4)).numpy())


MU = np.array([0.5, -1.0, 0.0, 2.0])
LOG_VAR = np.array([-0.5, 1.0, -2.0, 0.3])
SAMPLES = 200_000


def draw(xp):
    """SAMPLES reparameterized draws for each of the four (mu, log_var) pairs: (SAMPLES, 4)."""
    mu = tensor(xp, np.broadcast_to(MU, (SAMPLES, 4)))
    log_var = tensor(xp, np.broadcast_to(LOG_VAR, (SAMPLES, 4)))
    return F.reparameterize(mu, log_var).numpy()


def test_reparameterized_samples_have_variance_exp_log_var(xp):
    z = draw(xp)
    np.testing.assert_allclose(z.mean(axis=0), MU, atol=0.01)
    np.testing.assert_allclose(z.var(axis=0), np.exp(LOG_VAR), rtol=0.02)


def test_monte_carlo_kl_from_reparameterized_samples_matches_gaussian_kl(xp):
    # KL(q || p) = E_{z ~ q}[ln q(z) - ln p(z)] with q = N(mu, exp(log_var)), p = N(0, 1).
    # Both densities are written here by hand, with log_var as the log of the variance.
    z = draw(xp)
    log_q = -0.5 * (np.log(2 * np.pi) + LOG_VAR + (z - MU) ** 2 / np.exp(LOG_VAR))
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2)
    monte_carlo = (log_q - log_p).mean(axis=0)
    closed_form = F.gaussian_kl(tensor(xp, MU), tensor(xp, LOG_VAR), reduction="none").numpy()
    np.testing.assert_allclose(monte_carlo, closed_form, rtol=0.02)


def test_kl_bernoulli_is_zero_when_the_rates_agree_and_rejects_rho_outside_zero_one(xp):
    np.testing.assert_allclose(F.kl_bernoulli(0.2, tensor(xp, [0.2, 0.2]), reduction="none").numpy(), 0,
                               atol=1e-15)
    for rho in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="rho must be in"):
            F.kl_bernoulli(rho, tensor(xp, [0.2]))


# --- softmax ------------------------------------------------------------------------

def test_log_softmax_and_softmax_match_numpy(xp):
    x = np.random.default_rng(8).standard_normal((4, 6)) * 3
    log_probabilities = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(tensor(xp, x)).numpy(), log_probabilities, rtol=1e-10)
    np.testing.assert_allclose(F.softmax(tensor(xp, x)).numpy(), np.exp(log_probabilities), rtol=1e-10)
    np.testing.assert_allclose(F.softmax(tensor(xp, x), axis=0).numpy().sum(axis=0), 1, rtol=1e-12)


def test_log_softmax_is_finite_for_huge_inputs_in_float32(xp):
    out = F.log_softmax(tensor(xp, [[1000.0, 1001.0, 999.0]], dtype="float32")).numpy()
    shifted = np.array([1.0, 2.0, 0.0])
    # Exact up to float32's spacing near 1000 (6e-5); e^1000 itself would be inf.
    np.testing.assert_allclose(out[0], shifted - np.log(np.exp(shifted).sum()), atol=1e-4)


@pytest.mark.parametrize("fn", [F.log_softmax, F.softmax])
def test_softmax_gradients_match_numerical(xp, fn):
    x = xp.asarray(np.random.default_rng(9).standard_normal((3, 5)))
    assert nanoae.gradcheck(fn, [x])


# --- cross-entropy -------------------------------------------------------------------

def test_cross_entropy_matches_minus_log_softmax_at_the_label(xp):
    rng = np.random.default_rng(10)
    logits, labels = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    per_row = -log_p[np.arange(6), labels]
    for reduction, expected in (("none", per_row), ("sum", per_row.sum()), ("mean", per_row.mean())):
        got = F.cross_entropy(tensor(xp, logits), xp.asarray(labels), reduction=reduction).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_times_upstream(xp):
    rng = np.random.default_rng(11)
    logits, labels, upstream = rng.standard_normal((5, 3)), rng.integers(0, 3, 5), rng.standard_normal(5)
    x = tensor(xp, logits, requires_grad=True)
    F.cross_entropy(x, labels, reduction="none").backward(xp.asarray(upstream))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), (p - np.eye(3)[labels]) * upstream[:, None], rtol=1e-10)
    assert nanoae.gradcheck(lambda z: F.cross_entropy(z, labels), [xp.asarray(logits)])


def test_cross_entropy_second_derivative_is_the_softmax_hessian(xp):
    # g = u (softmax - onehot) per row; d<g, v>/dz = u (diag(p) - p p^T) v = u (p v - p (p . v)).
    rng = np.random.default_rng(12)
    logits, labels = rng.standard_normal((4, 5)) * 2, rng.integers(0, 5, 4)
    u, v = rng.standard_normal(4), rng.standard_normal((4, 5))
    x = tensor(xp, logits, requires_grad=True)
    (first,) = nanoae.grad(F.cross_entropy(x, labels, reduction="none"), [x], grad_output=xp.asarray(u),
                           create_graph=True)
    (plain,) = nanoae.grad(F.cross_entropy(x, labels, reduction="none"), [x], grad_output=xp.asarray(u))
    np.testing.assert_allclose(first.numpy(), plain.numpy(), rtol=1e-12)   # both paths of the backward agree
    (second,) = nanoae.grad(first, [x], grad_output=xp.asarray(v))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = u[:, None] * (p * v - p * (p * v).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(second.numpy(), expected, rtol=1e-10, atol=1e-14)


def test_cross_entropy_of_huge_logits_is_finite_and_exact(xp):
    # logsumexp shifts by the row's maximum: 1000 + ln(1 + e^-1) for the first row, not inf.
    logits = tensor(xp, [[1000.0, 999.0], [-1000.0, -1000.0]], requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1 + np.log1p(np.exp(-1)), np.log(2)], rtol=1e-12)
    loss.sum().backward()
    assert np.isfinite(logits.grad.numpy()).all()


@pytest.mark.parametrize("labels, error, words", [
    (np.array([0, 1]), nanoae.ShapeError, "target (N,)"),
    (np.array([0.0, 1.0, 2.0]), TypeError, "integer"),
    (np.array([0, 3, 1]), ValueError, "[0, 3)"),
    (np.array([0, -1, 1]), ValueError, "[0, 3)"),
])
def test_cross_entropy_rejects_bad_targets_naming_the_problem(labels, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        F.cross_entropy(nanoae.tensor(np.zeros((3, 3))), labels)
