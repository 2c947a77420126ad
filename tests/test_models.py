"""The autoencoders: shapes, loss terms, training, gradients, and each model's own math.

References are independent of the code under test: finite differences
(nanoae.gradcheck, a numerical Jacobian), hand computations in NumPy, the
sample statistics of the noise, and the engine's own Jacobian by autograd.
Sizes are tiny (input 6, hidden 5, code 3) so that every check is quick.
"""
import dataclasses
import json
import pathlib

import numpy as np
import pytest

import nanoae
from nanoae import backend, functional as F, optim
from nanoae.models import (MODELS, VAE, AdversarialAutoencoder, Autoencoder, AutoencoderConfig,
                           ContractiveAutoencoder, ContractiveConfig, ConvAutoencoder, DenoisingAutoencoder,
                           DenoisingConfig, SemanticHashingAutoencoder, Seq2SeqAutoencoder, SparseAutoencoder,
                           SparseConfig, VAEConfig, VQVAE)
from weight_swap import weights_set_to

TINY = {"input_dim": 6, "hidden": (5,), "latent_dim": 3}
# The MLP autoencoders, which all take TINY's config fields. The convolutional and
# the adversarial autoencoder have their own test files (test_conv_autoencoder.py, test_aae.py).
DENSE = ["ae", "dae", "sparse", "cae", "vae"]
# The weight each model puts on its second term, and that term's name.
WEIGHTED_TERM = {"sparse": ("beta", "sparsity"), "cae": ("lam", "contractive"), "vae": ("beta", "kl")}


def tiny(name, **overrides):
    cls = MODELS[name]
    return cls(cls.config_class(**{**TINY, **overrides}))


def float64(model):
    for p in model.parameters():
        p.data = p.data.astype("float64")
    return model


def pixels(xp, *shape, seed=1, dtype="float32"):
    """Values in [0, 1], like images."""
    return nanoae.Tensor(xp.asarray(np.random.default_rng(seed).random(shape), dtype=dtype))


def both_signs(xp, *shape, seed=1, dtype="float64"):
    return nanoae.Tensor(xp.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype))


# --- every model ----------------------------------------------------------------------

def test_models_dict_maps_each_name_to_its_class_and_config():
    assert MODELS == {"ae": Autoencoder, "dae": DenoisingAutoencoder, "sparse": SparseAutoencoder,
                      "cae": ContractiveAutoencoder, "vae": VAE, "conv-ae": ConvAutoencoder,
                      "aae": AdversarialAutoencoder, "hash": SemanticHashingAutoencoder,
                      "seq2seq": Seq2SeqAutoencoder, "vq-vae": VQVAE}
    for name, cls in MODELS.items():
        assert cls.name == name
        assert isinstance(cls().config, cls.config_class)


def test_default_configs_are_the_documented_ones():
    assert VAE().config == VAEConfig(input_dim=784, hidden=(400,), latent_dim=20, activation="relu", beta=1.0)
    assert Autoencoder().config == AutoencoderConfig(784, (400,), 32, "relu", "sigmoid", "bce")
    vae = VAE()
    assert [(n, p.shape) for n, p in vae.named_parameters()] == [
        ("encoder.0.weight", (400, 784)), ("encoder.0.bias", (400,)),
        ("mu.weight", (20, 400)), ("mu.bias", (20,)), ("log_var.weight", (20, 400)), ("log_var.bias", (20,)),
        ("decoder.0.weight", (400, 20)), ("decoder.0.bias", (400,)),
        ("decoder.2.weight", (784, 400)), ("decoder.2.bias", (784,))]


@pytest.mark.parametrize("name", DENSE)
def test_output_shapes_dtype_and_device(xp, name):
    model = tiny(name)
    x = pixels(xp, 4, 6)
    z = model.code(x)
    assert z.shape == (4, 3) and z.dtype == np.float32 and z.xp is xp
    for y in (model(x), model.reconstruct(x), model.decode(z), model.decode_logits(z)):
        assert y.shape == (4, 6) and y.dtype == np.float32 and y.xp is xp
    assert ((model.decode(z).data > 0) & (model.decode(z).data < 1)).all()  # pixels, through a sigmoid


def test_encode_gives_the_code_except_for_the_vae_which_gives_mu_and_log_var(xp):
    x = pixels(xp, 4, 6)
    for name in ("ae", "dae", "sparse", "cae"):
        model = tiny(name)
        np.testing.assert_array_equal(model.encode(x).numpy(), model.code(x).numpy())
    vae = tiny("vae")
    mu, log_var = vae.encode(x)
    assert mu.shape == log_var.shape == (4, 3)
    np.testing.assert_array_equal(vae.code(x).numpy(), mu.numpy())
    np.testing.assert_array_equal(vae.reconstruct(x).numpy(), vae.decode(mu).numpy())


@pytest.mark.parametrize("name", DENSE)
def test_loss_terms_are_per_example_scalars_and_total_is_their_weighted_sum(xp, name):
    weight, term = WEIGHTED_TERM.get(name, (None, None))
    model = tiny(name, **({weight: 2.5} if weight else {}))
    total, terms = model.loss(pixels(xp, 8, 6))
    assert sorted(terms) == sorted(["recon"] + ([term] if term else []))
    assert total.shape == () and all(t.shape == () for t in terms.values())
    expected = terms["recon"].item() + (2.5 * terms[term].item() if term else 0.0)
    assert total.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", DENSE)
def test_loss_is_summed_over_features_and_averaged_over_the_batch(name):
    """The same examples twice over give the same loss: a mean over examples, not a sum."""
    model = tiny(name, **({"noise_level": 0.0} if name == "dae" else {}))
    x = pixels(np, 8, 6)
    eps = {"eps": nanoae.zeros(8, 3)} if name == "vae" else {}
    once = model.loss(x, **eps)[1]["recon"].item()
    eps = {"eps": nanoae.zeros(16, 3)} if name == "vae" else {}
    twice = model.loss(nanoae.Tensor(np.concatenate([x.data, x.data])), **eps)[1]["recon"].item()
    assert twice == pytest.approx(once, rel=1e-5)
    by_hand = F.binary_cross_entropy_with_logits(model.decode_logits(model.code(x)), x, reduction="none")
    assert once == pytest.approx(by_hand.numpy().sum(axis=1).mean(), rel=1e-5)


def low_rank_images(xp, n=32, dim=20, rank=3, seed=0):
    """Learnable data: pixels sigmoid(u v) with a 3-dimensional u per image."""
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((n, rank)) @ rng.standard_normal((rank, dim))
    return nanoae.Tensor(xp.asarray(1 / (1 + np.exp(-logits)), dtype="float32"))


@pytest.mark.parametrize("name", DENSE)
def test_loss_decreases_over_50_adam_steps(xp, name):
    model = MODELS[name](MODELS[name].config_class(input_dim=20, hidden=(16,), latent_dim=4))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    x = low_rank_images(xp)
    losses = []
    for _ in range(50):
        optimizer.zero_grad()
        total, _ = model.loss(x)
        total.backward()
        optimizer.step()
        losses.append(total.item())
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5])


@pytest.mark.parametrize("name", DENSE)
def test_loss_gradient_matches_finite_differences(xp, name):
    """d loss / d (every weight, and x) in float64, with the noise held fixed.

    The denoising model's gradient is checked for its weights only: the
    corruption is treated as data, so moving x moves the noisy input in a way
    backward rightly ignores.
    """
    model = tiny(name)
    x = both_signs(xp, 4, 6)
    eps = both_signs(xp, 4, 3, seed=2)
    params = model.parameters()

    def loss(x, *weights):
        with weights_set_to(model, weights):
            if name == "vae":
                return model.loss(x, eps=eps)[0]
            backend.manual_seed(1)  # the same corruption at every call
            return model.loss(x)[0]

    names = ["x"] + [n for n, _ in model.named_parameters()]
    if name == "dae":
        assert nanoae.gradcheck(lambda *w: loss(x, *w), params, names=names[1:])
    else:
        assert nanoae.gradcheck(loss, [x, *params], names=names)


@pytest.mark.parametrize("name", DENSE)
def test_state_dict_round_trip_restores_identical_outputs(xp, name):
    model = tiny(name)
    x = pixels(xp, 4, 6)
    backend.manual_seed(5)
    other = tiny(name)  # other weights
    assert not np.allclose(other.reconstruct(x).numpy(), model.reconstruct(x).numpy())
    other.load_state_dict({k: v.copy() for k, v in model.state_dict().items()})
    np.testing.assert_array_equal(other.reconstruct(x).numpy(), model.reconstruct(x).numpy())


@pytest.mark.parametrize("name", DENSE)
def test_config_survives_json_with_hidden_as_a_list(name):
    config = tiny(name, hidden=[5, 4]).config
    assert config.hidden == (5, 4)
    back = MODELS[name].config_class(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert back == config


@pytest.mark.parametrize("cls, fields, message", [
    (AutoencoderConfig, {"latent_dim": 0}, "latent_dim must be a positive int"),
    (AutoencoderConfig, {"input_dim": 7.5}, "input_dim must be a positive int"),
    (AutoencoderConfig, {"hidden": 400}, "hidden must be a tuple"),
    (AutoencoderConfig, {"hidden": (400, -1)}, "hidden must hold positive integers"),
    (AutoencoderConfig, {"activation": "gelu"}, "activation must be one of"),
    (AutoencoderConfig, {"output": "softmax"}, "output must be one of"),
    (AutoencoderConfig, {"recon": "l1"}, "recon must be one of"),
    (AutoencoderConfig, {"output": "linear", "recon": "bce"}, "recon='bce' needs output='sigmoid'"),
    (DenoisingConfig, {"noise": "dropout"}, "noise must be one of"),
    (DenoisingConfig, {"noise": "masking", "noise_level": 1.5}, "must be in \\[0, 1\\]"),
    (DenoisingConfig, {"noise": "gaussian", "noise_level": -0.1}, "must be >= 0"),
    (SparseConfig, {"sparsity": "l2"}, "sparsity must be one of"),
    (SparseConfig, {"rho": 0.0}, "rho must be in \\(0, 1\\)"),
    (SparseConfig, {"beta": -1.0}, "beta must be >= 0"),
    (ContractiveConfig, {"lam": -0.5}, "lam must be >= 0"),
    (VAEConfig, {"beta": float("nan")}, "beta must be >= 0"),
    (VAEConfig, {"latent_dim": True}, "latent_dim must be a positive int"),
    (VAEConfig, {"activation": "swish"}, "activation must be one of"),
])
def test_config_rejects_bad_values_with_a_clear_message(cls, fields, message):
    with pytest.raises(ValueError, match=message):
        cls(**fields)


def test_model_rejects_a_config_of_another_model():
    with pytest.raises(TypeError, match="VAE needs a VAEConfig"):
        VAE(AutoencoderConfig())


def test_models_take_the_array_module_from_tensors_and_never_import_numpy_or_cupy():
    """The house rule that lets one line run on NumPy and CuPy."""
    folder = pathlib.Path(nanoae.__file__).parent / "models"
    for path in folder.glob("*.py"):
        source = path.read_text()
        for module in ("numpy", "cupy"):
            assert f"import {module}" not in source and f"from {module}" not in source, path.name


def test_linear_output_with_mse_reconstructs_real_values(xp):
    model = tiny("ae", output="linear", recon="mse")
    x = both_signs(xp, 4, 6, dtype="float32")
    total, _ = model.loss(x)
    expected = ((model(x).numpy() - x.numpy()) ** 2).sum(axis=1).mean()
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert (model(x).numpy() < 0).any()  # no sigmoid on the outputs


def test_mse_on_sigmoid_outputs_compares_pixels(xp):
    model = tiny("ae", recon="mse")
    x = pixels(xp, 4, 6)
    expected = ((model(x).numpy() - x.numpy()) ** 2).sum(axis=1).mean()
    assert model.loss(x)[0].item() == pytest.approx(expected, rel=1e-5)


# --- denoising ------------------------------------------------------------------------

def grey(xp, n=400, dim=500):
    """Pixels strictly inside (0.2, 0.8), so that a 0 or a 1 can only be noise."""
    return nanoae.Tensor(xp.asarray(np.random.default_rng(3).uniform(0.2, 0.8, (n, dim)), dtype="float32"))


def test_masking_sets_a_fraction_level_of_inputs_to_zero_and_keeps_the_rest(xp):
    model = tiny("dae", noise="masking", noise_level=0.3)
    x = grey(xp)
    x_tilde = model.corrupt(x).numpy()
    masked = x_tilde == 0
    assert masked.mean() == pytest.approx(0.3, abs=0.005)
    np.testing.assert_array_equal(x_tilde[~masked], x.numpy()[~masked])


def test_salt_and_pepper_sets_a_fraction_level_of_inputs_to_zero_or_one_equally(xp):
    model = tiny("dae", noise="salt_pepper", noise_level=0.2)
    x = grey(xp)
    x_tilde = model.corrupt(x).numpy()
    hit = x_tilde != x.numpy()
    assert set(np.unique(x_tilde[hit])) == {0.0, 1.0}
    assert hit.mean() == pytest.approx(0.2, abs=0.005)
    assert (x_tilde[hit] == 1).mean() == pytest.approx(0.5, abs=0.01)


def test_gaussian_noise_has_std_level_and_is_clipped_only_for_pixel_outputs(xp):
    x = grey(xp)
    small = tiny("dae", noise="gaussian", noise_level=0.05).corrupt(x).numpy() - x.numpy()
    assert small.mean() == pytest.approx(0.0, abs=0.002)
    assert small.std() == pytest.approx(0.05, rel=0.01)
    clipped = tiny("dae", noise="gaussian", noise_level=1.0).corrupt(x).numpy()
    assert clipped.min() == 0 and clipped.max() == 1
    free = tiny("dae", noise="gaussian", noise_level=1.0, output="linear", recon="mse").corrupt(x).numpy()
    assert free.min() < -1 and free.max() > 2


def test_corruption_is_data_outside_the_graph(xp):
    x = nanoae.Tensor(grey(xp).data, requires_grad=True)
    assert not tiny("dae").corrupt(x).requires_grad


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_pepper"])
def test_denoising_loss_rebuilds_the_clean_input_from_the_corrupted_one(xp, noise):
    model = tiny("dae", noise=noise, noise_level=0.5)
    x = pixels(xp, 8, 6)
    backend.manual_seed(7)
    total, _ = model.loss(x)
    backend.manual_seed(7)
    x_tilde = model.corrupt(x)
    logits = model.decode_logits(model.encode(x_tilde))
    clean = F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item() / 8
    noisy = F.binary_cross_entropy_with_logits(logits, x_tilde, reduction="sum").item() / 8
    assert total.item() == pytest.approx(clean, rel=1e-6)
    assert total.item() != pytest.approx(noisy, rel=1e-3)


def test_denoising_reconstruct_uses_the_input_without_noise(xp):
    model = tiny("dae", noise_level=0.5)
    x = pixels(xp, 8, 6)
    np.testing.assert_array_equal(model.reconstruct(x).numpy(), model.decode(model.encode(x)).numpy())


# --- sparse ---------------------------------------------------------------------------

def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_sparse_code_is_a_sigmoid_of_the_last_hidden_layer(xp):
    model = tiny("sparse")
    x = pixels(xp, 8, 6)
    state = {k: backend.to_numpy(v) for k, v in model.state_dict().items()}
    hidden = np.maximum(x.numpy() @ state["encoder.0.weight"].T + state["encoder.0.bias"], 0)
    h = sigmoid(hidden @ state["encoder.2.weight"].T + state["encoder.2.bias"])
    np.testing.assert_allclose(model.code(x).numpy(), h, rtol=1e-5)


def test_sparse_kl_penalty_equals_a_hand_computation(xp):
    model = tiny("sparse", sparsity="kl", rho=0.1, beta=2.0)
    x = pixels(xp, 8, 6)
    rho_hat = model.code(x).numpy().mean(axis=0)
    rho = 0.1
    expected = (rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))).sum()
    assert model.loss(x)[1]["sparsity"].item() == pytest.approx(expected, rel=1e-5)


def test_sparse_l1_penalty_equals_a_hand_computation(xp):
    model = tiny("sparse", sparsity="l1")
    x = pixels(xp, 8, 6)
    expected = np.abs(model.code(x).numpy()).sum(axis=1).mean()
    assert model.loss(x)[1]["sparsity"].item() == pytest.approx(expected, rel=1e-5)


def test_sparse_training_brings_the_mean_activation_to_rho():
    model = SparseAutoencoder(SparseConfig(input_dim=20, hidden=(16,), latent_dim=8, rho=0.05, beta=3.0))
    x = low_rank_images(np, n=64)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    before = model.code(x).numpy().mean(axis=0)     # about 0.5 at the start
    for _ in range(150):
        optimizer.zero_grad()
        model.loss(x)[0].backward()
        optimizer.step()
    after = model.code(x).numpy().mean(axis=0)
    assert np.abs(before - 0.05).min() > 0.2
    assert np.abs(after - 0.05).max() < 0.03


# --- contractive ----------------------------------------------------------------------

def numerical_jacobian(f, x, eps=1e-6):
    """dh/dx per example by central differences, (B, latent, input), in float64 NumPy."""
    columns = []
    for i in range(x.shape[1]):
        step = x.xp.zeros(x.shape)
        step[:, i] = eps  # examples are independent: move input i of all of them at once
        up, down = f(nanoae.Tensor(x.data + step)).numpy(), f(nanoae.Tensor(x.data - step)).numpy()
        columns.append((up - down) / (2 * eps))
    return np.stack(columns, axis=2)


def test_contractive_penalty_equals_the_norm_of_a_finite_difference_jacobian():
    model = float64(tiny("cae"))
    x = both_signs(np, 4, 6)
    jacobian = numerical_jacobian(model.encode, x)
    expected = (jacobian ** 2).sum(axis=(1, 2)).mean()
    assert model.jacobian_penalty(x).item() == pytest.approx(expected, rel=1e-7)


def test_contractive_penalty_equals_the_norm_of_the_autograd_jacobian(xp):
    model = float64(tiny("cae"))
    x = both_signs(xp, 4, 6)
    jacobian = model.jacobian(x)
    assert jacobian.shape == (4, 3, 6)
    np.testing.assert_allclose(jacobian.numpy(), numerical_jacobian(model.encode, x), atol=1e-8)
    by_autograd = (jacobian * jacobian).sum().item() / 4
    assert model.jacobian_penalty(x).item() == pytest.approx(by_autograd, rel=1e-12)


def test_contractive_penalty_gradient_equals_double_backprop_through_the_autograd_jacobian(xp):
    model = float64(tiny("cae"))
    x = both_signs(xp, 4, 6)
    layer = model.encoder[0]
    closed_form = nanoae.grad(model.jacobian_penalty(x), [layer.weight, layer.bias])
    jacobian = model.jacobian(x)
    double_backprop = nanoae.grad((jacobian * jacobian).sum() / 4, [layer.weight, layer.bias])
    for a, b in zip(closed_form, double_backprop):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
        assert np.abs(a.numpy()).max() > 1e-3  # a real gradient, not two zeros


def test_contractive_encoder_is_one_sigmoid_layer_and_hidden_sizes_the_decoder():
    model = tiny("cae", hidden=(5, 4))
    assert [n for n, _ in model.named_parameters()] == [
        "encoder.0.weight", "encoder.0.bias", "decoder.0.weight", "decoder.0.bias",
        "decoder.2.weight", "decoder.2.bias", "decoder.4.weight", "decoder.4.bias"]
    assert model.encoder[0].weight.shape == (3, 6) and model.decoder[0].weight.shape == (4, 3)


def test_contractive_training_shrinks_the_jacobian():
    x = low_rank_images(np, n=64)
    penalties = {}
    for lam in (0.0, 3.0):
        backend.manual_seed(0)
        model = ContractiveAutoencoder(ContractiveConfig(input_dim=20, hidden=(16,), latent_dim=4, lam=lam))
        optimizer = optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(100):
            optimizer.zero_grad()
            model.loss(x)[0].backward()
            optimizer.step()
        penalties[lam] = model.jacobian_penalty(x).item()
    assert penalties[3.0] < 0.5 * penalties[0.0]


# --- VAE ------------------------------------------------------------------------------

def test_vae_sampling_has_the_variance_its_kl_assumes(xp):
    """Draws of z for a fixed (mu, log_var) have variance exp(log_var), and the KL term
    agrees with a Monte Carlo estimate from those very draws.

    A model that used exp(log_var) as the standard deviation (or log_var as a
    log std) in sampling, while its KL reads log_var as a log-variance, fails here.
    """
    model = tiny("vae")
    mu, log_var = np.array([0.5, -1.0, 2.0]), np.array([-1.5, 0.8, 2.0])
    for head, value in ((model.mu, mu), (model.log_var, log_var)):  # the same (mu, log_var) for every x
        head.weight.data[...] = 0
        head.bias.data[...] = xp.asarray(value)
    drawn = []

    def decode_logits(z):  # records the codes the loss decodes
        drawn.append(z.numpy())
        return model.decoder(z)
    model.decode_logits = decode_logits
    n = 20000
    _, terms = model.loss(pixels(xp, n, 6))
    z = drawn[0].astype(np.float64)
    assert (np.abs(z.mean(axis=0) - mu) < 4 * np.sqrt(np.exp(log_var) / n)).all()  # 4 standard errors
    np.testing.assert_allclose(z.var(axis=0), np.exp(log_var), rtol=0.04)
    # KL = E_q[log q(z) - log p(z)], with q = N(mu, exp(log_var)) and p = N(0, 1).
    log_q = -0.5 * (np.log(2 * np.pi) + log_var + (z - mu) ** 2 / np.exp(log_var))
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2)
    monte_carlo = (log_q - log_p).sum(axis=1).mean()
    assert terms["kl"].item() == pytest.approx(monte_carlo, rel=0.03)


def test_vae_loss_equals_a_hand_computation_with_fixed_eps():
    model = float64(tiny("vae", beta=1.7))
    x = pixels(np, 5, 6, dtype="float64")
    eps = both_signs(np, 5, 3, seed=4)
    w = {k: v for k, v in model.state_dict().items()}
    a = np.maximum(x.data @ w["encoder.0.weight"].T + w["encoder.0.bias"], 0)
    mu = a @ w["mu.weight"].T + w["mu.bias"]
    log_var = a @ w["log_var.weight"].T + w["log_var.bias"]
    z = mu + np.sqrt(np.exp(log_var)) * eps.data
    d = np.maximum(z @ w["decoder.0.weight"].T + w["decoder.0.bias"], 0)
    p = sigmoid(d @ w["decoder.2.weight"].T + w["decoder.2.bias"])
    recon = -(x.data * np.log(p) + (1 - x.data) * np.log(1 - p)).sum() / 5
    kl = -0.5 * (1 + log_var - mu ** 2 - np.exp(log_var)).sum() / 5
    total, terms = model.loss(x, eps=eps)
    assert terms["recon"].item() == pytest.approx(recon, rel=1e-10)
    assert terms["kl"].item() == pytest.approx(kl, rel=1e-10)
    assert total.item() == pytest.approx(recon + 1.7 * kl, rel=1e-10)


def test_vae_loss_draws_fresh_noise_and_reconstruct_does_not(xp):
    model = tiny("vae")
    x = pixels(xp, 4, 6)
    assert model.loss(x)[0].item() != model.loss(x)[0].item()
    assert not np.array_equal(model(x).numpy(), model(x).numpy())
    np.testing.assert_array_equal(model.reconstruct(x).numpy(), model.reconstruct(x).numpy())


def test_vae_samples_from_the_prior_in_the_weights_dtype_and_device(xp):
    model = tiny("vae")
    samples = model.sample(7)
    assert samples.shape == (7, 6) and samples.dtype == np.float32 and samples.xp is xp
    assert ((samples.data > 0) & (samples.data < 1)).all()
    assert float64(model).sample(2).dtype == np.float64


def test_vae_sample_decodes_standard_normal_codes():
    model = tiny("vae")
    backend.manual_seed(11)
    samples = model.sample(5)
    backend.manual_seed(11)
    z = nanoae.randn(5, 3)
    np.testing.assert_array_equal(samples.numpy(), model.decode(z).numpy())


@pytest.mark.parametrize("shape", [(6,), (1, 6)])
def test_vae_interpolation_runs_from_one_reconstruction_to_the_other(xp, shape):
    model = tiny("vae")
    x = pixels(xp, 2, 6)
    x_a, x_b = x[0].reshape(*shape), x[1].reshape(*shape)
    path = model.interpolate(x_a, x_b, steps=5)
    assert path.shape == (5, 6)
    ends = model.reconstruct(x).numpy()
    np.testing.assert_allclose(path.numpy()[0], ends[0], rtol=1e-6)
    np.testing.assert_allclose(path.numpy()[-1], ends[1], rtol=1e-6)
    mus = model.code(x).numpy()
    middle = model.decode(nanoae.Tensor(xp.asarray((mus[0] + mus[1]) / 2).reshape(1, 3))).numpy()
    np.testing.assert_allclose(path.numpy()[2], middle[0], rtol=1e-5)
