"""The convolutional autoencoder (nanoae/models/conv.py): shapes, loss, gradients, training, saving.

References: a hand computation of the BCE in NumPy, finite differences of the
whole model's loss (nanoae.gradcheck, float64), the sizes of the output-size
formulas worked out by hand, and the library's own training loop and plots,
which must take the model as they take the dense ones.
"""
import dataclasses
import json

import numpy as np
import pytest

import nanoae
from nanoae import optim
from nanoae.data import load_dataset
from nanoae.models.conv import ConvAutoencoder, ConvAutoencoderConfig
from nanoae.plot import save_figures
from nanoae.train import TrainConfig, fit
from weight_swap import weights_set_to

TINY = dict(image_shape=(1, 6, 5), channels=(2, 3), latent_dim=3)   # odd, non-square: 6x5 -> 3x3 -> 2x2


def pixels(xp, n, dim, seed=1, dtype="float32"):
    return nanoae.Tensor(xp.asarray(np.random.default_rng(seed).random((n, dim)), dtype=dtype))


# --- sizes ---------------------------------------------------------------------------------------

def test_feature_maps_halve_with_each_convolution():
    assert ConvAutoencoderConfig().feature_map_sizes() == [(28, 28), (14, 14), (7, 7)]
    assert ConvAutoencoderConfig(channels=(4, 4, 4)).feature_map_sizes() == [(28, 28), (14, 14), (7, 7), (4, 4)]
    assert ConvAutoencoderConfig(**TINY).feature_map_sizes() == [(6, 5), (3, 3), (2, 2)]


@pytest.mark.parametrize("config", [
    ConvAutoencoderConfig(channels=(4, 8), latent_dim=5),
    ConvAutoencoderConfig(channels=(2, 3, 4), kernel_size=5, latent_dim=2),   # 28 -> 14 -> 7 -> 4 and back
    ConvAutoencoderConfig(image_shape=(2, 7, 5), channels=(3, 2), latent_dim=4),   # two channels, odd sizes
], ids=["default-sizes", "three-layers-kernel-5", "two-channels-odd-sizes"])
def test_shapes_of_codes_and_reconstructions(xp, config):
    model = ConvAutoencoder(config)
    x = pixels(xp, 3, config.input_dim)
    z = model.encode(x)
    assert z.shape == (3, config.latent_dim) and isinstance(z.data, xp.ndarray)
    assert model.code(x).shape == (3, config.latent_dim)
    logits = model.decode_logits(z)
    x_hat = model.reconstruct(x)
    assert logits.shape == x_hat.shape == (3, config.input_dim) and x_hat.dtype == np.float32
    assert float(x_hat.data.min()) > 0 and float(x_hat.data.max()) < 1
    np.testing.assert_allclose(x_hat.numpy(), 1 / (1 + np.exp(-logits.numpy())), rtol=1e-5)


def test_encode_rejects_images_that_are_not_flat_with_a_clear_message():
    model = ConvAutoencoder(ConvAutoencoderConfig(**TINY))
    with pytest.raises(ValueError, match=r"flat images \(B, 30\).*\(2, 1, 6, 5\)"):
        model.encode(nanoae.Tensor(np.zeros((2, 1, 6, 5), dtype="float32")))


@pytest.mark.parametrize("fields, message", [
    ({"kernel_size": 4}, "kernel_size must be odd"),
    ({"channels": ()}, "at least one convolution"),
    ({"image_shape": (28, 28)}, r"\(channels, height, width\)"),
    ({"channels": (16, 0)}, "channels must hold positive integers"),
    ({"latent_dim": 0}, "latent_dim must be a positive int"),
    ({"activation": "gelu"}, "activation must be one of"),
])
def test_config_rejects_bad_values_with_a_clear_message(fields, message):
    with pytest.raises(ValueError, match=message):
        ConvAutoencoderConfig(**fields)


def test_config_survives_json_with_tuples_as_lists():
    config = ConvAutoencoderConfig(channels=(8, 16), latent_dim=10)
    again = ConvAutoencoderConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert again == config and again.channels == (8, 16) and again.image_shape == (1, 28, 28)


def test_parameter_count_of_the_default_model():
    """By hand: conv 1*16*9+16, conv 16*32*9+32, Linear 1568*32+32, Linear 32*1568+1568,
    transposed conv 32*16*9+16, transposed conv 16*1*9+1."""
    by_hand = (16 * 9 + 16) + (16 * 32 * 9 + 32) + (1568 * 32 + 32) + (32 * 1568 + 1568) + (32 * 16 * 9 + 16) + (16 * 9 + 1)
    assert sum(p.data.size for p in ConvAutoencoder().parameters()) == by_hand


# --- the loss --------------------------------------------------------------------------------------

def test_loss_is_the_bce_summed_over_pixels_and_averaged_over_the_batch(xp):
    model = ConvAutoencoder(ConvAutoencoderConfig(**TINY))
    x = pixels(xp, 4, 30)
    total, terms = model.loss(x)
    logits = model.decode_logits(model.encode(x)).numpy().astype("float64")
    target = x.numpy().astype("float64")
    p = 1 / (1 + np.exp(-logits))
    by_hand = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum() / 4
    assert set(terms) == {"recon"} and total is terms["recon"]
    np.testing.assert_allclose(total.item(), by_hand, rtol=1e-5)


def test_loss_gradient_matches_finite_differences(xp):
    """d loss / d (x and every weight) of the whole model in float64, odd non-square image sizes."""
    model = ConvAutoencoder(ConvAutoencoderConfig(**TINY))
    for p in model.parameters():
        p.data = p.data.astype("float64")
    x = nanoae.Tensor(xp.asarray(np.random.default_rng(3).standard_normal((2, 30))))   # both signs

    def loss(x, *weights):
        with weights_set_to(model, weights):
            return model.loss(x)[0]

    names = ["x"] + [n for n, _ in model.named_parameters()]
    assert nanoae.gradcheck(loss, [x, *model.parameters()], names=names)


def test_loss_decreases_on_a_few_fontdigits_batches():
    x = load_dataset("fontdigits", "train", limit=256).inputs()                      # (256, 784)
    nanoae.manual_seed(0)
    model = ConvAutoencoder(ConvAutoencoderConfig(channels=(4, 8), latent_dim=8))
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(24):
        batch = nanoae.Tensor(x[(step % 4) * 64:(step % 4 + 1) * 64])
        optimizer.zero_grad()
        total, _ = model.loss(batch)
        total.backward()
        optimizer.step()
        losses.append(total.item())
    assert np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4]), losses


def test_state_dict_round_trip_restores_identical_outputs(xp):
    model = ConvAutoencoder(ConvAutoencoderConfig(**TINY))
    x = pixels(xp, 4, 30)
    nanoae.manual_seed(5)
    other = ConvAutoencoder(ConvAutoencoderConfig(**TINY))
    assert not np.allclose(other.reconstruct(x).numpy(), model.reconstruct(x).numpy())
    other.load_state_dict({k: v.copy() for k, v in model.state_dict().items()})
    np.testing.assert_array_equal(other.reconstruct(x).numpy(), model.reconstruct(x).numpy())


# --- with the library's training loop and plots -----------------------------------------------------

def test_fit_trains_it_and_save_figures_draws_it(tmp_path):
    train, test = load_dataset("fontdigits", "train", limit=256), load_dataset("fontdigits", "test", limit=64)
    nanoae.manual_seed(0)
    model = ConvAutoencoder(ConvAutoencoderConfig(channels=(4, 8), latent_dim=8))
    history = fit(model, train.inputs(), test.inputs(), TrainConfig(epochs=2, batch_size=64, lr=3e-3),
                  out=str(tmp_path / "run"), progress=False)
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["test_recon"] < history[0]["test_recon"]
    assert (tmp_path / "run" / "checkpoint.npz").exists()
    paths, skipped = save_figures(model, test.inputs(), test.labels, history, str(tmp_path / "figures"),
                                  test.classes)
    assert skipped == []
    assert {p.split("/")[-1] for p in paths} == {"reconstructions.png", "latent.png", "loss.png"}
