"""The chapter 03 graders (nanoae/exercises/ch03_denoising.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake. The corruption graders check
properties, so they must also pass other correct ways of drawing the noise.
"""
import numpy as np

import nanoae
from nanoae import functional as F
from nanoae.exercises import ch03_denoising as graders
from nanoae.models import DenoisingConfig
from nanoae.models.denoising import DenoisingAutoencoder
from grading_asserts import assert_fails_naming


# --- masking_noise -------------------------------------------------------------------

def test_masking_grader_passes_a_binomial_mask_too():
    def binomial(x, p, rng):
        return x * rng.binomial(1, 1 - p, size=x.shape).astype(x.dtype)
    assert graders.grade_masking_noise(binomial).passed


def test_masking_grader_fails_p_used_as_the_keep_probability():
    def keeps_with_p(x, p, rng):
        return x * (rng.random(x.shape) < p).astype(x.dtype)
    assert_fails_naming(graders.grade_masking_noise(keeps_with_p), "probability 1 - p", "fraction of pixels")


def test_masking_grader_fails_one_mask_shared_by_every_image():
    def shared(x, p, rng):
        return x * (rng.random(x.shape[1]) >= p).astype(x.dtype)
    assert_fails_naming(graders.grade_masking_noise(shared), "every image needs its own draw")


def test_masking_grader_fails_whole_images_masked():
    def whole_images(x, p, rng):
        return x * (rng.random((len(x), 1)) >= p).astype(x.dtype)
    assert_fails_naming(graders.grade_masking_noise(whole_images), "corrupted entirely or not at all")


def test_masking_grader_fails_noise_from_the_global_generator():
    def global_rng(x, p, rng):
        return x * (np.random.random(x.shape) >= p).astype(x.dtype)
    assert_fails_naming(graders.grade_masking_noise(global_rng), "same seed", "rng")


def test_masking_grader_fails_a_function_that_masks_its_input_in_place():
    def in_place(x, p, rng):
        x[rng.random(x.shape) < p] = 0
        return x
    assert_fails_naming(graders.grade_masking_noise(in_place), "in place")


def test_masking_grader_fails_a_result_promoted_to_float64():
    def promoted(x, p, rng):
        return x * rng.binomial(1, 1 - p, size=x.shape)   # float32 * int64 -> float64
    assert_fails_naming(graders.grade_masking_noise(promoted), "dtype float64", "float32")


def test_masking_grader_fails_masked_pixels_set_to_noise_instead_of_zero():
    def to_noise(x, p, rng):
        return np.where(rng.random(x.shape) < p, rng.random(x.shape), x).astype(x.dtype)
    assert_fails_naming(graders.grade_masking_noise(to_noise), "keep its value or become 0")


# --- salt_and_pepper_noise -----------------------------------------------------------

def test_salt_and_pepper_grader_passes_one_uniform_draw_split_in_two():
    def one_draw(x, p, rng):
        u = rng.random(x.shape)
        return np.where(u < p / 2, 0, np.where(u < p, 1, x)).astype(x.dtype)
    assert graders.grade_salt_and_pepper_noise(one_draw).passed


def test_salt_and_pepper_grader_fails_salt_only():
    def salt_only(x, p, rng):
        return np.where(rng.random(x.shape) < p, 1, x).astype(x.dtype)
    assert_fails_naming(graders.grade_salt_and_pepper_noise(salt_only), "every corrupted pixel became 1")


def test_salt_and_pepper_grader_fails_p_split_into_halves():
    def half_p(x, p, rng):
        hit = rng.random(x.shape) < p / 2            # p/2 in all: salt or pepper
        return np.where(hit, rng.random(x.shape) < 0.5, x).astype(x.dtype)
    assert_fails_naming(graders.grade_salt_and_pepper_noise(half_p), "fraction p/2")


def test_salt_and_pepper_grader_fails_uniform_noise_instead_of_zero_or_one():
    def uniform(x, p, rng):
        return np.where(rng.random(x.shape) < p, rng.random(x.shape), x).astype(x.dtype)
    assert_fails_naming(graders.grade_salt_and_pepper_noise(uniform), "exactly 0 or 1")


def test_salt_and_pepper_grader_fails_noise_from_the_global_generator():
    def global_rng(x, p, rng):
        return np.where(np.random.random(x.shape) < p, np.random.random(x.shape) < 0.5, x).astype(x.dtype)
    assert_fails_naming(graders.grade_salt_and_pepper_noise(global_rng), "same seed")


def test_salt_and_pepper_grader_fails_one_pattern_shared_by_every_image():
    def shared(x, p, rng):
        hit, salt = rng.random(x.shape[1]) < p, rng.random(x.shape[1]) < 0.5
        return np.where(hit, salt, x).astype(x.dtype)
    assert_fails_naming(graders.grade_salt_and_pepper_noise(shared), "every image needs its own draw")


# --- denoising_loss ------------------------------------------------------------------

def test_denoising_loss_grader_fails_a_loss_scored_against_the_noisy_input():
    def against_noisy(model, x, corrupt):
        x_tilde = corrupt(x)
        return ((model.decode(model.encode(x_tilde)) - x_tilde) ** 2).sum() / len(x)
    assert_fails_naming(graders.grade_denoising_loss(against_noisy), "CORRUPTED input", "clean x")


def test_denoising_loss_grader_fails_a_loss_of_the_uncorrupted_input():
    def no_noise(model, x, corrupt):
        corrupt(x)                                   # called, but not used
        return ((model.decode(model.encode(x)) - x) ** 2).sum() / len(x)
    assert_fails_naming(graders.grade_denoising_loss(no_noise), "must see corrupt(x)")


def test_denoising_loss_grader_fails_a_loss_that_never_corrupts():
    def never(model, x, corrupt):
        return ((model.decode(model.encode(x)) - x) ** 2).sum() / len(x)
    assert_fails_naming(graders.grade_denoising_loss(never), "corrupt was never called")


def test_denoising_loss_grader_fails_a_mean_over_pixels():
    def mean_everything(model, x, corrupt):
        return F.mse_loss(model.decode(model.encode(corrupt(x))), x)
    assert_fails_naming(graders.grade_denoising_loss(mean_everything), "averaged over the pixels")


def test_denoising_loss_grader_fails_a_sum_over_the_batch():
    def summed(model, x, corrupt):
        return ((model.decode(model.encode(corrupt(x))) - x) ** 2).sum()
    assert_fails_naming(graders.grade_denoising_loss(summed), "summed over the batch")


def test_denoising_loss_grader_fails_a_loss_cut_off_from_the_graph():
    def detached(model, x, corrupt):
        loss = ((model.decode(model.encode(corrupt(x))) - x) ** 2).sum() / len(x)
        return nanoae.tensor(loss.data)
    assert_fails_naming(graders.grade_denoising_loss(detached), "no graph")


def test_denoising_loss_grader_fails_a_number_instead_of_a_tensor():
    def number(model, x, corrupt):
        return (((model.decode(model.encode(corrupt(x))) - x) ** 2).sum() / len(x)).item()
    assert_fails_naming(graders.grade_denoising_loss(number), "as a Tensor")


# --- the library does not do the exercise --------------------------------------------------------

def library_noise(noise):
    """The corruption of nanoae's DenoisingAutoencoder, called on the student's x."""
    def corrupt(x, p, rng):
        dae = DenoisingAutoencoder(DenoisingConfig(input_dim=x.shape[1], noise=noise, noise_level=p))
        return dae.corrupt(nanoae.tensor(x)).numpy()
    return corrupt


def test_masking_grader_fails_the_library_masking():
    assert_fails_naming(graders.grade_masking_noise(library_noise("masking")),
                        "calls nanoae.models.denoising.DenoisingAutoencoder.corrupt")


def test_masking_grader_fails_dropout_scaled_back():
    def by_dropout(x, p, rng):
        return (F.dropout(nanoae.tensor(x), p).numpy() * (1 - p)).astype(x.dtype)
    assert_fails_naming(graders.grade_masking_noise(by_dropout), "calls nanoae.functional.dropout")


def test_salt_and_pepper_grader_fails_the_library_noise():
    assert_fails_naming(graders.grade_salt_and_pepper_noise(library_noise("salt_pepper")),
                        "calls nanoae.models.denoising.DenoisingAutoencoder.corrupt")


def test_denoising_loss_grader_fails_the_library_loss():
    def library_loss(model, x, corrupt):
        """DenoisingAutoencoder.loss with the grader's model and corruption in place of its own."""
        dae = DenoisingAutoencoder(DenoisingConfig(input_dim=x.shape[1], hidden=(8,), latent_dim=4,
                                                   output="linear", recon="mse"))
        dae.encode, dae.decode_logits, dae.corrupt = model.encode, model.decode, corrupt
        return dae.loss(x)[0]
    assert_fails_naming(graders.grade_denoising_loss(library_loss),
                        "calls nanoae.models.denoising.DenoisingAutoencoder.loss")


def test_denoising_loss_grader_fails_a_loss_with_the_encoder_cut_off_from_the_graph():
    def detached_code(model, x, corrupt):
        return ((model.decode(model.encode(corrupt(x)).detach()) - x) ** 2).sum() / len(x)
    assert_fails_naming(graders.grade_denoising_loss(detached_code), "does not depend on the model's W1")
