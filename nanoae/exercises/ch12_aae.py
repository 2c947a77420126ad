"""Graders for chapter 12, the adversarial autoencoder.

Notation: the discriminator's logits d (a logit > 0 means "drawn from the
prior"), on B1 prior draws (``d_real``, label 1) and on B2 codes of images
(``d_fake``, label 0). The mixture prior is a ring of k Gaussians of standard
deviation ``std`` around means at distance ``radius`` from the origin.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``discriminator_loss(d_real, d_fake)`` | the discriminator's binary cross-entropy, a scalar Tensor | the value stored for these inputs; gradcheck of the student's own function |
| ``generator_loss(d_fake)`` | the encoder's non-saturating loss, a scalar Tensor | the value stored for these inputs; gradcheck of the student's own function |
| ``sample_mixture_prior(n, k, radius, std, rng)`` | (z (n, 2), component (n,)) from the ring of k Gaussians | statistics of 20,000 draws: equal counts per component, each centred on the mean stored for it, spread by std; reproducibility from ``rng`` |

The losses rule out the library's binary cross-entropy
(``F.binary_cross_entropy_with_logits`` and the op behind it,
``F.binary_cross_entropy``); the sampler rules out ``mixture_means`` and the
model's ``sample_prior``. Logits have both signs; B1 != B2, so that an
average over the wrong set of numbers changes the answer. When an answer is
wrong, the grader names the usual mistake it matches.
"""
import math

from nanoae import backend, functional as F
from nanoae.autograd import Tensor
from nanoae.exercises import (Mismatch, StoredValues, as_numpy, check_gradients, grader, passed_within,
                              random_array, scalar_answer)
from nanoae.models.aae import AdversarialAutoencoder, mixture_means
from nanoae.ops import loss as loss_ops

TOL = 1e-9      # the stored values are exact in float64: a right answer agrees to ~1e-15
STORED = StoredValues("ch12_aae")
xp = backend.array_module_for("cpu")  # the graders work on the CPU, in float64

# Case c checks the losses on LOGIT_CASES[c] and the sampler on MIXTURE_CASES[c].
LOGIT_CASES = ((7, 5, 40), (4, 9, 50))                    # (B1, B2, seed): B1 != B2
MIXTURE_CASES = ((10, 4.0, 0.5, 60), (7, 2.5, 0.3, 70))   # (k, radius, std, seed)
CASES = tuple(zip(LOGIT_CASES, MIXTURE_CASES))
DRAWS = 20000                                             # draws of the sampler per case
BCE = (F.binary_cross_entropy_with_logits, loss_ops.bce_with_logits, loss_ops.BCEWithLogits.forward,
       F.binary_cross_entropy)

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch12_aae.py).
MISTAKES = {
    "discriminator_loss": {
        "labels_swapped": "the labels are swapped: the prior draws are the real samples (label 1), the codes "
                          "of images the fake ones (label 0)",
        "terms_averaged": "you averaged the two terms: the loss is their sum",
        "one_mean_over_both": "you took one mean over all B1 + B2 logits together: take the mean of each set, "
                              "then add",
        "summed": "you summed over the examples: average each term over its batch",
        "no_fake_term": "the codes' term is missing",
        "no_real_term": "the prior draws' term is missing",
        "negated": "the sign is wrong: a cross-entropy is never negative",
        "both_label_one": "both sets have label 1: the codes are the fake samples, label 0",
    },
    "generator_loss": {
        "saturating": "this is the saturating loss, mean log(1 - sigmoid(d)): its gradient vanishes when the "
                      "discriminator rejects the codes with confidence; take the cross-entropy of the codes "
                      "against label 1 instead",
        "label_zero": "this is the discriminator's loss on the codes (label 0): minimizing it helps the "
                      "discriminator; the encoder wants its codes taken for prior draws, label 1",
        "negated": "the sign is wrong: a cross-entropy is never negative",
        "summed": "you summed over the codes: average over the batch",
    },
    "sample_mixture_prior": {
        "over_k_minus_one": "the angles are 2 pi j / (k - 1): the first and the last Gaussian land on the same spot",
        "no_two_pi": "the angles are j / k radians: the factor 2 pi is missing",
        "degrees": "the angles are in degrees: numpy's cos and sin take radians",
        "unit_circle": "the means are on the unit circle: multiply them by radius",
        "radius_squared": "the means are at radius^2: multiply the unit vectors by radius once",
        "cos_sin_swapped": "cos and sin are swapped: the first coordinate is the cosine",
    },
    "sample_mixture_prior_spread": {
        "std_as_variance": "std was used as a variance: scale the standard normal draws by std, not std^2",
        "square_root": "std was used as a variance (its square root was taken): scale the draws by std",
    },
}


# --- the inputs of each case (the stored values were computed on these) -------------------------

def logits(n, seed):
    """Discriminator logits of both signs, spread over about -6 ... 6."""
    return 2.5 * random_array((n,), seed)


def discriminator_inputs(case):
    """(d_real (B1,), d_fake (B2,))."""
    b1, b2, seed = LOGIT_CASES[case]
    return logits(b1, seed), logits(b2, seed + 1)


def generator_inputs(case):
    """d_fake (B2,)."""
    _, b2, seed = LOGIT_CASES[case]
    return logits(b2, seed + 2)


def mixture_inputs(case):
    """(number of draws n, k, radius, std); the generator of the draws is seeded by mixture_seed(case)."""
    k, radius, std, _ = MIXTURE_CASES[case]
    return DRAWS, k, radius, std


def mixture_seed(case):
    return MIXTURE_CASES[case][3]


# --- exercise 1: the discriminator's loss --------------------------------------------------

@grader("discriminator_loss", forbidden=BCE)
def grade_discriminator_loss(discriminator_loss):
    worst = 0.0
    for case in range(len(CASES)):
        d_real, d_fake = discriminator_inputs(case)
        got = scalar_answer(discriminator_loss(Tensor(d_real), Tensor(d_fake)), ": add the two batch means")
        worst = max(worst, STORED.check(got, "discriminator_loss", case, MISTAKES["discriminator_loss"], TOL,
                                        f"your loss (B1={len(d_real)} prior draws, B2={len(d_fake)} codes)"))
        check_gradients(discriminator_loss, [Tensor(d_real), Tensor(d_fake)], names=["d_real", "d_fake"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"


# --- exercise 2: the generator's (the encoder's) loss ------------------------------------

@grader("generator_loss", forbidden=BCE)
def grade_generator_loss(generator_loss):
    worst = 0.0
    for case in range(len(CASES)):
        d_fake = generator_inputs(case)
        got = scalar_answer(generator_loss(Tensor(d_fake)), ": average over the batch")
        worst = max(worst, STORED.check(got, "generator_loss", case, MISTAKES["generator_loss"], TOL,
                                        f"your loss (B={len(d_fake)})"))
        check_gradients(generator_loss, [Tensor(d_fake)], names=["d_fake"])
    return passed_within(worst, TOL) + "; its backward matches finite differences"


# --- exercise 3: sampling the mixture prior ----------------------------------------------

def student_draws(sample_mixture_prior, n, k, radius, std, seed):
    """The student's (z, component) from a generator of ``seed``, checked for shapes and whole components."""
    answer = sample_mixture_prior(n, k, radius, std, backend.new_generator(seed))
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        raise Mismatch("return a pair (z, component): the draws (n, 2) and the index of the Gaussian of each (n,)")
    z, component = as_numpy(answer[0]), as_numpy(answer[1])
    if z.shape != (n, 2) or component.shape != (n,):
        raise Mismatch(f"z must have shape ({n}, 2) and component ({n},); got {z.shape} and {component.shape}")
    if not (component == xp.round(component)).all() or component.min() < 0 or component.max() > k - 1:
        raise Mismatch(f"component must hold whole numbers from 0 to k - 1 = {k - 1}; "
                       f"got values from {component.min():g} to {component.max():g}")
    return z, component.astype("int64")


def check_centres(centres, tolerance, case, k, radius):
    """Each component's draws are centred on its stored mean, within ``tolerance``; else name the mistake."""
    means = STORED.expected("sample_mixture_prior", case)                   # (k, 2)
    if abs(centres - means).max() <= tolerance:
        return
    for name, wrong in STORED.mistakes("sample_mixture_prior", case).items():
        if abs(centres - wrong).max() <= tolerance:
            raise Mismatch(f"{MISTAKES['sample_mixture_prior'][name]} (k = {k}, radius = {radius})")
    j = int(abs(centres - means).max(axis=1).argmax())
    raise Mismatch(f"the draws of component {j} are centred at {centres[j].round(3).tolist()}, expected "
                   f"{means[j].round(3).tolist()} (k = {k}, radius = {radius})")


def check_spread(spread, case, std):
    """The draws' standard deviations around their means are the stored one, within 5%; else name the mistake."""
    def close(expected):
        return (abs(spread / float(expected[0]) - 1) < 0.05).all()    # the standard error of a std is ~0.5% here
    if close(STORED.expected("sample_mixture_prior_spread", case)):
        return
    hint = next((MISTAKES["sample_mixture_prior_spread"][name] + ". "
                 for name, wrong in STORED.mistakes("sample_mixture_prior_spread", case).items() if close(wrong)), "")
    raise Mismatch(f"{hint}Around their means the draws have standard deviations {spread.round(4).tolist()}, "
                   f"expected std = {std} in both coordinates")


@grader("sample_mixture_prior", forbidden=(mixture_means, AdversarialAutoencoder.sample_prior))
def grade_sample_mixture_prior(sample_mixture_prior):
    for case in range(len(CASES)):
        n, k, radius, std = mixture_inputs(case)
        seed = mixture_seed(case)
        z, component = student_draws(sample_mixture_prior, n, k, radius, std, seed)
        # Each Gaussian has weight 1/k: its count is binomial(n, 1/k); allow 5 standard deviations.
        counts = xp.bincount(component, minlength=k)
        if (abs(counts - n / k) > 5 * math.sqrt(n * (1 / k) * (1 - 1 / k))).any():
            raise Mismatch(f"the components should be chosen with equal probability 1/k (about {n // k} draws "
                           f"each of {n}, k = {k}); your counts are {counts.tolist()}")
        # The centre and the spread of each Gaussian, from its own draws.
        centres = xp.stack([z[component == j].mean(axis=0) for j in range(k)])            # (k, 2)
        check_centres(centres, 5 * std / math.sqrt(min(counts)), case, k, radius)         # 5 standard errors
        residual = z - centres[component]
        check_spread(residual.std(axis=0), case, std)
        # The same generator state must give the same draws: all randomness comes from rng.
        again, again_component = student_draws(sample_mixture_prior, n, k, radius, std, seed)
        if not (again == z).all() or not (again_component == component).all():
            raise Mismatch("two calls with generators of the same seed gave different draws: take every random "
                           "number from rng (rng.integers, rng.standard_normal), not from np.random")
        other, _ = student_draws(sample_mixture_prior, n, k, radius, std, seed + 1)
        if (other == z).all():
            raise Mismatch("generators of different seeds gave the same draws: draw from rng")
    return ("20,000 draws: equal components, each centred on the mean stored for it within 5 standard errors, "
            "with the right standard deviation (within 5%); reproducible from rng")
