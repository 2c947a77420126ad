"""Graders for chapter 03, the denoising autoencoder.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``masking_noise(x, p, rng)`` | set each input to 0 with probability p | the properties any correct answer has |
| ``salt_and_pepper_noise(x, p, rng)`` | with probability p, set an input to 0 or 1 (equally likely) | the same |
| ``denoising_loss(model, x, corrupt)`` | rebuild the clean x from corrupt(x) | the value stored for these inputs; gradcheck of the student's loss with respect to the model's weights |

Noise is random, so the corruption graders cannot compare with one right
answer. They check what every correct answer does with a generator it is
given: the shape and dtype are kept, the input is not changed in place,
untouched pixels keep their value, corrupted ones take the right values,
the fraction corrupted is p within five standard deviations (a correct
answer fails one such check with probability below 1e-6), each pixel is
drawn on its own, and the same seed gives the same result.

The loss is compared with the value stored for the grader's inputs
(``values/ch03_denoising.npz``), beside the values that the common mistakes
give, which the FAIL line names; its gradient is checked against finite
differences of the student's own loss.

Each exercise is the student's to write: an answer that calls the library's
corruption (``DenoisingAutoencoder.corrupt``, or ``F.dropout`` for masking)
or its loss (``DenoisingAutoencoder.loss``) does not pass.
"""
import math

from nanoae import backend, functional as F
from nanoae.autograd import Tensor, grad
from nanoae.exercises import Mismatch, StoredValues, as_numpy, check_gradients, grader, passed_within, random_array
from nanoae.models.denoising import DenoisingAutoencoder

TOL = 1e-6
SHAPE = (250, 120)          # 30,000 pixels: the fraction corrupted is known to about +-0.003
STORED = StoredValues("ch03_denoising")
CASES = ((6, 10, 4, 50),)   # the denoising loss's inputs (B, D, k, seed); only it has stored values
CORRUPTION = (DenoisingAutoencoder.corrupt,)   # the library's own noise: it would do exercises 1 and 2

# The common mistakes of the loss, by the name their values are stored under
# (tests/exercise_values/ch03_denoising.py).
MISTAKES = {
    "denoising_loss": {
        "noisy_target": "your loss compares the reconstruction with the CORRUPTED input; the target must be "
                        "the clean x",
        "clean_input": "you reconstructed the clean x: the model must see corrupt(x), and be scored against x",
        "mean_over_pixels": "you averaged over the pixels too (as F.mse_loss does by default); sum over "
                            "pixels, average over the batch",
        "sum_over_batch": "you summed over the batch; average over it (divide by B)",
    },
}


# --- the corruption exercises: shared checks ---------------------------------------

def _pixels(low, high, seed=40):
    """float32 test images with no pixel at exactly 0 or 1, so that every corruption shows."""
    return random_array(SHAPE, seed, low=low, high=high).astype("float32")


def _call(noise_fn, x, p, seed):
    """The student's corrupted copy of x, checked for shape, dtype and an untouched input."""
    given = x.copy()
    out = noise_fn(given, p, backend.new_generator(seed))
    if isinstance(out, Tensor):
        out = out.numpy()
    if not hasattr(out, "shape") or out.shape != x.shape:
        raise Mismatch(f"return an array of the input's shape {x.shape}, got {getattr(out, 'shape', type(out))}")
    if out.dtype != x.dtype:
        raise Mismatch(f"the result has dtype {out.dtype}; keep the input's dtype {x.dtype} (use .astype)")
    if not (given == x).all():
        raise Mismatch("your function changed its input x in place; return a corrupted copy")
    return out


def _check_fraction(fraction, expected, n, what, hints=()):
    """``fraction`` must be within 5 standard deviations of ``expected`` (n independent draws)."""
    allowed = 5 * math.sqrt(expected * (1 - expected) / n)
    if abs(fraction - expected) <= allowed:
        return
    for wrong, hint in hints:
        if abs(fraction - wrong) <= 5 * math.sqrt(wrong * (1 - wrong) / n):
            raise Mismatch(f"{hint} ({what}: {fraction:.3f}, expected {expected:.3f} +- {allowed:.3f})")
    raise Mismatch(f"{what}: {fraction:.3f}, expected {expected:.3f} +- {allowed:.3f}")


def _check_pixelwise(changed):
    """Each pixel is corrupted on its own: no image (row) and no pixel position (column) all hit or all spared.

    With p = 0.3 a row or column of >= 120 independent pixels is all spared
    with probability below 1e-18.
    """
    rows, cols = changed.all(axis=1) | ~changed.any(axis=1), changed.all(axis=0) | ~changed.any(axis=0)
    if rows.any():
        raise Mismatch("some images are corrupted entirely or not at all: draw a decision for every pixel")
    if cols.any():
        raise Mismatch("some pixel positions are corrupted in every image or in none: every image needs "
                       "its own draw, not one shared by all images")


def _check_seeded(noise_fn, x, p):
    """The same seed gives the same corruption, another seed another one: the noise comes from rng."""
    first, again, other = (_call(noise_fn, x, p, seed) for seed in (7, 7, 8))
    if not (first == again).all():
        raise Mismatch("two calls with generators of the same seed gave different results: draw every "
                       "random number from the rng you are given (not np.random)")
    if (first == other).all():
        raise Mismatch("generators of different seeds gave the same result: draw the noise from rng")


# --- exercise 1: masking noise -----------------------------------------------------

@grader("masking_noise", forbidden=CORRUPTION + (F.dropout,))
def grade_masking_noise(masking_noise):
    x = _pixels(0.05, 1.0)
    n = x.size
    worst = 0.0
    for p in (0.3, 0.75):
        out = _call(masking_noise, x, p, seed=2)
        zeroed, kept = out == 0, out == x
        if not (zeroed | kept).all():
            i = int((~(zeroed | kept)).argmax())
            raise Mismatch(f"every pixel must either keep its value or become 0; pixel {i} went from "
                           f"{x.flat[i]:.4g} to {out.flat[i]:.4g}")
        _check_pixelwise(zeroed)
        fraction = float(zeroed.mean())
        _check_fraction(fraction, p, n, f"fraction of pixels set to 0 with p = {p}",
                        [(1 - p, "you zeroed each pixel with probability 1 - p: p is the probability of "
                                 "setting a pixel to 0")])
        worst = max(worst, abs(fraction - p))
    if not (_call(masking_noise, x, 0.0, seed=1) == x).all():
        raise Mismatch("with p = 0 no pixel may change")
    if not (_call(masking_noise, x, 1.0, seed=1) == 0).all():
        raise Mismatch("with p = 1 every pixel must become 0")
    _check_seeded(masking_noise, x, 0.3)
    return f"fraction zeroed within {worst:.4f} of p; kept pixels unchanged; seeded by rng"


# --- exercise 2: salt-and-pepper noise ---------------------------------------------

@grader("salt_and_pepper_noise", forbidden=CORRUPTION)
def grade_salt_and_pepper_noise(salt_and_pepper_noise):
    x = _pixels(0.05, 0.95)
    n = x.size
    worst = 0.0
    for p in (0.3, 1.0):
        out = _call(salt_and_pepper_noise, x, p, seed=3)
        changed = out != x
        if not ((out[changed] == 0) | (out[changed] == 1)).all():
            i = int((changed & (out != 0) & (out != 1)).argmax())
            raise Mismatch(f"a corrupted pixel must become exactly 0 or 1; pixel {i} went from "
                           f"{x.flat[i]:.4g} to {out.flat[i]:.4g}")
        if p < 1:
            _check_pixelwise(changed)
        fraction = float(changed.mean())
        _check_fraction(fraction, p, n, f"fraction of pixels corrupted with p = {p}",
                        [(p / 2, "you corrupted a fraction p/2 of the pixels: p is the probability that a "
                                 "pixel is corrupted at all; then it becomes 0 or 1 with probability 1/2 each"),
                         (1 - p, "you corrupted each pixel with probability 1 - p instead of p")])
        salt = float((out[changed] == 1).mean()) if changed.any() else 0.0
        _check_fraction(salt, 0.5, int(changed.sum()), f"fraction of the corrupted pixels set to 1 with p = {p}",
                        [(1.0, "every corrupted pixel became 1: half should become 0 (pepper), half 1 (salt)"),
                         (0.0, "every corrupted pixel became 0: half should become 0 (pepper), half 1 (salt)")])
        worst = max(worst, abs(fraction - p), abs(salt - 0.5))
    if not (_call(salt_and_pepper_noise, x, 0.0, seed=1) == x).all():
        raise Mismatch("with p = 0 no pixel may change")
    _check_seeded(salt_and_pepper_noise, x, 0.3)
    return f"fractions within {worst:.4f} of p and 1/2; other pixels unchanged; seeded by rng"


# --- exercise 3: the denoising loss ------------------------------------------------

WEIGHT_NAMES = ("W1", "b1", "W2", "b2")   # the tiny model's weights, in the order of its parameters()


class _TinyAutoencoder:
    """An autoencoder small enough to check in float64: z = tanh(x W1^T + b1), x_hat = sigmoid(z W2^T + b2)."""

    def __init__(self, w1, b1, w2, b2):
        self.w1, self.b1, self.w2, self.b2 = w1, b1, w2, b2

    def parameters(self):
        return [self.w1, self.b1, self.w2, self.b2]

    def encode(self, x):
        return (x @ self.w1.T + self.b1).tanh()

    def decode(self, z):
        return (z @ self.w2.T + self.b2).sigmoid()


def denoising_loss_inputs(case):
    """(weights, x, mask): the model's (W1 (k, D), b1 (k,), W2 (D, k), b2 (D,)), a clean batch x (B, D) in
    [0, 1), and the fixed masking (B, D) that the grader's corrupt applies, so that the check is exact."""
    batch, d, k, seed = CASES[case]
    weights = (random_array((k, d), seed), random_array((k,), seed + 1), random_array((d, k), seed + 2),
               random_array((d,), seed + 3))
    x = random_array((batch, d), seed + 1, low=0.0, high=1.0)
    mask = random_array((batch, d), seed + 2, low=0, high=1) >= 0.4
    return weights, x, mask


@grader("denoising_loss", forbidden=(DenoisingAutoencoder.loss,))
def grade_denoising_loss(denoising_loss):
    worst = 0.0
    for case in range(len(CASES)):
        weights, x, mask = denoising_loss_inputs(case)
        calls = []

        def corrupt(t):
            calls.append(1)
            return Tensor(t.data * mask)

        model = _TinyAutoencoder(*(Tensor(w, requires_grad=True) for w in weights))
        loss = denoising_loss(model, Tensor(x), corrupt)
        if not isinstance(loss, Tensor):
            raise Mismatch(f"return the loss as a Tensor (so that backward() can train the model), "
                           f"got {type(loss).__name__}")
        if loss.size != 1:
            raise Mismatch(f"return one number per batch (a scalar Tensor), got shape {loss.shape}")
        if not calls:
            raise Mismatch("corrupt was never called: the model must see corrupt(x)")
        worst = max(worst, STORED.check(as_numpy(loss).reshape(1), "denoising_loss", case,
                                        MISTAKES["denoising_loss"], TOL, "the loss"))
        if not loss.requires_grad:
            raise Mismatch("the loss does not depend on the model's weights (no graph): compute it with "
                           "tensor operations on model.encode and model.decode")
        for name, g in zip(WEIGHT_NAMES, grad(loss, model.parameters())):
            if g is None:
                raise Mismatch(f"your loss does not depend on the model's {name}: use model.encode and "
                               f"model.decode")
        check_gradients(lambda *w: denoising_loss(_TinyAutoencoder(*w), Tensor(x), corrupt), list(weights),
                        names=list(WEIGHT_NAMES))
    return passed_within(worst, TOL) + "; its gradient with respect to the weights matches finite differences"
