"""Layers: Module bookkeeping, Linear, Sequential, activation modules and Dropout.

References are written by hand in NumPy (x @ W.T + b, the activation
formulas, the variances of the initializations) or are finite differences
(nanoae.gradcheck).
"""
import math

import numpy as np
import pytest

import nanoae
from nanoae import functional as F, nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 3)
        self.code = nn.Linear(3, 2)

    def forward(self, x):
        return self.code(F.relu(self.hidden(x)))


class AutoEncoder(nn.Module):
    """Parameters at three depths: its own, in a sub-module, in a sub-sub-module."""

    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
        self.log_scale = nn.Parameter(nanoae.zeros(1))

    def forward(self, x):
        return self.decoder(self.encoder(x)) * self.log_scale.exp()


NAMES = ["log_scale",
         "encoder.hidden.weight", "encoder.hidden.bias", "encoder.code.weight", "encoder.code.bias",
         "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias"]


def copies(module):
    return {name: p.numpy().copy() for name, p in module.named_parameters()}


def batch(xp, *shape, seed=1):
    return nanoae.tensor(xp.asarray(np.random.default_rng(seed).standard_normal(shape), dtype="float32"))


# --- Module ------------------------------------------------------------------------

def test_named_parameters_gives_nested_dotted_names():
    assert [name for name, _ in AutoEncoder().named_parameters()] == NAMES


def test_parameters_are_the_registered_parameter_objects():
    model = AutoEncoder()
    params = model.parameters()
    assert len(params) == len(NAMES)
    assert params[1] is model.encoder.hidden.weight
    assert params[-1] is model.decoder[2].bias
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)


def test_modules_and_tensors_assigned_as_attributes_are_registered_or_not():
    model = AutoEncoder()
    model.constant = nanoae.ones(3)  # a plain Tensor: not a parameter
    model.width = 16
    assert model.children() == [model.encoder, model.decoder]
    assert len(list(model.modules())) == 1 + 3 + 4  # itself, encoder (+2), decoder (+3)
    assert "constant" not in dict(model.named_parameters())


def test_reassigning_a_registered_name_replaces_or_removes_it():
    layer = nn.Linear(3, 2)
    layer.weight = nn.Parameter(nanoae.zeros(2, 3))
    assert dict(layer.named_parameters())["weight"] is layer.weight
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_forgetting_super_init_gives_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Forgetful()

    class ForgetfulWithoutLayers(nn.Module):
        def __init__(self):
            self.width = 2

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        ForgetfulWithoutLayers().parameters()


def test_train_and_eval_reach_every_submodule():
    model = AutoEncoder()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_gradient(xp):
    model = AutoEncoder()
    model(batch(xp, 5, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_gradients_accumulate_across_backward_calls_until_zeroed(xp):
    model = AutoEncoder()
    x = batch(xp, 5, 4)
    model(x).sum().backward()
    once = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    model(x).sum().backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), 2 * once[name], rtol=1e-6, atol=1e-7)
    model.zero_grad()
    model(x).sum().backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), once[name], rtol=1e-6, atol=1e-7)


def test_state_dict_holds_the_parameters_own_arrays():
    model = AutoEncoder()
    state = model.state_dict()
    assert list(state) == NAMES
    assert all(state[name] is p.data for name, p in model.named_parameters())


def test_load_state_dict_round_trip_is_in_place(xp):
    source, target = AutoEncoder(), AutoEncoder()
    x = batch(xp, 5, 4)
    assert not np.allclose(source(x).numpy(), target(x).numpy())
    params_before = {name: (p, p.data) for name, p in target.named_parameters()}
    target.load_state_dict({name: array.copy() for name, array in source.state_dict().items()})
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    for name, p in target.named_parameters():
        assert p is params_before[name][0] and p.data is params_before[name][1]


def test_load_state_dict_keeps_dtype_and_device(xp):
    model = nn.Linear(3, 2)
    state = {name: np.random.default_rng(0).standard_normal(a.shape)  # float64, on the CPU
             for name, a in model.state_dict().items()}
    model.load_state_dict(state)
    assert model.weight.dtype == np.float32 and model.weight.xp is xp
    np.testing.assert_allclose(model.weight.numpy(), state["weight"], rtol=1e-6)


def test_load_state_dict_names_missing_unexpected_and_misshaped_entries_and_changes_nothing():
    model = AutoEncoder()
    before = copies(model)
    state = {name: array.copy() + 1 for name, array in model.state_dict().items()}
    del state["encoder.code.bias"]
    state["decoder.5.weight"] = np.zeros((2, 2))
    state["encoder.hidden.weight"] = np.zeros((4, 3))  # transposed
    with pytest.raises(nanoae.ShapeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "encoder.code.bias" in message and "decoder.5.weight" in message
    assert "encoder.hidden.weight" in message and "(4, 3)" in message and "(3, 4)" in message
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.numpy(), before[name])


def test_load_state_dict_non_strict_skips_missing_and_unexpected_but_not_misshaped():
    model = nn.Linear(3, 2)
    old_bias = model.bias.numpy().copy()
    new_weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    model.load_state_dict({"weight": new_weight, "extra": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model.weight.numpy(), new_weight)
    np.testing.assert_array_equal(model.bias.numpy(), old_bias)
    with pytest.raises(nanoae.ShapeError, match="bias"):
        model.load_state_dict({"bias": np.zeros(3)}, strict=False)


def test_to_cpu_moves_parameters_and_gradients_and_returns_the_module(xp):
    model = AutoEncoder()
    model(batch(xp, 5, 4)).sum().backward()
    before = copies(model)
    assert model.to("cpu") is model
    for name, p in model.named_parameters():
        assert p.device == "cpu" and p.grad.device == "cpu"
        assert isinstance(p.data, np.ndarray)
        np.testing.assert_array_equal(p.data, before[name])


def test_repr_shows_nested_layers_and_their_settings():
    model = nn.Sequential(nn.Linear(4, 3, bias=False), nn.LeakyReLU(0.2), nn.Dropout(0.25))
    assert repr(model) == ("Sequential(\n"
                           "  (0): Linear(in_features=4, out_features=3, bias=False)\n"
                           "  (1): LeakyReLU(negative_slope=0.2)\n"
                           "  (2): Dropout(p=0.25)\n"
                           ")")
    assert "(encoder): Encoder(\n    (hidden): Linear(in_features=4" in repr(AutoEncoder())


# --- Linear ------------------------------------------------------------------------

def test_linear_output_equals_x_times_weight_transposed_plus_bias(xp):
    layer = nn.Linear(5, 3)
    for shape in [(4, 5), (2, 4, 5)]:  # a batch, and a batch of batches
        x = batch(xp, *shape)
        expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
        np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_linear_weight_has_shape_out_by_in_and_float32_by_default(xp):
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer.weight.xp is xp
    assert layer(batch(xp, 2, 5)).dtype == np.float32
    assert nn.Linear(5, 3, dtype="float64").weight.dtype == np.float64


def test_linear_without_bias_has_only_a_weight(xp):
    layer = nn.Linear(5, 3, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = batch(xp, 4, 5)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy().T, rtol=1e-5, atol=1e-6)


def test_linear_default_init_is_uniform_within_one_over_sqrt_in_features():
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound
    # Uniform in +-b has variance b^2 / 3.
    assert layer.weight.numpy().var() == pytest.approx(bound ** 2 / 3, rel=0.03)


@pytest.mark.parametrize("init, variance, uniform", [
    ("xavier_uniform", lambda fan_in, fan_out: 2 / (fan_in + fan_out), True),
    ("xavier_normal", lambda fan_in, fan_out: 2 / (fan_in + fan_out), False),
    ("he_uniform", lambda fan_in, fan_out: 2 / fan_in, True),
    ("he_normal", lambda fan_in, fan_out: 2 / fan_in, False),
])
def test_linear_init_has_the_documented_variance(init, variance, uniform):
    fan_in, fan_out = 500, 300
    layer = nn.Linear(fan_in, fan_out, init=init)
    w = layer.weight.numpy().astype(np.float64)
    assert w.mean() == pytest.approx(0, abs=0.01 * w.std())
    assert w.var() == pytest.approx(variance(fan_in, fan_out), rel=0.03)
    # A uniform distribution with this variance stops at sqrt(3) standard
    # deviations; 150,000 normal samples go well past that.
    edge = math.sqrt(3 * variance(fan_in, fan_out))
    if uniform:
        assert edge * 0.99 < np.abs(w).max() <= edge
    else:
        assert np.abs(w).max() > 2 * edge
    np.testing.assert_array_equal(layer.bias.numpy(), 0)


def test_linear_unknown_init_raises_value_error():
    with pytest.raises(ValueError, match="glorot"):
        nn.Linear(3, 2, init="glorot")


def test_linear_wrong_input_width_raises_shape_error_naming_the_sizes(xp):
    layer = nn.Linear(5, 3)
    with pytest.raises(nanoae.ShapeError, match=r"Linear\(5, 3\).*\(4, 6\).*5"):
        layer(batch(xp, 4, 6))


def test_linear_gradient_matches_numerical_for_input_weight_and_bias(xp):
    rng = np.random.default_rng(2)
    x, weight, bias = (xp.asarray(rng.standard_normal(shape)) for shape in [(4, 5), (3, 5), (3,)])
    assert nanoae.gradcheck(F.linear, [x, weight, bias], names=["x", "weight", "bias"])
    assert nanoae.gradcheck(F.linear, [x, weight], names=["x", "weight"])


def test_linear_layer_gradients_reach_its_parameters(xp):
    layer = nn.Linear(5, 3)
    x = batch(xp, 4, 5)
    g = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    layer(x).backward(nanoae.tensor(xp.asarray(g)))
    np.testing.assert_allclose(layer.weight.grad.numpy(), g.T @ x.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.bias.grad.numpy(), g.sum(axis=0), rtol=1e-5, atol=1e-6)


# --- Sequential and activations ----------------------------------------------------------

def test_sequential_indexing_len_and_iteration():
    layers = [nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)]
    model = nn.Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]


def test_sequential_applies_its_layers_in_order(xp):
    first, second = nn.Linear(4, 3), nn.Linear(3, 2)
    x = batch(xp, 5, 4)
    hidden = np.maximum(x.numpy() @ first.weight.numpy().T + first.bias.numpy(), 0)
    expected = hidden @ second.weight.numpy().T + second.bias.numpy()
    out = nn.Sequential(first, nn.ReLU(), second)(x)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


ACTIVATIONS = [
    (nn.Identity(), lambda x: x),
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
]
ACTIVATION_IDS = [type(module).__name__ for module, _ in ACTIVATIONS]


@pytest.mark.parametrize("module, formula", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_module_matches_its_formula(xp, module, formula):
    x = np.random.default_rng(4).standard_normal((6, 7)) * 3  # both signs
    out = module(nanoae.tensor(xp.asarray(x)))
    np.testing.assert_allclose(out.numpy(), formula(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("module, formula", ACTIVATIONS[1:], ids=ACTIVATION_IDS[1:])
def test_activation_module_gradient_matches_numerical(xp, module, formula):
    x = xp.asarray(np.random.default_rng(5).standard_normal((3, 4)))
    assert nanoae.gradcheck(module, [x])


# --- Dropout -----------------------------------------------------------------------

def test_dropout_in_eval_mode_is_the_identity(xp):
    dropout = nn.Dropout(0.5).eval()
    x = batch(xp, 50, 40)
    np.testing.assert_array_equal(dropout(x).numpy(), x.numpy())


def test_dropout_in_training_zeroes_about_p_and_scales_the_rest(xp):
    p = 0.3
    x = np.random.default_rng(6).uniform(1, 2, (200, 500)).astype(np.float32)  # never 0 by itself
    out = nn.Dropout(p)(nanoae.tensor(xp.asarray(x))).numpy()
    dropped = out == 0
    assert dropped.mean() == pytest.approx(p, abs=0.005)
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-6)
    assert out.mean() == pytest.approx(x.mean(), rel=0.01)


def test_dropout_gradient_is_the_same_mask_and_scale(xp):
    p = 0.5
    x = nanoae.tensor(xp.asarray(np.random.default_rng(7).uniform(1, 2, (20, 30))), requires_grad=True)
    g = np.random.default_rng(8).standard_normal((20, 30))
    out = nn.Dropout(p)(x)
    out.backward(nanoae.tensor(xp.asarray(g)))
    kept = out.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), g * kept / (1 - p), rtol=1e-12)


def test_dropout_draws_a_new_mask_each_call(xp):
    dropout, x = nn.Dropout(0.5), batch(xp, 10, 10)
    assert not np.array_equal(dropout(x).numpy() == 0, dropout(x).numpy() == 0)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_outside_zero_one_raises(p):
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="p must be in"):
        F.dropout(nanoae.ones(3), p)
