"""Chapter 16's models and tools: the sparse autoencoders of activations (TopK and L1), the MLP
classifier they study, and the measures of nanoae/analysis/sae.py.

References: the same formulas written out in NumPy here, finite differences
(nanoae.gradcheck over the whole loss), and hand-made codes whose counts and
class mixes are known. Sizes are tiny (d = 5, L = 12).
"""
import numpy as np
import pytest

import nanoae
from nanoae import functional as F, gradcheck
from nanoae.analysis import sae as measures
from nanoae.models.classifier import ClassifierConfig, MLPClassifier, train_classifier
from nanoae.models.sae import SAE, SAEConfig
from nanoae.train import TrainConfig, fit
from weight_swap import weights_set_to

D, L = 5, 12


def tiny_sae(**fields):
    nanoae.manual_seed(0)
    return SAE(SAEConfig(input_dim=D, num_latents=L, **{"k": 3, **fields}))


def float64(model):
    for p in model.parameters():
        p.data = p.data.astype("float64")
    return model


def activations(n=7, seed=1):
    return np.random.default_rng(seed).standard_normal((n, D))


def numpy_sae(model, x):
    """The SAE written out in NumPy: (z, x_hat) for activations x (module docstring of models/sae.py)."""
    c = model.config
    w_enc, b_enc, b_pre = model.W_enc.numpy(), model.b_enc.numpy(), model.b_pre.numpy()
    w_dec = model.W_dec.numpy()
    pre = (x - b_pre) @ w_enc.T + b_enc
    if c.activation == "topk":
        threshold = np.sort(pre, axis=1)[:, -c.k][:, None]
        pre = np.where(pre >= threshold, pre, 0.0)
    z = np.maximum(pre, 0.0)
    return z, z @ (w_dec / np.linalg.norm(w_dec, axis=0)).T + b_pre


# --- the SAE --------------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [{"activation": "topk"}, {"activation": "relu", "l1": 0.3}])
def test_sae_loss_equals_the_numpy_formulas(xp, fields):
    model = float64(tiny_sae(**fields)).to("gpu" if xp.__name__ == "cupy" else "cpu")
    model.start_from_data(activations(50, seed=2))                  # a b_pre that is not zero
    x = activations()
    z, x_hat = numpy_sae(model, x)
    total, terms = model.loss(nanoae.Tensor(xp.asarray(x)))
    recon = ((x - x_hat) ** 2).sum() / len(x)
    np.testing.assert_allclose(terms["recon"].item(), recon, rtol=1e-10)
    np.testing.assert_allclose(model.encode(nanoae.Tensor(xp.asarray(x))).numpy(), z, rtol=1e-10, atol=1e-12)
    if fields["activation"] == "relu":
        np.testing.assert_allclose(terms["l1"].item(), z.sum() / len(x), rtol=1e-10)
        np.testing.assert_allclose(total.item(), recon + 0.3 * z.sum() / len(x), rtol=1e-10)
    else:
        assert set(terms) == {"recon"} and total.item() == terms["recon"].item()


def test_topk_sae_keeps_at_most_k_active_latents_all_positive():
    z = tiny_sae().encode(nanoae.Tensor(activations(40).astype("float32"))).numpy()
    assert ((z != 0).sum(axis=1) <= 3).all() and (z >= 0).all()
    assert ((z != 0).sum(axis=1) == 3).mean() > 0.5     # mostly exactly k: the ReLU rarely removes one


@pytest.mark.parametrize("fields", [{"activation": "topk"}, {"activation": "relu", "l1": 0.3}])
def test_sae_loss_gradient_matches_finite_differences(fields):
    model = float64(tiny_sae(**fields))
    model.start_from_data(activations(50, seed=2))
    x = nanoae.Tensor(activations())

    def loss(*weights):
        with weights_set_to(model, weights):
            return model.loss(x)[0]
    assert gradcheck(loss, [p.data for p in model.parameters()])


def test_decoder_gradient_is_the_gradient_along_the_directions_with_its_part_along_each_column_removed():
    model = float64(tiny_sae(activation="relu", l1=0.1))
    model.after_step()                                   # unit columns to float64 precision
    x = nanoae.Tensor(activations())
    model.loss(x)[0].backward()
    g_w = model.W_dec.grad.numpy()
    # The same loss with the unit directions as a leaf of their own: its gradient g, then Gao et al.'s projection.
    directions = nanoae.Tensor(model.W_dec.numpy(), requires_grad=True)
    z = model.encode(x)
    diff = F.linear(z, directions, model.b_pre) - x
    ((diff * diff).sum() / len(x) + 0.1 * z.sum() / len(x)).backward()
    g, w = directions.grad.numpy(), model.W_dec.numpy()
    np.testing.assert_allclose(g_w, g - w * (w * g).sum(axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose((g_w * w).sum(axis=0), 0, atol=1e-12)


def test_after_step_sets_every_decoder_column_back_to_unit_length():
    model = tiny_sae()
    assert np.allclose(np.linalg.norm(model.W_dec.numpy(), axis=0), 1, atol=1e-6)
    version = model.W_dec._version
    model.W_dec.data *= np.arange(1, L + 1, dtype="float32")
    model.after_step()
    np.testing.assert_allclose(np.linalg.norm(model.W_dec.numpy(), axis=0), 1, rtol=1e-6)
    assert model.W_dec._version > version


def test_l1_penalty_cannot_be_dodged_by_growing_the_decoder():
    model = float64(tiny_sae(activation="relu", l1=0.5))
    x = nanoae.Tensor(activations())
    before = model.loss(x)[0].item()
    model.W_dec.data *= 10.0
    assert model.loss(x)[0].item() == pytest.approx(before, rel=1e-12)


def test_encoder_starts_as_the_decoders_transpose_and_b_pre_at_the_mean_of_the_data():
    model = tiny_sae()
    np.testing.assert_array_equal(model.W_enc.numpy(), model.W_dec.numpy().T)
    data = activations(30).astype("float32") + 4.0
    fit(model, data, None, TrainConfig(epochs=1, batch_size=30, lr=1e-12), progress=False)   # one tiny step
    np.testing.assert_allclose(model.b_pre.numpy(), data.mean(axis=0), rtol=1e-5)


@pytest.mark.parametrize("fields", [{"activation": "topk"}, {"activation": "relu", "l1": 0.01}])
def test_sae_training_lowers_the_reconstruction_error_and_keeps_unit_columns(fields):
    model = tiny_sae(**fields)
    data = (activations(200, seed=3) @ np.random.default_rng(4).standard_normal((D, D))).astype("float32")
    history = fit(model, data, data, TrainConfig(epochs=15, batch_size=50, lr=1e-2), progress=False)
    assert history[-1]["test_recon"] < 0.6 * history[0]["test_recon"]
    np.testing.assert_allclose(np.linalg.norm(model.W_dec.numpy(), axis=0), 1, rtol=1e-5)


@pytest.mark.parametrize("fields, message", [
    ({"activation": "l1"}, "activation must be one of"),
    ({"k": 13}, "k = 13 is more than num_latents = 12"),
    ({"k": 0}, "k must be a positive integer"),
    ({"l1": -1.0}, "l1 must be >= 0"),
])
def test_sae_config_rejects_bad_values_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        SAEConfig(**{"input_dim": D, "num_latents": L, **fields})


# --- the classifier it studies -------------------------------------------------------------

def test_classifier_is_its_head_on_its_hidden_activations_and_its_loss_the_cross_entropy(xp):
    nanoae.manual_seed(0)
    model = MLPClassifier(ClassifierConfig(input_dim=6, hidden=(5, 4), num_classes=3))
    x = nanoae.Tensor(xp.asarray(np.random.default_rng(0).random((8, 6)), dtype="float32"))
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    h = model.hidden_activations(x)
    assert h.shape == (8, 4) and (h.numpy() >= 0).all()               # after a ReLU
    logits = model(x).numpy()
    np.testing.assert_allclose(logits, model.head(h).numpy(), rtol=1e-6)
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = -np.log(exps[np.arange(8), labels] / exps.sum(axis=1)).mean()
    assert model.loss(x, labels).item() == pytest.approx(expected, rel=1e-5)


def test_train_classifier_learns_a_separable_task():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 300)
    x = (np.eye(3)[labels] @ rng.standard_normal((3, 6)) + 0.1 * rng.standard_normal((300, 6))).astype("float32")
    nanoae.manual_seed(0)
    model = MLPClassifier(ClassifierConfig(input_dim=6, hidden=(8,), num_classes=3))
    losses = train_classifier(model, x, labels, epochs=20, batch_size=50, lr=1e-2, progress=False)
    assert losses[-1] < 0.1 * losses[0]
    assert not model.training


# --- the measures ---------------------------------------------------------------------------

def test_normalized_mse_is_one_for_the_mean_zero_for_a_copy_and_scale_free():
    x = activations(20)
    assert measures.normalized_mse(x, np.tile(x.mean(axis=0), (20, 1))) == pytest.approx(1.0)
    assert measures.normalized_mse(x, x) == 0.0
    x_hat = x + 0.1 * activations(20, seed=9)
    assert measures.normalized_mse(7 * x, 7 * x_hat) == pytest.approx(measures.normalized_mse(x, x_hat))
    by_hand = ((x - x_hat) ** 2).sum() / ((x - x.mean(axis=0)) ** 2).sum()
    assert measures.normalized_mse(x, x_hat) == pytest.approx(by_hand, rel=1e-12)


def hand_codes():
    """4 inputs, 5 latents; latent 3 never fires. Classes 0, 0, 1, 1."""
    z = np.array([[2.0, 0.0, 1.0, 0.0, 0.0],
                  [1.0, 0.0, 0.0, 0.0, 3.0],
                  [0.0, 4.0, 1.0, 0.0, 1.0],
                  [0.0, 1.0, 0.0, 0.0, 0.0]])
    return z, np.array([0, 0, 1, 1])


def test_counts_dead_latents_and_class_mixes_by_hand():
    z, labels = hand_codes()
    assert measures.active_counts(z).tolist() == [2, 2, 3, 1]
    assert measures.firing_counts(z).tolist() == [2, 2, 2, 0, 2]
    assert measures.dead_latents(measures.firing_counts(z)) == 1
    mass = measures.class_mass(z, labels, 2)
    assert mass.tolist() == [[3, 0], [0, 5], [1, 1], [0, 0], [3, 1]]
    assert measures.class_mix(mass).tolist() == [[1, 0], [0, 1], [0.5, 0.5], [0, 0], [0.75, 0.25]]
    counts = measures.firing_counts(z)
    assert measures.mostly_one_class(mass, counts, share=0.8) == (2, 4)     # latents 0 and 1 of the 4 that fired
    assert measures.mostly_one_class(mass, counts, share=0.75) == (3, 4)
    counts[0] = 1                                                           # as if latent 0 fired only once
    assert measures.mostly_one_class(mass, counts, share=0.8, min_count=2) == (1, 3)


def test_run_sae_in_batches_gives_what_the_whole_batch_gives():
    model = tiny_sae()
    x, labels = activations(23).astype("float32"), np.arange(23) % 3
    done = measures.run_sae(model, x, labels, batch_size=5)          # 5 does not divide 23
    z = model.encode(nanoae.Tensor(x)).numpy()
    np.testing.assert_allclose(done.x_hat, model.decode(nanoae.Tensor(z)).numpy(), rtol=1e-6)
    assert done.active.tolist() == measures.active_counts(z).tolist()
    assert done.counts.tolist() == measures.firing_counts(z).tolist()
    np.testing.assert_allclose(done.mass, measures.class_mass(z, labels, 3), rtol=1e-5)
    assert done.l0() == pytest.approx((z != 0).sum(axis=1).mean())
    assert done.dead() == int((measures.firing_counts(z) == 0).sum())
    assert measures.run_sae(model, x).mass is None


def test_downstream_loss_is_the_heads_cross_entropy_on_the_given_activations():
    nanoae.manual_seed(0)
    model = MLPClassifier(ClassifierConfig(input_dim=6, hidden=(D,), num_classes=3))
    h, labels = activations(11).astype("float32"), np.arange(11) % 3
    expected = F.cross_entropy(model.head(nanoae.Tensor(h)), labels).item()
    assert measures.downstream_loss(model.head, h, labels, batch_size=4) == pytest.approx(expected, rel=1e-6)


def test_latent_activations_and_the_rows_that_excite_a_latent_most():
    model = tiny_sae()
    x = activations(30).astype("float32")
    columns = measures.latent_activations(model, x, [4, 7], batch_size=8)
    np.testing.assert_array_equal(columns, model.encode(nanoae.Tensor(x)).numpy()[:, [4, 7]])
    a = np.array([0.0, 3.0, 1.0, 0.0, 5.0, 1.0])
    assert measures.top_rows(a, 3).tolist() == [4, 1, 2]          # the tie 1.0, 1.0: the first row first
    assert measures.top_rows(a, 10).tolist() == [4, 1, 2, 5]      # only rows where it fired
