"""The sequence-to-sequence autoencoder (nanoae/models/seq2seq.py).

References: the loss written out by hand from the logits (NumPy), the loss of
each unpadded sequence on its own for a padded batch, and short training runs
that must lower the loss. The tests of the model's arithmetic take ``xp`` and
run on NumPy and on CuPy.
"""
import numpy as np
import pytest

import nanoae
from nanoae import backend, optim
from nanoae.cli import train as train_command
from nanoae.models import MODELS
from nanoae.models.seq2seq import Seq2SeqAutoencoder, Seq2SeqConfig, sequence_mask
from nanoae.autograd import ShapeError, Tensor

rng = np.random.default_rng(0)


def frames_model(recon="bce", **kw):
    backend.manual_seed(0)
    return Seq2SeqAutoencoder(Seq2SeqConfig(input_dim=3, hidden_size=8, latent_dim=4, recon=recon, **kw))


def tokens_model():
    backend.manual_seed(0)
    return Seq2SeqAutoencoder(Seq2SeqConfig(vocab_size=6, embedding_dim=5, hidden_size=8, latent_dim=4,
                                            recon="cross_entropy"))


def softplus(a):
    return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))


def test_shapes_of_code_logits_and_reconstruction(xp):
    model = frames_model()
    x = Tensor(xp.asarray(rng.random((5, 7, 3)).astype(np.float32)))
    z = model.encode(x)
    assert z.shape == (5, 4) and isinstance(z.data, xp.ndarray)
    assert model.decode_logits(model.encode(x), 9).shape == (5, 9, 3)
    assert model.reconstruct(x).shape == (5, 7, 3)
    tokens = tokens_model()
    ids = Tensor(xp.asarray(rng.integers(0, 6, (5, 7))))
    assert tokens.encode(ids).shape == (5, 4)
    assert tokens.decode(tokens.encode(ids), 7).shape == (5, 7, 6)
    np.testing.assert_allclose(tokens.decode(tokens.encode(ids), 7).numpy().sum(axis=-1), 1, rtol=1e-5)


def test_bce_loss_is_summed_over_steps_and_features_and_averaged_over_sequences(xp):
    model = frames_model()
    x = rng.random((4, 6, 3)).astype(np.float32)
    logits = model.decode_logits(model.encode(Tensor(xp.asarray(x))), 6).numpy().astype(np.float64)
    expected = (softplus(logits) - x * logits).sum() / 4
    total, terms = model.loss(Tensor(xp.asarray(x)))
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert terms["recon"] is total


def test_mse_loss_is_the_summed_squared_error_per_sequence(xp):
    model = frames_model(recon="mse")
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    out = model.decode_logits(model.encode(Tensor(xp.asarray(x))), 6).numpy().astype(np.float64)
    assert model.loss(Tensor(xp.asarray(x)))[0].item() == pytest.approx(((out - x) ** 2).sum() / 4, rel=1e-5)


@pytest.mark.parametrize("kind", ["bce", "mse", "tokens"])
def test_padding_does_not_change_the_loss(xp, kind):
    """A padded batch's loss is the mean of each sequence's own loss, whatever the padding holds."""
    model = tokens_model() if kind == "tokens" else frames_model(recon=kind)
    lengths = np.array([2, 5, 4])
    if kind == "tokens":
        padded = rng.integers(0, 6, (3, 5))
    else:
        padded = rng.random((3, 5, 3)).astype(np.float32)
    garbage = padded.copy()
    for i, n in enumerate(lengths):
        garbage[i, n:] = rng.integers(0, 6, garbage[i, n:].shape) if kind == "tokens" else 7.5
    loss = model.loss(Tensor(xp.asarray(garbage)), xp.asarray(lengths))[0].item()
    own = [model.loss(Tensor(xp.asarray(padded[i:i + 1, :n])))[0].item() for i, n in enumerate(lengths)]
    assert loss == pytest.approx(np.mean(own), rel=1e-5)


def test_cross_entropy_loss_matches_log_softmax_by_hand(xp):
    model = tokens_model()
    ids = rng.integers(0, 6, (3, 5))
    lengths = np.array([5, 1, 3])
    x, x_lengths = Tensor(xp.asarray(ids)), xp.asarray(lengths)
    logits = model.decode_logits(model.encode(x, x_lengths), 5).numpy().astype(np.float64)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, ids[..., None], axis=-1)[..., 0]           # (N, T)
    mask = np.arange(5)[None] < lengths[:, None]
    assert model.loss(x, x_lengths)[0].item() == pytest.approx(-(picked * mask).sum() / 3, rel=1e-5)


def test_reconstruct_is_zero_or_minus_one_past_the_length(xp):
    lengths = xp.asarray([3, 6])
    frames = frames_model().reconstruct(Tensor(xp.asarray(rng.random((2, 6, 3)).astype(np.float32))), lengths)
    ids = tokens_model().reconstruct(Tensor(xp.asarray(rng.integers(0, 6, (2, 6)))), lengths)
    assert isinstance(frames.data, xp.ndarray) and isinstance(ids.data, xp.ndarray)
    frames, ids = frames.numpy(), ids.numpy()
    assert np.all(frames[0, 3:] == 0) and np.all(frames[0, :3] > 0)
    assert np.all(ids[0, 3:] == -1) and np.all(ids[0, :3] >= 0) and np.all(ids[1] >= 0)


def test_sequence_mask_marks_the_real_steps(xp):
    mask = sequence_mask(xp.asarray([0, 2, 4]), 4, xp)
    assert isinstance(mask, xp.ndarray)
    np.testing.assert_array_equal(backend.to_numpy(mask), [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]])
    assert sequence_mask(None, 4, xp) is None


@pytest.mark.parametrize("kind", ["bce", "tokens"])
def test_training_lowers_the_loss(xp, kind):
    model = tokens_model() if kind == "tokens" else frames_model()
    x = rng.integers(0, 6, (8, 5)) if kind == "tokens" else (rng.random((8, 5, 3)) > 0.5).astype(np.float32)
    lengths = rng.integers(2, 6, 8)
    x, lengths = Tensor(xp.asarray(x)), xp.asarray(lengths)
    opt = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss, _ = model.loss(x, lengths)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses[::10]
    assert all(isinstance(p.data, xp.ndarray) for p in model.parameters())


def test_config_and_inputs_are_checked():
    with pytest.raises(ValueError, match="cross_entropy"):
        Seq2SeqConfig(vocab_size=5)
    with pytest.raises(ValueError, match="cross_entropy"):
        Seq2SeqConfig(recon="cross_entropy")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        Seq2SeqConfig(hidden_size=0)
    with pytest.raises(ShapeError, match=r"frames must have shape \(N, T, 3\)"):
        frames_model().loss(Tensor(np.zeros((2, 9), np.float32)))
    with pytest.raises(ShapeError, match="tokens must be integers"):
        tokens_model().loss(Tensor(np.zeros((2, 5), np.float32)))
    with pytest.raises(TypeError, match="Seq2SeqConfig"):
        Seq2SeqAutoencoder(nanoae.models.AutoencoderConfig())


def test_the_model_is_registered_but_nanoae_train_does_not_offer_it():
    """It reads sequences, and `nanoae train` feeds flat images: the command line leaves it out."""
    assert MODELS["seq2seq"] is Seq2SeqAutoencoder and Seq2SeqAutoencoder.input_kind == "sequences"
    assert "seq2seq" not in train_command.IMAGE_MODELS and "ae" in train_command.IMAGE_MODELS
