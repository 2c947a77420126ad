"""nanoae.analysis.hashing (Hamming distances, the hash table, the baseline hashes) and the semantic hashing model.

The tests of the arithmetic on arrays take ``xp`` and run on NumPy and on CuPy (the hash table's
answers are NumPy row numbers on either); the reference counts are made in NumPy.
"""
import math

import numpy as np
import pytest

import nanoae
from nanoae.train import TrainConfig, fit
from nanoae import backend
from nanoae.analysis.hashing import (HashIndex, code_keys, flip_masks, hamming_distance, pca_sign_hash,
                                     random_projection_hash, to_bits)
from nanoae.models.semantic_hashing import SemanticHashingAutoencoder, SemanticHashingConfig
from nanoae.analysis.pca import PCA


def random_bits(shape, seed, p=0.5):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.uint8)


def brute_force_distances(a, b):
    """Differing bits counted element by element: the reference for hamming_distance."""
    return (a[:, None, :] != b[None, :, :]).sum(axis=2)


# --- to_bits and hamming_distance ------------------------------------------------------------

def test_to_bits_thresholds_strictly_above_and_accepts_tensors(xp):
    codes = xp.asarray([[0.2, 0.5, 0.51], [-1.0, 0.0, 3.0]], dtype=np.float32)
    assert isinstance(to_bits(codes), xp.ndarray)
    assert backend.to_numpy(to_bits(codes)).tolist() == [[0, 0, 1], [0, 0, 1]]
    assert backend.to_numpy(to_bits(codes, threshold=0)).tolist() == [[1, 1, 1], [0, 0, 1]]
    assert to_bits(nanoae.tensor(codes)).dtype == np.uint8


def test_to_bits_rejects_a_single_code_and_names_the_shape():
    with pytest.raises(ValueError, match=r"to_bits.*\(N, B\).*\(3,\)"):
        to_bits(np.zeros(3))


def test_hamming_distance_matches_counting_differing_bits(xp):
    a, b = random_bits((7, 20), 0), random_bits((11, 20), 1)
    b[3] = a[2]                                                   # one pair at distance 0
    b[4] = 1 - a[5]                                               # one pair at distance B
    d = hamming_distance(xp.asarray(a), xp.asarray(b))
    assert isinstance(d, xp.ndarray)
    d = backend.to_numpy(d)
    assert d.shape == (7, 11) and np.issubdtype(d.dtype, np.integer)
    np.testing.assert_array_equal(d, brute_force_distances(a, b))
    assert d[2, 3] == 0 and d[5, 4] == 20


def test_hamming_distance_rejects_codes_of_different_lengths_and_non_binary_codes():
    with pytest.raises(ValueError, match=r"hamming_distance.*\(2, 3\).*\(2, 4\)"):
        hamming_distance(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        hamming_distance(np.full((2, 3), 0.7), np.zeros((2, 3)))


# --- keys and the hash table ----------------------------------------------------------------

def test_code_keys_read_bit_j_as_two_to_the_j(xp):
    keys = code_keys(xp.asarray([[1, 0, 1], [0, 1, 1], [0, 0, 0]], dtype=np.uint8))
    assert isinstance(keys, xp.ndarray) and backend.to_numpy(keys).tolist() == [5, 6, 0]


def test_flip_masks_give_all_the_distinct_codes_exactly_that_far():
    num_bits, key = 6, 0b101100
    for distance in range(num_bits + 1):
        keys = [key ^ mask for mask in flip_masks(num_bits, distance)]
        assert len(keys) == len(set(keys)) == math.comb(num_bits, distance)
        assert all(bin(key ^ k).count("1") == distance for k in keys)


def test_lookup_returns_every_row_within_the_radius_nearest_first(xp):
    database, queries = random_bits((400, 10), 2), random_bits((15, 10), 3)
    queries[0] = database[17]                                     # a query with a non-empty bucket
    index = HashIndex(xp.asarray(database))
    distances = brute_force_distances(queries, database)
    for radius in (0, 1, 3):
        for q, row in zip(xp.asarray(queries), distances):
            expected = [i for i in np.argsort(row, kind="stable") if row[i] <= radius]   # by distance, then index
            assert index.lookup(q, radius).tolist() == expected
    assert 17 in index.lookup(xp.asarray(queries[0]), 0).tolist()


def test_query_widens_the_ball_until_it_has_k_rows_like_a_stable_sort_of_a_linear_scan(xp):
    database, queries = random_bits((300, 12), 4), random_bits((10, 12), 5)
    index = HashIndex(xp.asarray(database))
    for k in (1, 7, 60):
        for q, row in zip(xp.asarray(queries), brute_force_distances(queries, database)):
            assert index.query(q, k).tolist() == np.argsort(row, kind="stable")[:k].tolist()


def test_hash_index_rejects_a_code_of_the_wrong_length_and_a_k_larger_than_the_table():
    index = HashIndex(random_bits((5, 4), 6))
    with pytest.raises(ValueError, match=r"HashIndex.lookup.*\(4,\).*\(5,\)"):
        index.lookup(np.zeros(5, dtype=np.uint8), 1)
    with pytest.raises(ValueError, match=r"HashIndex.query: k must be.*\[1, 5\]"):
        index.query(np.zeros(4, dtype=np.uint8), 6)


# --- the baseline hashes ------------------------------------------------------------------------

def test_pca_sign_hash_is_the_sign_of_the_projection_on_the_principal_directions(xp):
    rng = np.random.default_rng(7)
    train_x = rng.standard_normal((200, 6)) * np.array([5, 4, 3, 2, 1, 0.5]) + 3   # variances well apart
    test_x = rng.standard_normal((50, 6)) * 3 + 3
    _, _, vt = np.linalg.svd(train_x - train_x.mean(axis=0))
    reference = ((test_x - train_x.mean(axis=0)) @ vt[:3].T > 0).astype(np.uint8)   # (50, 3)
    train_x, test_x = xp.asarray(train_x), xp.asarray(test_x)
    bits = pca_sign_hash(train_x, 3)(test_x)
    assert isinstance(bits, xp.ndarray)
    bits = backend.to_numpy(bits)
    for j in range(3):   # a principal direction's sign is arbitrary: bit j may be flipped as a whole
        assert (bits[:, j] == reference[:, j]).all() or (bits[:, j] == 1 - reference[:, j]).all()
    reused = pca_sign_hash(train_x, 3, pca=PCA(5).fit(train_x))(test_x)   # a PCA fitted already
    np.testing.assert_array_equal(backend.to_numpy(reused), bits)


def test_random_projection_bits_differ_with_probability_angle_over_pi(xp):
    # Charikar (2002): a random hyperplane separates two vectors with probability angle / pi.
    train_x = xp.asarray([[1.0, 2.0, 0.0], [-1.0, -2.0, 0.0]])   # mean 0: hyperplanes through the origin
    theta = 1.0
    x = xp.asarray([[1.0, 0.0, 0.0], [np.cos(theta), np.sin(theta), 0.0]])
    bits = random_projection_hash(train_x, 4000, seed=8)(x)
    assert isinstance(bits, xp.ndarray)
    bits = backend.to_numpy(bits)
    share = (bits[0] != bits[1]).mean()
    standard_error = math.sqrt(theta / math.pi * (1 - theta / math.pi) / 4000)
    assert abs(share - theta / math.pi) < 4 * standard_error


def test_random_projection_hash_is_seeded(xp):
    train_x = xp.asarray(np.random.default_rng(9).random((30, 8)))

    def hashed(seed):
        return backend.to_numpy(random_projection_hash(train_x, 16, seed=seed)(train_x))

    same = hashed(1), hashed(1)
    np.testing.assert_array_equal(*same)
    assert (hashed(2) != same[0]).any()


class FakeCupyRows:
    """Looks like CuPy rows (N, 6) to the backend: a class named ndarray in a module called "cupy"."""
    __module__ = "cupy"
    ndim, shape = 2, (3, 6)


FakeCupyRows.__name__ = "ndarray"


def test_a_hash_fitted_on_the_cpu_refuses_rows_on_the_gpu_naming_both():
    train_x = np.random.default_rng(11).standard_normal((20, 6))
    for make_hash in (lambda: random_projection_hash(train_x, 4), lambda: pca_sign_hash(train_x, 4)):
        with pytest.raises(TypeError, match="cannot mix a NumPy .* and a CuPy"):
            make_hash()(FakeCupyRows())


def test_random_projection_hash_of_integer_pixels_is_that_of_the_same_values_as_floats(xp):
    pixels = np.random.default_rng(10).integers(0, 256, (40, 12)).astype(np.uint8)   # as images are stored
    as_uint8 = random_projection_hash(xp.asarray(pixels), 16, seed=3)(xp.asarray(pixels))
    as_float = random_projection_hash(xp.asarray(pixels, dtype=np.float32), 16, seed=3)(xp.asarray(pixels))
    np.testing.assert_array_equal(backend.to_numpy(as_uint8), backend.to_numpy(as_float))
    assert 0.2 < backend.to_numpy(as_uint8).mean() < 0.8   # hyperplanes through the mean split the rows


# --- the semantic hashing autoencoder -----------------------------------------------------------

def small_model(**kwargs):
    backend.manual_seed(0)
    return SemanticHashingAutoencoder(SemanticHashingConfig(input_dim=12, hidden=(8,), latent_dim=5, **kwargs))


def test_noise_std_rises_linearly_over_the_ramp_then_stays(xp):
    model = small_model(noise_std=4.0, noise_ramp_steps=10)
    x = nanoae.tensor(xp.asarray(np.random.default_rng(10).random((3, 12))))
    seen = []
    for _ in range(14):
        seen.append(model.current_noise_std())
        model.loss(x)
        model.after_step()
    assert seen[:11] == pytest.approx([0.4 * t for t in range(11)]) and seen[11:] == [4.0] * 3
    assert small_model(noise_std=2.5, noise_ramp_steps=0).current_noise_std() == 2.5


def test_noise_is_added_before_the_sigmoid_with_the_current_std(xp):
    model = small_model(noise_std=3.0, noise_ramp_steps=4)
    model.steps = 2                                               # halfway: std 1.5
    x = nanoae.tensor(xp.asarray(np.random.default_rng(11).standard_normal((6, 12)).astype(np.float32)))
    backend.manual_seed(5)
    h = model.noisy_code(x)
    assert isinstance(h.data, xp.ndarray)
    h = h.numpy()
    backend.manual_seed(5)
    eps = backend.to_numpy(backend.generator_for(xp).standard_normal((6, 5), dtype=np.float32))   # the same draw
    a = model.preactivation(x).numpy()
    np.testing.assert_allclose(h, 1 / (1 + np.exp(-(a + 1.5 * eps))), rtol=1e-5)


def test_eval_mode_loss_and_codes_have_no_noise(xp):
    model = small_model(noise_std=4.0, noise_ramp_steps=0)
    x = nanoae.tensor(xp.asarray(np.random.default_rng(12).random((4, 12))))
    model.eval()
    losses = [model.loss(x)[0].item() for _ in range(2)]
    assert losses[0] == losses[1]
    np.testing.assert_array_equal(model.code(x).numpy(), model.code(x).numpy())
    model.train()
    assert model.loss(x)[0].item() != losses[0]


def test_computing_a_loss_does_not_move_the_ramp_only_an_update_does():
    """The step count moves in after_step, which fit calls once per batch; loss only reads it."""
    model = small_model(noise_std=4.0, noise_ramp_steps=100)
    x = np.random.default_rng(12).random((40, 12)).astype(np.float32)
    for _ in range(3):
        model.loss(nanoae.tensor(x))
    assert model.steps == 0
    fit(model, x, config=TrainConfig(epochs=2, batch_size=16), progress=False)   # 3 batches per epoch
    assert model.steps == 6


def test_training_with_noise_makes_the_codes_nearly_binary():
    data = np.random.default_rng(13).random((256, 12)).astype(np.float32)
    shares = {}
    for std in (0.0, 4.0):
        model = small_model(noise_std=std, noise_ramp_steps=100)
        fit(model, data, config=TrainConfig(epochs=60, batch_size=32, lr=3e-3), progress=False)
        codes = model.code(nanoae.tensor(data)).numpy()
        shares[std] = ((codes < 0.1) | (codes > 0.9)).mean()      # share of activations near 0 or 1
    assert shares[4.0] > 0.5 and shares[4.0] > shares[0.0] + 0.3, shares


def test_config_rejects_a_negative_noise_and_a_fractional_ramp():
    with pytest.raises(ValueError, match="noise_std must be >= 0"):
        SemanticHashingConfig(noise_std=-1.0)
    with pytest.raises(ValueError, match="noise_ramp_steps must be an int"):
        SemanticHashingConfig(noise_ramp_steps=2.5)


def test_init_output_bias_makes_a_blank_decoder_draw_the_mean_image(xp):
    x = np.random.default_rng(14).random((50, 12)).astype(np.float32)
    model = small_model().init_output_bias(xp.asarray(x))
    for layer in (model.decoder[0], model.decoder[-1]):
        layer.weight.data[...] = 0                                # the decoder's output is now its bias alone
    drawn = model.decode(nanoae.tensor(xp.zeros((1, 5), dtype=np.float32)))
    assert isinstance(drawn.data, xp.ndarray) and isinstance(model.decoder[-1].bias.data, xp.ndarray)
    drawn = drawn.numpy()[0]
    np.testing.assert_allclose(drawn, x.mean(axis=0), rtol=1e-4)


def test_fit_starts_the_decoder_at_the_mean_image_on_a_fresh_run_but_not_on_resume(tmp_path):
    x = np.random.default_rng(14).random((40, 12)).astype(np.float32)
    seen = []
    model = small_model()
    model.init_output_bias = lambda data: seen.append(data.copy())
    fit(model, x, config=TrainConfig(epochs=1, batch_size=16), out=tmp_path, progress=False)
    assert len(seen) == 1 and np.array_equal(seen[0], x)
    resumed = small_model()
    resumed.init_output_bias = lambda data: seen.append(data)
    fit(resumed, x, config=TrainConfig(epochs=2, batch_size=16), resume=tmp_path / "checkpoint.npz", progress=False)
    assert len(seen) == 1                     # the checkpoint's weights, not a new start, on resume
