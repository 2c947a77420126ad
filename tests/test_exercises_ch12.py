"""The chapter 12 graders (nanoae/exercises/ch12_aae.py) fail planted wrong answers and say why.

That they pass the reference solutions is checked for every chapter in
tests/test_notebooks.py. Here each grader meets the mistakes students make,
and its FAIL line must name the mistake.
"""
import numpy as np

from nanoae import functional as F
from nanoae.exercises import ch12_aae as graders
from nanoae.models.aae import mixture_means
from grading_asserts import assert_fails_naming


# --- discriminator_loss ------------------------------------------------------------------------

def test_discriminator_grader_fails_swapped_labels():
    def swapped(d_real, d_fake):
        return F.softplus(d_real).mean() + F.softplus(-d_fake).mean()
    assert_fails_naming(graders.grade_discriminator_loss(swapped), "labels are swapped", "relative error")


def test_discriminator_grader_fails_an_average_of_the_two_terms():
    def averaged(d_real, d_fake):
        return 0.5 * (F.softplus(-d_real).mean() + F.softplus(d_fake).mean())
    assert_fails_naming(graders.grade_discriminator_loss(averaged), "averaged the two terms")


def test_discriminator_grader_fails_one_mean_over_both_sets():
    def pooled(d_real, d_fake):
        return (F.softplus(-d_real).sum() + F.softplus(d_fake).sum()) / (len(d_real) + len(d_fake))
    assert_fails_naming(graders.grade_discriminator_loss(pooled), "one mean over all B1 + B2")


def test_discriminator_grader_fails_a_sum_over_examples():
    def summed(d_real, d_fake):
        return F.softplus(-d_real).sum() + F.softplus(d_fake).sum()
    assert_fails_naming(graders.grade_discriminator_loss(summed), "summed over the examples")


def test_discriminator_grader_fails_a_missing_fake_term():
    assert_fails_naming(graders.grade_discriminator_loss(lambda d_real, d_fake: F.softplus(-d_real).mean()),
                        "codes' term")


def test_discriminator_grader_fails_label_one_for_both_sets():
    def both_real(d_real, d_fake):
        return F.softplus(-d_real).mean() + F.softplus(-d_fake).mean()
    assert_fails_naming(graders.grade_discriminator_loss(both_real), "both sets have label 1")


def test_discriminator_grader_fails_a_detached_fake_term():
    def detached(d_real, d_fake):
        return F.softplus(-d_real).mean() + F.softplus(d_fake.detach()).mean() + 0 * d_fake.sum()
    assert_fails_naming(graders.grade_discriminator_loss(detached), "gradcheck failed for d_fake")


def test_discriminator_grader_fails_one_value_per_example():
    def per_example(d_real, d_fake):
        return F.softplus(-d_real) + F.softplus(d_fake).mean()
    assert_fails_naming(graders.grade_discriminator_loss(per_example), "scalar Tensor")


# --- generator_loss -------------------------------------------------------------------------------

def test_generator_grader_fails_the_saturating_loss():
    assert_fails_naming(graders.grade_generator_loss(lambda d_fake: -F.softplus(d_fake).mean()),
                        "saturating loss", "vanishes")


def test_generator_grader_fails_label_zero():
    assert_fails_naming(graders.grade_generator_loss(lambda d_fake: F.softplus(d_fake).mean()),
                        "discriminator's loss on the codes")


def test_generator_grader_fails_a_sign_error():
    assert_fails_naming(graders.grade_generator_loss(lambda d_fake: -F.softplus(-d_fake).mean()),
                        "sign is wrong")


def test_generator_grader_fails_a_sum():
    assert_fails_naming(graders.grade_generator_loss(lambda d_fake: F.softplus(-d_fake).sum()),
                        "summed over the codes")


def test_generator_grader_fails_a_numpy_answer():
    def numpy_answer(d_fake):
        return float(np.logaddexp(0, -d_fake.numpy()).mean())
    assert_fails_naming(graders.grade_generator_loss(numpy_answer), "return a Tensor")


# --- sample_mixture_prior -------------------------------------------------------------------------------

def mixture(angle_of=lambda j, k: 2 * np.pi * j / k, radius_power=1, noise_scale=lambda std: std, cos_first=True,
            weights=None, use_global=False):
    """A sampler with one planted mistake, chosen by the arguments (the defaults give a right answer)."""
    def sample(n, k, radius, std, rng):
        source = np.random if use_global else rng
        if weights == "first-heavy":
            p = np.full(k, 0.5 / (k - 1))
            p[0] = 0.5
            component = source.choice(k, size=n, p=p)
        else:
            component = np.random.randint(0, k, size=n) if use_global else rng.integers(0, k, size=n)
        angle = angle_of(component, k)
        pair = (np.cos(angle), np.sin(angle)) if cos_first else (np.sin(angle), np.cos(angle))
        means = radius ** radius_power * np.stack(pair, axis=1)
        return means + noise_scale(std) * source.standard_normal((n, 2)), component
    return sample


def test_mixture_grader_passes_a_right_answer_written_another_way():
    def per_component(n, k, radius, std, rng):
        component = rng.integers(0, k, size=n)
        centres = np.array([[radius * np.cos(2 * np.pi * j / k), radius * np.sin(2 * np.pi * j / k)]
                            for j in range(k)])
        return centres[component] + rng.normal(0.0, std, size=(n, 2)), component
    assert graders.grade_sample_mixture_prior(per_component).passed
    assert graders.grade_sample_mixture_prior(mixture()).passed


def test_mixture_grader_fails_angles_over_k_minus_one():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(angle_of=lambda j, k: 2 * np.pi * j / (k - 1))),
                        "2 pi j / (k - 1)")


def test_mixture_grader_fails_a_missing_two_pi():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(angle_of=lambda j, k: j / k)),
                        "factor 2 pi is missing")


def test_mixture_grader_fails_angles_in_degrees():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(angle_of=lambda j, k: 360 * j / k)),
                        "in degrees")


def test_mixture_grader_fails_a_unit_circle():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(radius_power=0)), "unit circle")


def test_mixture_grader_fails_swapped_cos_and_sin():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(cos_first=False)), "cos and sin are swapped")


def test_mixture_grader_fails_std_used_as_a_variance():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(noise_scale=lambda std: std ** 2)),
                        "std was used as a variance")


def test_mixture_grader_fails_unequal_weights():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(weights="first-heavy")), "equal probability")


def test_mixture_grader_fails_draws_from_the_global_generator():
    assert_fails_naming(graders.grade_sample_mixture_prior(mixture(use_global=True)),
                        "take every random number from rng")


def test_mixture_grader_fails_draws_without_their_components():
    def only_z(n, k, radius, std, rng):
        return mixture()(n, k, radius, std, rng)[0]
    assert_fails_naming(graders.grade_sample_mixture_prior(only_z), "return a pair")


def test_mixture_grader_fails_components_counted_from_one():
    def from_one(n, k, radius, std, rng):
        z, component = mixture()(n, k, radius, std, rng)
        return z, component + 1
    assert_fails_naming(graders.grade_sample_mixture_prior(from_one), "0 to k - 1")


# --- the library call that does the exercise does not pass it -------------------------------------

def test_discriminator_grader_fails_the_library_cross_entropy():
    def library(d_real, d_fake):
        return (F.binary_cross_entropy_with_logits(d_real, np.ones(len(d_real)))
                + F.binary_cross_entropy_with_logits(d_fake, np.zeros(len(d_fake))))
    assert_fails_naming(graders.grade_discriminator_loss(library),
                        "calls nanoae.functional.binary_cross_entropy_with_logits")


def test_generator_grader_fails_the_library_cross_entropy():
    def library(d_fake):
        return F.binary_cross_entropy_with_logits(d_fake, np.ones(len(d_fake)))
    assert_fails_naming(graders.grade_generator_loss(library),
                        "calls nanoae.functional.binary_cross_entropy_with_logits")


def test_mixture_grader_fails_the_library_ring_of_means():
    def library(n, k, radius, std, rng):
        component = rng.integers(0, k, size=n)
        return mixture_means(k, radius, 2, np)[component] + std * rng.standard_normal((n, 2)), component
    assert_fails_naming(graders.grade_sample_mixture_prior(library), "calls nanoae.models.aae.mixture_means")
