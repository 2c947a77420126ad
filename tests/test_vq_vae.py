"""The VQ-VAE: shapes, the nearest code, where each loss term sends its gradient, the EMA
update, dead codes and their restarts.

References: a nearest-code search by loop, finite differences where the
gradient is a true one (the decoder and the codebook), the running means of
the EMA written out in NumPy, and codebook rows compared before and after.
Models are tiny (8x4 images, a 2x1 grid of 3-D codes) so that every check is quick.
"""
import numpy as np
import pytest

import nanoae
from nanoae import backend, optim
from nanoae.models import MODELS, VQVAE, VQVAEConfig, build_model
from nanoae.train import TrainConfig, fit
from weight_swap import weights_set_to

TINY = dict(image_shape=(1, 8, 4), channels=(3, 4), embedding_dim=3, codebook_size=6)


def tiny(**overrides):
    return VQVAE(VQVAEConfig(**{**TINY, **overrides}))


def pixels(xp, n, seed=1, dtype="float32", dim=32):
    return nanoae.Tensor(xp.asarray(np.random.default_rng(seed).random((n, dim)), dtype=dtype))


def float64(model):
    for p in model.parameters():
        p.data = p.data.astype("float64")
    return model


def rows_of(z):
    """(B, D, h, w) -> the vectors of every place, (B*h*w, D), as NumPy."""
    a = backend.to_numpy(z.data)
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])


# --- shapes and the code -----------------------------------------------------------------------

def test_registered_as_vq_vae_with_the_documented_default_grid_and_length():
    assert MODELS["vq-vae"] is VQVAE
    model = VQVAE()
    assert model.config.grid_shape == (7, 7) and model.bits_per_image == 49 * 9
    assert model.config.codebook_update == "loss" and model.config.restart_after == 100
    assert [(n, p.shape) for n, p in model.named_parameters()][:2] == [
        ("encoder.0.weight", (32, 1, 4, 4)), ("encoder.0.bias", (32,))]
    assert model.codebook.weight.shape == (512, 16)


def test_shapes_dtype_and_device(xp):
    model = tiny()
    x = pixels(xp, 5)
    z_e = model.encode(x)
    z_q, k = model.quantize(z_e)
    assert z_e.shape == z_q.shape == (5, 3, 2, 1) and k.shape == (5, 2, 1)
    assert k.dtype.kind == "i" and 0 <= int(k.data.min()) and int(k.data.max()) < 6
    for y in (model(x), model.reconstruct(x), model.decode(z_q), model.decode_codes(k)):
        assert y.shape == (5, 32) and y.dtype == np.float32 and y.xp is xp
    assert model.code(x).shape == (5, 6)
    np.testing.assert_array_equal(model.decode_codes(k).numpy(), model.reconstruct(x).numpy())


def test_each_place_takes_the_nearest_codebook_vector(xp):
    model = tiny()
    z_e = model.encode(pixels(xp, 7))
    z_q, k = model.quantize(z_e)
    codebook = backend.to_numpy(model.codebook.weight.data)
    by_loop = [int(np.argmin([((row - e) ** 2).sum() for e in codebook])) for row in rows_of(z_e)]
    np.testing.assert_array_equal(k.numpy().reshape(-1), by_loop)
    np.testing.assert_array_equal(rows_of(z_q), codebook[by_loop])


@pytest.mark.parametrize("fields, message", [
    ({"image_shape": (1, 28, 26)}, "divisible by 4"),
    ({"channels": ()}, "at least one convolution"),
    ({"codebook_size": 1}, "at least 2"),
    ({"codebook_update": "kmeans"}, "codebook_update must be one of"),
    ({"ema_decay": 1.0}, r"ema_decay must be in \[0, 1\)"),
    ({"restart_after": -1}, "restart_after must be an integer >= 0"),
    ({"beta": -0.5}, "beta must be >= 0"),
])
def test_config_refuses_bad_fields_naming_them(fields, message):
    with pytest.raises(ValueError, match=message):
        VQVAEConfig(**fields)


# --- the loss and where its gradients go ----------------------------------------------------------

@pytest.mark.parametrize("update", ["loss", "ema"])
def test_loss_terms_and_total(update, xp):
    model = tiny(codebook_update=update, beta=0.3)
    total, terms = model.loss(pixels(xp, 6))
    z_e = model.encode(pixels(xp, 6))
    distance = ((rows_of(z_e) - rows_of(model.quantize(z_e)[0])) ** 2).sum() / 6
    assert terms["commitment"].item() == pytest.approx(distance, rel=1e-5)
    if update == "loss":
        assert list(terms) == ["recon", "codebook", "commitment"]
        assert terms["codebook"].item() == pytest.approx(terms["commitment"].item(), rel=1e-6)
        expected = terms["recon"].item() + terms["codebook"].item() + 0.3 * terms["commitment"].item()
    else:
        assert list(terms) == ["recon", "commitment"]
        expected = terms["recon"].item() + 0.3 * terms["commitment"].item()
    assert total.item() == pytest.approx(expected, rel=1e-6)


def gradients(model, term, x):
    """{parameter name: gradient of one loss term, or None}."""
    named = dict(model.named_parameters())
    grads = nanoae.grad(model.loss(x)[1][term], list(named.values()))
    return {name: g for name, g in zip(named, grads)}


def touched(grads, prefix):
    return any(g is not None and g.numpy().any() for name, g in grads.items() if name.startswith(prefix))


def test_each_term_sends_its_gradient_where_the_paper_says(xp):
    model, x = tiny(), pixels(xp, 6)
    recon, codebook, commitment = (gradients(model, term, x) for term in ("recon", "codebook", "commitment"))
    # the reconstruction trains the decoder and, straight through the quantizer, the encoder; not the codebook
    assert touched(recon, "decoder") and touched(recon, "encoder") and not touched(recon, "codebook")
    # the codebook term moves the codebook only; the commitment term the encoder only
    assert touched(codebook, "codebook") and not touched(codebook, "encoder") and not touched(codebook, "decoder")
    assert touched(commitment, "encoder") and not touched(commitment, "codebook")


def test_the_encoder_gets_the_reconstruction_gradient_of_z_q(xp):
    """Straight through: d recon / d z_e (by backward) equals d recon / d z_q with z_q fed in as a leaf."""
    model, x = tiny(), pixels(xp, 4)
    z_e = model.encode(x)
    z_q, _ = model.quantize(z_e)
    leaf = nanoae.Tensor(z_q.data.copy(), requires_grad=True)
    recon_of = lambda z: nanoae.functional.binary_cross_entropy_with_logits(model.decode_logits(z), x, "sum") / 4
    (by_leaf,) = nanoae.grad(recon_of(leaf), [leaf])
    (by_straight_through,) = nanoae.grad(recon_of(nanoae.ops.straight_through(z_e, z_q)), [z_e])
    np.testing.assert_allclose(by_straight_through.numpy(), by_leaf.numpy(), rtol=1e-6)


def test_loss_gradient_of_the_decoder_and_the_codebook_term_match_finite_differences(xp):
    """Where a gradient is a true one: the whole loss for the decoder, the codebook term for the
    codebook. The stop-gradients make the rest estimates on purpose: the encoder's gradient of the
    reconstruction comes straight through, and moving the codebook moves recon and commitment too."""
    model = float64(tiny())
    x = pixels(xp, 3, dtype="float64")
    named = dict(model.named_parameters())

    def term(name, checked):
        def value(*weights):
            with weights_set_to(model, list(dict(named, **dict(zip(checked, weights))).values())):
                total, terms = model.loss(x)
                return total if name == "total" else terms[name]
        return value

    decoder = [n for n in named if n.startswith("decoder")]
    assert nanoae.gradcheck(term("total", decoder), [named[n] for n in decoder], names=decoder)
    assert nanoae.gradcheck(term("codebook", ["codebook.weight"]), [named["codebook.weight"]],
                            names=["codebook.weight"])


# --- the EMA update --------------------------------------------------------------------------------

def test_an_ema_step_moves_the_codebook_to_the_running_means_written_out(xp):
    model, x = tiny(codebook_update="ema", ema_decay=0.9), pixels(xp, 5)
    start = backend.to_numpy(model.codebook.weight.data).copy()
    rows = rows_of(model.encode(x))                                            # (10, 3)
    k = model.codes(x).numpy().reshape(-1)
    model.loss(x)
    model.after_step()
    n_k = np.array([(k == j).sum() for j in range(6)])
    s_k = np.array([rows[k == j].sum(axis=0) for j in range(6)])
    count = 0.9 * 1.0 + 0.1 * n_k                      # the counts start at 1, the sums at the codebook
    total = 0.9 * start + 0.1 * s_k
    smoothed = (count + 1e-5) / (count.sum() + 6e-5) * count.sum()
    np.testing.assert_allclose(model.codebook.weight.numpy(), total / smoothed[:, None], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.ema_count.numpy(), count, rtol=1e-6)
    assert model.codebook.weight.grad is None          # no gradient: the optimizer leaves it alone


def test_a_loss_in_eval_mode_changes_nothing_after_the_step(xp):
    model, x = tiny(codebook_update="ema", restart_after=1), pixels(xp, 5)
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    model.eval()
    model.loss(x)
    model.after_step()
    for n, p in model.named_parameters():
        np.testing.assert_array_equal(p.numpy(), before[n], err_msg=n)


# --- dead codes and restarts ------------------------------------------------------------------------

def train_steps(model, x, steps, lr=0.01):
    """Adam steps on one batch, after_step after each; returns the set of codes chosen at any step."""
    optimizer, chosen = optim.Adam(model.parameters(), lr=lr), set()
    for _ in range(steps):
        chosen |= set(model.codes(x).numpy().reshape(-1).tolist())
        optimizer.zero_grad()
        model.loss(x)[0].backward()
        optimizer.step()
        model.after_step()
    return chosen


def test_without_restarts_a_code_never_chosen_never_moves(xp):
    """The mechanism of collapse: no gradient and no EMA update ever reach a code no vector picks."""
    for update in ("loss", "ema"):
        model, x = tiny(codebook_update=update, codebook_size=12, restart_after=0), pixels(xp, 4)
        start = model.codebook.weight.numpy().copy()
        chosen = train_steps(model, x, 15)
        never = sorted(set(range(12)) - chosen)
        assert never, "every code was chosen: the test needs some that are not"
        if update == "loss":
            np.testing.assert_array_equal(model.codebook.weight.numpy()[never], start[never])
        else:                  # m_k and N_k both decay; only the smoothing of the counts moves e_k = m_k / N_k
            np.testing.assert_allclose(model.codebook.weight.numpy()[never], start[never], rtol=1e-3)


def test_a_restart_moves_each_dead_code_onto_an_encoder_output_and_leaves_the_living(xp):
    model, x = tiny(codebook_size=12, restart_after=3), pixels(xp, 4)
    train_steps(model, x, 2)
    assert len(model.dead_codes()) == 0                # nothing has been unused for 3 steps yet
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    optimizer.zero_grad()
    model.loss(x)[0].backward()
    rows = rows_of(model.encode(x))                    # the encoder outputs loss noted (weights not yet stepped)
    optimizer.step()
    after_update = model.codebook.weight.numpy().copy()
    dead = model.steps + 1 - model.last_used >= 3      # what after_step will find dead
    assert dead.any() and not dead.all()
    model.after_step()
    restarted = model.codebook.weight.numpy()
    for code in np.flatnonzero(dead):
        assert any(np.array_equal(restarted[code], row) for row in rows), f"code {code} is not an encoder output"
    np.testing.assert_array_equal(restarted[~dead], after_update[~dead])
    assert len(model.dead_codes()) == 0 and (model.last_used[dead] == model.steps).all()


def test_an_ema_restart_starts_the_running_mean_at_the_new_vector(xp):
    model, x = tiny(codebook_update="ema", codebook_size=12, restart_after=1), pixels(xp, 4)
    train_steps(model, x, 1)
    unused = model.ema_count.numpy() == 1.0            # restarted this step: a mean of one vector
    assert unused.any()
    np.testing.assert_array_equal(model.ema_sum.numpy()[unused], model.codebook.weight.numpy()[unused])


def test_fit_calls_after_step_and_restarts_keep_more_codes_in_use():
    x = np.random.default_rng(3).random((96, 32)).astype("float32")
    used = {}
    for restart_after in (0, 2):
        model = build_model("vq-vae", dict(TINY, codebook_size=16, restart_after=restart_after), seed=0)
        fit(model, x, config=TrainConfig(epochs=2, batch_size=16, lr=0.01), progress=False)
        assert model.steps == 2 * 6
        model.eval()
        used[restart_after] = len(np.unique(model.codes(nanoae.Tensor(x)).numpy()))
    assert used[2] > used[0]


def test_state_dict_round_trip_carries_the_ema_state(xp):
    model, x = tiny(codebook_update="ema"), pixels(xp, 5)
    train_steps(model, x, 2)
    backend.manual_seed(7)
    other = tiny(codebook_update="ema")
    other.load_state_dict({k: v.copy() for k, v in model.state_dict().items()})
    for name in ("ema_count", "ema_sum", "codebook.weight"):
        np.testing.assert_array_equal(other.state_dict()[name], model.state_dict()[name])
    np.testing.assert_array_equal(other.reconstruct(x).numpy(), model.reconstruct(x).numpy())
