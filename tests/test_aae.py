"""The adversarial autoencoder (nanoae/models/aae.py) and the loop's support for models trained in phases.

The tests of the model's arithmetic (phases, losses, prior draws) take ``xp`` and run on NumPy and on CuPy;
those of fit, checkpoints and figures run on NumPy.
"""
import math

import numpy as np
import pytest

import nanoae
from nanoae import backend, plot
from nanoae.data import load_dataset
from nanoae.autograd import Tensor
from nanoae.checkpoint import load_checkpoint, restore_checkpoint
from nanoae.models import AutoencoderConfig, build_model
from nanoae.models.aae import AAEConfig, AdversarialAutoencoder, mixture_means
from nanoae.train import NonFiniteError, TrainConfig, fit
import nanoae.checkpoint as checkpoint_module

SMALL = {"input_dim": 16, "hidden": (12,), "latent_dim": 2, "disc_hidden": (8,)}


def small_model(seed=0, **changes):
    backend.manual_seed(seed)
    return AdversarialAutoencoder(AAEConfig(**{**SMALL, **changes}))


def data(n, seed):
    """(n, 16) pixel-like values in [0, 1]."""
    return np.random.default_rng(seed).random((n, 16), dtype=np.float32)


def pixels(xp, n, seed):
    """data(n, seed) as a Tensor on the backend ``xp``."""
    return Tensor(xp.asarray(data(n, seed)))


def snapshot(module):
    """A NumPy copy of every parameter of ``module``, by name."""
    return {name: backend.to_numpy(array).copy() for name, array in module.state_dict().items()}


def changed(module, before):
    """The names of the parameters of ``module`` whose values differ from ``before``."""
    return {name for name, array in snapshot(module).items() if not np.array_equal(array, before[name])}


def on_backend(module, xp):
    return all(isinstance(p.data, xp.ndarray) for p in module.parameters())


def names(module):
    return {name for name, _ in module.named_parameters()}


def with_grad(module):
    return {name for name, p in module.named_parameters() if p.grad is not None}


# --- the three phases move only their own parameters -------------------------------------------

def test_reconstruction_step_updates_encoder_and_decoder_only(xp):
    model = small_model()
    optimizers = model.make_optimizers(TrainConfig(lr=1e-2))
    before = snapshot(model)
    model.reconstruction_step(pixels(xp, 32, 1), optimizers["recon"])
    assert changed(model, before) == {"encoder." + n for n in names(model.encoder)} | \
        {"decoder." + n for n in names(model.decoder)}
    assert with_grad(model.discriminator) == set()
    assert on_backend(model, xp)


def test_discriminator_step_updates_the_discriminator_only_and_sends_no_gradient_to_the_encoder(xp):
    model = small_model()
    optimizers = model.make_optimizers(TrainConfig(lr=1e-2))
    before = snapshot(model)
    model.discriminator_step(pixels(xp, 32, 1), optimizers["disc"])
    assert changed(model, before) == {"discriminator." + n for n in names(model.discriminator)}
    assert with_grad(model.encoder) == set() and with_grad(model.decoder) == set()
    assert on_backend(model, xp)


def test_generator_step_updates_the_encoder_only(xp):
    model = small_model()
    optimizers = model.make_optimizers(TrainConfig(lr=1e-2))
    before = snapshot(model)
    model.generator_step(pixels(xp, 32, 1), optimizers["gen"])
    assert changed(model, before) == {"encoder." + n for n in names(model.encoder)}
    # The gradient flows through the discriminator into the encoder, but the decoder is not involved.
    assert with_grad(model.encoder) == names(model.encoder) and with_grad(model.decoder) == set()
    assert on_backend(model, xp)


def test_each_phase_starts_from_cleared_gradients(xp):
    """A leftover discriminator gradient from the generator phase must not leak into the next step."""
    model = small_model()
    optimizers = model.make_optimizers(TrainConfig(lr=1e-2))
    x = pixels(xp, 32, 1)
    model.generator_step(x, optimizers["gen"])                  # leaves gradients on the discriminator
    for p in model.discriminator.parameters():
        p.grad = Tensor(xp.full_like(p.data, 1e6))              # a huge stale gradient
    state = backend.get_rng_state()
    model.discriminator_step(x, optimizers["disc"])
    dirty = snapshot(model.discriminator)

    clean = small_model()
    clean_optimizers = clean.make_optimizers(TrainConfig(lr=1e-2))
    clean.generator_step(x, clean_optimizers["gen"])
    backend.set_rng_state(state)      # the same prior draws (on CuPy, small_model's seed restarts its generator)
    clean.discriminator_step(x, clean_optimizers["disc"])
    for name, array in snapshot(clean.discriminator).items():
        np.testing.assert_array_equal(dirty[name], array)


def test_train_step_returns_the_reconstruction_as_total_and_three_finite_terms(xp):
    model = small_model()
    total, terms = model.train_step(pixels(xp, 32, 1), model.make_optimizers(TrainConfig()))
    assert set(terms) == {"recon", "disc", "gen"}
    assert total.item() == terms["recon"].item()
    assert all(math.isfinite(t.item()) for t in terms.values())
    assert all(isinstance(t.data, xp.ndarray) for t in terms.values()) and on_backend(model, xp)


def test_make_optimizers_uses_the_config_and_the_separate_learning_rates():
    model = small_model(disc_lr=3e-4)
    optimizers = model.make_optimizers(TrainConfig(lr=1e-2, optimizer="sgd"))
    assert {name: type(o).__name__ for name, o in optimizers.items()} == {"recon": "SGD", "disc": "SGD", "gen": "SGD"}
    assert (optimizers["recon"].lr, optimizers["disc"].lr, optimizers["gen"].lr) == (1e-2, 3e-4, 1e-2)
    assert len(optimizers["gen"].params) == len(model.encoder.parameters())


# --- the losses --------------------------------------------------------------------------------

def test_discriminator_and_generator_losses_match_their_closed_forms(xp):
    model = small_model()
    rng = np.random.default_rng(3)
    z_prior, z_codes = Tensor(xp.asarray(rng.standard_normal((9, 2)).astype("float32"))), \
        Tensor(xp.asarray(rng.standard_normal((9, 2)).astype("float32") + 2))
    d_real, d_fake = model.discriminate(z_prior).numpy(), model.discriminate(z_codes).numpy()
    softplus = lambda t: np.logaddexp(0, t.astype(np.float64))  # noqa: E731
    assert model.discriminator_loss(z_prior, z_codes).item() == pytest.approx(
        softplus(-d_real).mean() + softplus(d_fake).mean(), rel=1e-5)
    assert model.generator_loss(z_codes).item() == pytest.approx(softplus(-d_fake).mean(), rel=1e-5)


def test_loss_evaluates_without_changing_the_weights_and_its_recon_is_the_bce_per_image(xp):
    model = small_model()
    x = data(20, 4)
    before = snapshot(model)
    with nanoae.no_grad():
        total, terms = model.loss(Tensor(xp.asarray(x)))
        x_hat = model.reconstruct(Tensor(xp.asarray(x))).numpy().astype(np.float64)
    assert changed(model, before) == set()
    expected = -(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat)).sum() / len(x)
    assert total.item() == pytest.approx(expected, rel=1e-4) and terms["recon"].item() == total.item()


def test_discriminator_learns_to_tell_shifted_codes_from_the_prior(xp):
    model = small_model(disc_hidden=(16, 16))
    model.encoder[-1].bias.data += 3.0           # every code moves by (3, 3), away from N(0, I)
    x = pixels(xp, 128, 1)
    optimizer = model.make_optimizers(TrainConfig(lr=1e-2))["disc"]

    def accuracy():
        with nanoae.no_grad():
            real = model.discriminate(model.sample_prior(500)).numpy() > 0    # "prior" when the logit is > 0
            fake = model.discriminate(model.encode(x)).numpy() > 0
        return (real.sum() + (~fake).sum()) / (len(real) + len(fake))

    start = accuracy()
    for _ in range(150):
        model.discriminator_step(x, optimizer)
    assert start < 0.8 and accuracy() > 0.95


def energy_distance(a, b):
    """2 E|a - b| - E|a - a'| - E|b - b'| for samples a (n, J) and b (m, J): zero when they have the
    same distribution (Szekely & Rizzo), the mean pairwise Euclidean distances estimated by brute force."""
    def mean_distance(u, v):
        return np.sqrt(((u[:, None, :] - v[None, :, :]) ** 2).sum(axis=2)).mean()
    return 2 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b)


def test_generator_steps_lower_the_generator_loss_and_raise_the_discriminators(xp):
    """With the discriminator held fixed, the encoder's steps make its codes look more like prior draws."""
    model = small_model(disc_hidden=(16, 16))
    x = pixels(xp, 64, 1)
    z_prior = model.sample_prior(64)
    optimizer = model.make_optimizers(TrainConfig(lr=1e-3))["gen"]
    with nanoae.no_grad():
        gen_before = model.generator_loss(model.encode(x)).item()
        disc_before = model.discriminator_loss(z_prior, model.encode(x)).item()
    for _ in range(5):
        model.generator_step(x, optimizer)
    with nanoae.no_grad():
        assert model.generator_loss(model.encode(x)).item() < gen_before
        assert model.discriminator_loss(z_prior, model.encode(x)).item() > disc_before


def test_codes_move_toward_the_gaussian_prior_in_a_short_training_on_fontdigits():
    """Compared with the same network trained only to reconstruct (a plain autoencoder), the AAE's codes
    are many times closer to N(0, I) in energy distance."""
    images = load_dataset("fontdigits", "train", limit=1000).inputs()
    config = TrainConfig(epochs=6, batch_size=32, lr=1e-3, seed=0)
    backend.manual_seed(0)
    aae = AdversarialAutoencoder(AAEConfig(hidden=(128,), latent_dim=2, disc_hidden=(64, 64)))
    fit(aae, images, config=config, progress=False)
    plain = build_model("ae", AutoencoderConfig(hidden=(128,), latent_dim=2), seed=0)
    fit(plain, images, config=config, progress=False)
    prior = np.random.default_rng(1).standard_normal((1000, 2))
    aae_codes = plot.run_on_array(aae.code, images, aae)                   # (N, 2)
    plain_codes = plot.run_on_array(plain.code, images, plain)
    assert energy_distance(aae_codes, prior) < 0.25 * energy_distance(plain_codes, prior)
    assert np.abs(aae_codes.mean(axis=0)).max() < 2.0


# --- the prior --------------------------------------------------------------------------------

def test_gaussian_prior_draws_have_zero_mean_and_identity_covariance(xp):
    model = small_model(latent_dim=3)
    z = model.sample_prior(20000)
    assert isinstance(z.data, xp.ndarray)
    z = z.numpy()
    assert z.shape == (20000, 3) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(np.cov(z.T), np.eye(3), atol=0.05)


@pytest.mark.parametrize("latent_dim", [2, 4])
def test_mixture_prior_draws_fall_in_equal_components_around_means_on_a_circle(xp, latent_dim):
    model = small_model(latent_dim=latent_dim, prior="mixture", num_components=10, mixture_radius=4.0,
                        mixture_std=0.3)
    z = model.sample_prior(20000)
    assert isinstance(z.data, xp.ndarray)
    z = z.numpy().astype(np.float64)                                           # (n, J)
    angles = 2 * np.pi * np.arange(10) / 10
    means = np.zeros((10, latent_dim))
    means[:, 0], means[:, 1] = 4 * np.cos(angles), 4 * np.sin(angles)          # an independent reference
    np.testing.assert_allclose(backend.to_numpy(mixture_means(10, 4.0, latent_dim, xp)), means, atol=1e-12)
    nearest = ((z[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)  # (n,), 2.5 std apart at least
    counts = np.bincount(nearest, minlength=10)
    assert np.all(np.abs(counts - 2000) < 5 * math.sqrt(20000 * 0.1 * 0.9))  # equal weights, within 5 sigma
    residual = z - means[nearest]
    np.testing.assert_allclose(residual.mean(axis=0), 0, atol=0.02)
    np.testing.assert_allclose(residual.std(axis=0), 0.3, rtol=0.05)


def test_sample_decodes_prior_draws_into_images(xp):
    model = small_model()
    with nanoae.no_grad():
        images = model.sample(7)
    assert isinstance(images.data, xp.ndarray)
    images = images.numpy()
    assert images.shape == (7, 16) and np.all((images > 0) & (images < 1))


# --- configuration errors --------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    ({"prior": "uniform"}, "prior must be one of 'gaussian', 'mixture'"),
    ({"latent_dim": 0}, "latent_dim must be a positive int"),
    ({"disc_hidden": 64}, "disc_hidden must be a tuple"),
    ({"disc_hidden": (64, 0)}, "disc_hidden must hold positive integers"),
    ({"num_components": 0}, "num_components must be a positive int"),
    ({"mixture_std": -0.5}, "mixture_std must be positive"),
    ({"mixture_radius": 0.0}, "mixture_radius must be positive"),
    ({"disc_lr": 0.0}, "disc_lr must be positive"),
])
def test_bad_config_is_refused_with_a_message_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AAEConfig(**changes)


def test_config_read_back_from_json_compares_equal():
    config = AAEConfig(hidden=[32], disc_hidden=[16, 16])
    assert config == AAEConfig(hidden=(32,), disc_hidden=(16, 16))


# --- fit, checkpoints and resume ---------------------------------------------------------------

def run(out, epochs, resume=None):
    model = small_model(seed=0, prior="mixture")
    config = TrainConfig(epochs=epochs, batch_size=32, lr=1e-2, seed=0)
    return fit(model, data(160, 1), data(48, 2), config, out=out, resume=resume, progress=False)


def without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_fit_records_the_three_terms_and_checkpoints_every_optimizer(tmp_path):
    history = run(tmp_path, epochs=2)
    assert {k for k in history[0] if k.startswith("train_")} == {"train_total", "train_recon", "train_disc",
                                                                 "train_gen"}
    state = load_checkpoint(tmp_path / "checkpoint.npz")
    assert set(state["optimizer"]) == {"recon", "disc", "gen"}
    assert all(state["optimizer"][name]["steps"] == 2 * 5 for name in ("recon", "disc", "gen"))  # 160 / 32 = 5


def test_resume_of_a_phased_model_gives_exactly_the_losses_of_an_uninterrupted_run(tmp_path):
    straight = run(tmp_path / "straight", epochs=4)
    run(tmp_path / "stopped", epochs=2)
    resumed = run(tmp_path / "resumed", epochs=4, resume=tmp_path / "stopped" / "checkpoint.npz")
    assert without_time(resumed) == without_time(straight)


def test_resume_without_the_optimizers_states_would_differ(tmp_path, monkeypatch):
    """The exact-resume test can fail: fresh Adam moments after the restart change the losses."""
    straight = run(tmp_path / "straight", epochs=3)
    run(tmp_path / "stopped", epochs=2)
    monkeypatch.setattr(checkpoint_module, "load_optimizer_state", lambda optimizer, state, path: None)
    resumed = run(tmp_path / "resumed", epochs=3, resume=tmp_path / "stopped" / "checkpoint.npz")
    assert resumed[2]["train_recon"] != straight[2]["train_recon"]


def test_resume_refuses_a_checkpoint_with_other_optimizers(tmp_path):
    run(tmp_path, epochs=1)
    model = small_model(prior="mixture")
    optimizers = model.make_optimizers(TrainConfig())
    del optimizers["gen"]
    with pytest.raises(ValueError, match=r"holds optimizers \['disc', 'gen', 'recon'\]"):
        restore_checkpoint(tmp_path / "checkpoint.npz", model, optimizers)


def test_a_model_with_only_one_of_the_two_phase_methods_is_refused():
    class OnlyStep(nanoae.nn.Module):
        name, config = "only-step", None

        def train_step(self, x, optimizers):
            raise AssertionError("never called")

    with pytest.raises(TypeError, match="must define both make_optimizers"):
        fit(OnlyStep(), data(8, 1), config=TrainConfig(epochs=1), progress=False)


class NaNAt(AdversarialAutoencoder):
    """An AAE whose discriminator loss turns NaN at one training batch (a planted divergence)."""

    def __init__(self, config, bad_call):
        super().__init__(config)
        self.calls, self.bad_call = 0, bad_call

    def discriminator_step(self, x, optimizer):
        disc = super().discriminator_step(x, optimizer)
        self.calls += 1
        return disc * float("nan") if self.calls == self.bad_call else disc


def test_a_non_finite_term_stops_a_phased_run_naming_epoch_batch_and_term(tmp_path):
    backend.manual_seed(0)
    model = NaNAt(AAEConfig(**SMALL), bad_call=5 + 2)            # 160 / 32 = 5 batches: epoch 2, batch 2
    with pytest.raises(NonFiniteError, match=r"epoch 2, batch 2 of 5 \(disc nan\)"):
        fit(model, data(160, 1), config=TrainConfig(epochs=3, batch_size=32), out=tmp_path, progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.npz")["epoch"] == 1


# --- figures ------------------------------------------------------------------------------------

def test_save_figures_draws_codes_samples_and_manifold_for_a_2d_aae(tmp_path):
    model = small_model()
    history = fit(model, data(64, 1), data(32, 2), TrainConfig(epochs=1, batch_size=32), progress=False)
    paths, skipped = plot.save_figures(model, data(32, 2), np.arange(32) % 10, history, tmp_path)
    assert skipped == []
    assert {p.rsplit("/", 1)[-1] for p in map(str, paths)} == {"reconstructions.png", "latent.png", "loss.png",
                                                               "samples.png", "manifold.png"}
