"""Graders for chapter 12, the adversarial autoencoder.

Notation: the discriminator's logits d (a logit > 0 means "drawn from the
prior"), on B1 prior draws (``d_real``, label 1) and on B2 codes of images
(``d_fake``, label 0); softplus(t) = log(1 + e^t), so that the binary
cross-entropy of a logit t is softplus(-t) against label 1 and softplus(t)
against label 0.

    discriminator loss  = 1/B1 sum softplus(-d_real) + 1/B2 sum softplus(d_fake)
    generator loss      = 1/B2 sum softplus(-d_fake)          (non-saturating)

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``discriminator_loss(d_real, d_fake)`` | the first line, a scalar Tensor | the closed form in float64 (log1p of exp); gradcheck |
| ``generator_loss(d_fake)`` | the second line, a scalar Tensor | the closed form in float64; gradcheck |
| ``sample_mixture_prior(n, k, radius, std, rng)`` | (z (n, 2), component (n,)) from the ring of k Gaussians | statistics of 20,000 draws: counts per component, the centre and the spread of each; reproducibility from ``rng`` |

Logits have both signs; B1 != B2, so that an average over the wrong set of
numbers changes the answer. When an answer is wrong, the grader also tries
the usual mistakes and names the one the answer matches.
"""
import math

from nanoae import backend
from nanoae.exercises import Mismatch, as_numpy, check_gradients, compare, diagnose, grader, passed_within, \
    random_array, scalar_answer
from nanoae.autograd import Tensor

TOL = 1e-9      # closed forms in float64: a right answer agrees to ~1e-15
xp = backend.array_module_for("cpu")  # references are computed on the CPU, in float64
CASES = ((7, 5, 40), (4, 9, 50))      # (B1, B2, seed)


def _softplus(t):
    """log(1 + e^t), without overflow for large t."""
    return xp.logaddexp(0.0, t)


def _logits(n, seed):
    """Discriminator logits of both signs, spread over about -6 ... 6."""
    return 2.5 * random_array((n,), seed)


# --- exercise 1: the discriminator's loss --------------------------------------------------

@grader("discriminator_loss")
def grade_discriminator_loss(discriminator_loss):
    worst = 0.0
    for b1, b2, seed in CASES:
        d_real, d_fake = _logits(b1, seed), _logits(b2, seed + 1)
        real_term, fake_term = _softplus(-d_real), _softplus(d_fake)             # per example
        expected = real_term.mean() + fake_term.mean()
        mistakes = [
            (_softplus(d_real).mean() + _softplus(-d_fake).mean(),
             "the labels are swapped: prior draws are the real samples (label 1, loss softplus(-d)), "
             "the codes of images are the fake ones (label 0, loss softplus(d))"),
            (0.5 * expected, "you averaged the two terms: the loss is their sum, mean over the prior draws "
                             "plus mean over the codes"),
            ((real_term.sum() + fake_term.sum()) / (b1 + b2),
             "you took one mean over all B1 + B2 logits together: take the mean of each set, then add"),
            (real_term.sum() + fake_term.sum(), "you summed over the examples: average each term over its batch"),
            (real_term.mean(), "the codes' term, mean softplus(d_fake), is missing"),
            (fake_term.mean(), "the prior draws' term, mean softplus(-d_real), is missing"),
            (-expected, "the sign is wrong: a cross-entropy is never negative"),
            (_softplus(-d_real).mean() + _softplus(-d_fake).mean(),
             "both sets have label 1: the codes are the fake samples, label 0, with loss softplus(d_fake)"),
        ]
        got = scalar_answer(discriminator_loss(Tensor(d_real), Tensor(d_fake)), ": add the two batch means")
        try:
            worst = max(worst, compare(got, xp.reshape(expected, 1), TOL,
                                       f"your loss (B1={b1} prior draws, B2={b2} codes)"))
        except Mismatch as mismatch:
            diagnose(got, mistakes, mismatch)
        check_gradients(discriminator_loss, [Tensor(d_real), Tensor(d_fake)], names=["d_real", "d_fake"])
    return (passed_within(worst, TOL) + " against mean softplus(-d_real) + mean softplus(d_fake); "
            "its backward matches finite differences")


# --- exercise 2: the generator's (the encoder's) loss ------------------------------------

@grader("generator_loss")
def grade_generator_loss(generator_loss):
    worst = 0.0
    for _, b2, seed in CASES:
        d_fake = _logits(b2, seed + 2)
        expected = _softplus(-d_fake).mean()
        mistakes = [
            (-_softplus(d_fake).mean(),
             "this is the saturating loss mean log(1 - sigmoid(d)) = -mean softplus(d): its gradient "
             "vanishes when the discriminator rejects the codes with confidence; minimize "
             "-log sigmoid(d) = softplus(-d) instead (label 1)"),
            (_softplus(d_fake).mean(), "this is the discriminator's loss on the codes (label 0): minimizing it "
                                       "helps the discriminator; the encoder wants its codes taken for "
                                       "prior draws, label 1"),
            (-expected, "the sign is wrong: the loss is softplus(-d) = -log sigmoid(d), never negative"),
            (_softplus(-d_fake).sum(), "you summed over the codes: average over the batch"),
        ]
        got = scalar_answer(generator_loss(Tensor(d_fake)), ": average over the batch")
        try:
            worst = max(worst, compare(got, xp.reshape(expected, 1), TOL, f"your loss (B={b2})"))
        except Mismatch as mismatch:
            diagnose(got, mistakes, mismatch)
        check_gradients(generator_loss, [Tensor(d_fake)], names=["d_fake"])
    return passed_within(worst, TOL) + " against mean softplus(-d_fake); its backward matches finite differences"


# --- exercise 3: sampling the mixture prior ----------------------------------------------

def _ring(k, radius):
    """The k means on the circle: radius (cos 2 pi j / k, sin 2 pi j / k), (k, 2)."""
    angle = 2 * math.pi * xp.arange(k) / k
    return radius * xp.stack([xp.cos(angle), xp.sin(angle)], axis=1)


def _wrong_rings(k, radius):
    """Means from the usual mistakes, each with what the student probably did."""
    j = xp.arange(k)
    return [
        (radius * xp.stack([xp.cos(2 * math.pi * j / (k - 1)), xp.sin(2 * math.pi * j / (k - 1))], axis=1),
         "the angles are 2 pi j / (k - 1): the first and the last Gaussian land on the same spot; use 2 pi j / k"),
        (radius * xp.stack([xp.cos(j / k), xp.sin(j / k)], axis=1),
         "the angles are j / k radians: the factor 2 pi is missing, angle_j = 2 pi j / k"),
        (radius * xp.stack([xp.cos(360 * j / k), xp.sin(360 * j / k)], axis=1),
         "the angles are in degrees: numpy's cos and sin take radians, angle_j = 2 pi j / k"),
        (_ring(k, 1.0), "the means are on the unit circle: multiply them by radius"),
        (_ring(k, radius) * radius, "the means are at radius^2: multiply the unit vectors by radius once"),
        (radius * xp.stack([xp.sin(2 * math.pi * j / k), xp.cos(2 * math.pi * j / k)], axis=1),
         "cos and sin are swapped: mean_j = radius (cos angle_j, sin angle_j)"),
    ]


def _student_draws(sample_mixture_prior, n, k, radius, std, seed):
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


@grader("sample_mixture_prior")
def grade_sample_mixture_prior(sample_mixture_prior):
    n = 20000
    for k, radius, std, seed in ((10, 4.0, 0.5, 60), (7, 2.5, 0.3, 70)):
        z, component = _student_draws(sample_mixture_prior, n, k, radius, std, seed)
        # Each Gaussian has weight 1/k: its count is binomial(n, 1/k); allow 5 standard deviations.
        counts = xp.bincount(component, minlength=k)
        spread = 5 * math.sqrt(n * (1 / k) * (1 - 1 / k))
        if (abs(counts - n / k) > spread).any():
            raise Mismatch(f"the components should be chosen with equal probability 1/k (about {n // k} draws "
                           f"each of {n}, k = {k}); your counts are {counts.tolist()}")
        # The centre and the spread of each Gaussian, from its own draws.
        centres = xp.stack([z[component == j].mean(axis=0) for j in range(k)])            # (k, 2)
        tolerance = 5 * std / math.sqrt(min(counts))            # 5 standard errors of a mean
        if abs(centres - _ring(k, radius)).max() > tolerance:
            for wrong, hint in _wrong_rings(k, radius):
                if abs(centres - wrong).max() <= tolerance:
                    raise Mismatch(f"{hint} (k = {k}, radius = {radius})")
            j = int(abs(centres - _ring(k, radius)).max(axis=1).argmax())
            raise Mismatch(f"the draws of component {j} are centred at {centres[j].round(3).tolist()}, "
                           f"expected radius (cos 2 pi j / k, sin 2 pi j / k) = "
                           f"{_ring(k, radius)[j].round(3).tolist()} (k = {k}, radius = {radius})")
        residual = z - _ring(k, radius)[component]
        spread = residual.std(axis=0)
        if (abs(spread / std - 1) > 0.05).any():              # the standard error of a std is ~0.5% here
            hint = ""
            if (abs(spread / std ** 2 - 1) < 0.05).all():
                hint = "std was used as a variance: scale the standard normal draws by std, not std^2. "
            elif (abs(spread / math.sqrt(std) - 1) < 0.05).all():
                hint = "std was used as a variance (its square root was taken): scale the draws by std. "
            raise Mismatch(f"{hint}Around their means the draws have standard deviations "
                           f"{spread.round(4).tolist()}, expected std = {std} in both coordinates")
        # The same generator state must give the same draws: all randomness comes from rng.
        again, again_component = _student_draws(sample_mixture_prior, n, k, radius, std, seed)
        if not (again == z).all() or not (again_component == component).all():
            raise Mismatch("two calls with generators of the same seed gave different draws: take every random "
                           "number from rng (rng.integers, rng.standard_normal), not from np.random")
        other, _ = _student_draws(sample_mixture_prior, n, k, radius, std, seed + 1)
        if (other == z).all():
            raise Mismatch("generators of different seeds gave the same draws: draw from rng")
    return ("20,000 draws: equal components, each centred on the ring within 5 standard errors, with the "
            "right standard deviation (within 5%); reproducible from rng")
