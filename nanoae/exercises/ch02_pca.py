"""Graders for chapter 02, autoencoders and PCA.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``pca_reconstruct(x, k)`` | centre, SVD, project on the top k directions, rebuild | the values stored for data with known principal directions and for random data |
| ``principal_angles(a, b)`` | the angles between the column spaces of two matrices | the angles the pairs of subspaces were built to meet at |
| ``linear_ae_gradients(x, w_enc, w_dec)`` | dL/dW of a linear autoencoder, by hand | the values stored for these inputs |

"known principal directions": data built so that its principal directions
and variances are known, distinct and well apart; "built to meet at":
pairs of subspaces that meet at chosen angles, given in bases that hide
them. The stored values (``values/ch02_pca.npz``) come from routes other
than the one each exercise asks for: the reconstructions from an
eigendecomposition of the covariance, the gradients from nanoae's autograd.
The answers of the common mistakes (data not centred, angles in degrees, a
forgotten factor 2, ...) are stored beside them, and the FAIL line names
the one an answer matches.

Each exercise is the student's to write: an answer that calls nanoae's PCA
(``nanoae.analysis.pca.PCA``), SciPy's ``subspace_angles`` (where SciPy is
installed), or lets the autograd engine find the gradients
(``Tensor.backward``, ``nanoae.grad``) does not pass.
"""
import importlib.util
import inspect

from nanoae import backend
from nanoae.analysis.pca import PCA
from nanoae.autograd import Tensor, grad
from nanoae.exercises import Mismatch, StoredValues, grader, passed_within, random_array

TOL = 1e-6
STORED = StoredValues("ch02_pca")
xp = backend.array_module_for("cpu")  # the graders build their inputs on the CPU

PCA_CASES = (("known", 1), ("known", 4), ("known", 9), ("random", 4))   # (data, k)
ANGLE_CASES = (((10, 25, 40, 60, 90), 13, 0), ((5, 33, 71), 8, 10), ((45,), 4, 20))   # (degrees, D, seed)
LINEAR_AE_CASES = ((7, 6, 3, 30),)                                     # (B, D, k, seed)
CASES = range(len(PCA_CASES))   # the stored values' case numbers; an exercise with fewer cases uses the first ones

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch02_pca.py).
# The two gradients of linear_ae_gradients are stored (and checked) apart, as grad_w_dec and grad_w_enc.
GRADIENT_MISTAKES = {
    "half": "a factor 2 is missing: d/dr of r^2 is 2r",
    "negated": "the sign is flipped: the residual is x_hat - x",
    "sum_over_batch": "you summed over the batch; the loss averages over it (divide by B)",
    "mean_over_pixels": "you averaged over the pixels too; the loss sums over them",
    "transposed": "your gradient is transposed: it must have the shape of the weight",
}
COSINES = "you returned the cosines (the singular values); return the angles, arccos of them"
MISTAKES = {
    "pca_reconstruct": {
        "not_centred": "the data were not centred: subtract the mean of each column before the SVD, add it "
                       "back after",
        "no_mean": "you forgot to add the mean back to the reconstruction",
        "smallest": "you kept the k directions of SMALLEST variance; keep the top k",
        "one_more": "you kept k + 1 directions instead of k",
        "one_fewer": "you kept k - 1 directions instead of k",
    },
    "principal_angles": {
        "largest_first": "your angles are sorted from largest to smallest; return them smallest first",
        "degrees": "your angles are in degrees; return radians",
        "cosines": COSINES,
        "cosines_largest_first": COSINES,
        "no_qr": "orthonormalize the columns of a and b first (QR): the singular values of a.T @ b are cosines "
                 "only for orthonormal bases",
    },
    "grad_w_dec": GRADIENT_MISTAKES,
    "grad_w_enc": GRADIENT_MISTAKES,
}


def _library_angles():
    """SciPy's subspace_angles where SciPy is installed (nanoae does not need it), else nothing.

    SciPy wraps its linalg functions in one shared wrapper; the function inside
    it is the one that is this exercise.
    """
    if importlib.util.find_spec("scipy") is None:
        return ()
    from scipy.linalg import subspace_angles
    return (inspect.unwrap(subspace_angles),)


# --- the inputs of each case (the stored values were computed on these) -------------------------

def _orthogonal(n, seed):
    """A random n x n orthogonal matrix (the Q of a QR of a Gaussian matrix)."""
    q, _ = xp.linalg.qr(random_array((n, n), seed))
    return q


def _walsh(n):
    """The n x n Walsh-Hadamard matrix (n a power of two): entries +-1, columns orthogonal."""
    h = xp.ones((1, 1))
    while len(h) < n:
        h = xp.block([[h, h], [h, -h]])
    return h


def _known_pca_data(n=64, d=12, seed=0):
    """Data (n, d) whose principal directions and variances are known exactly.

    Columns 1.. of a Walsh matrix have mean 0 and are orthogonal, so
    x = mean + (h * scales) @ r.T has covariance r diag(scales^2) r.T / n:
    its principal directions are the columns of r, in the order of ``scales``
    (distinct and decreasing), and its mean is far from 0.
    """
    h = _walsh(n)[:, 1:d + 1]                                   # (n, d), centred, orthogonal columns
    scales = xp.linspace(3.0, 0.3, d)
    r = _orthogonal(d, seed + 1)                               # (d, d) the principal directions
    mean = 2 * random_array((d,), seed + 2)                    # both signs
    return mean + (h * scales) @ r.T


def pca_reconstruct_inputs(case):
    """(x, k): the data of known principal directions, or random data with columns of unequal scales."""
    data, k = PCA_CASES[case]
    if data == "known":
        return _known_pca_data(), k
    x = random_array((40, 9), seed=3) * random_array((9,), seed=4, low=0.5, high=3) + random_array((9,), seed=5)
    return x, k


def principal_angles_inputs(case):
    """Two (D, k) matrices whose column spaces meet at the case's angles, in random bases.

    Before the rotation: a spans e_1..e_k and b's column i is
    cos(t_i) e_i + sin(t_i) e_{k+i}. A random rotation q moves both, and random
    invertible k x k matrices mix each one's columns: the spaces, hence the
    angles, stay the same, but the columns are no longer orthonormal.
    """
    degrees, d, seed = ANGLE_CASES[case]
    k, t = len(degrees), xp.radians(degrees)
    a0, b0 = xp.zeros((d, k)), xp.zeros((d, k))
    a0[:k, :k] = xp.eye(k)
    b0[:k, :k] = xp.diag(xp.cos(t))
    b0[k:2 * k, :k] = xp.diag(xp.sin(t))
    q = _orthogonal(d, seed)
    mix_a = random_array((k, k), seed + 1) + 3 * xp.eye(k)     # invertible, far from orthogonal
    mix_b = random_array((k, k), seed + 2) + 3 * xp.eye(k)
    return q @ a0 @ mix_a, q @ b0 @ mix_b


def linear_ae_gradients_inputs(case):
    """(x (B, D), w_enc (k, D), w_dec (D, k)), all of both signs."""
    batch, d, k, seed = LINEAR_AE_CASES[case]
    return random_array((batch, d), seed), random_array((k, d), seed + 1), random_array((d, k), seed + 2)


# --- exercise 1: PCA reconstruction --------------------------------------------------

@grader("pca_reconstruct", forbidden=(PCA.fit,))
def grade_pca_reconstruct(pca_reconstruct):
    worst = 0.0
    for case, (data, _) in enumerate(PCA_CASES):
        x, k = pca_reconstruct_inputs(case)
        given = x.copy()
        got = pca_reconstruct(given, k)
        if not (given == x).all():
            raise Mismatch("your function changed its input x in place; work on a copy (x - mean makes one)")
        what = "data with known principal directions" if data == "known" else "random data"
        worst = max(worst, STORED.check(got, "pca_reconstruct", case, MISTAKES["pca_reconstruct"], TOL,
                                        f"x_hat for k={k} ({what})"))
    return passed_within(worst, TOL)


# --- exercise 2: principal angles -----------------------------------------------------

@grader("principal_angles", forbidden=_library_angles())
def grade_principal_angles(principal_angles):
    worst = 0.0
    for case, (degrees, d, _) in enumerate(ANGLE_CASES):
        a, b = principal_angles_inputs(case)
        got = principal_angles(a.copy(), b.copy())
        worst = max(worst, STORED.check(got, "principal_angles", case, MISTAKES["principal_angles"], TOL,
                                        f"angles in radians ({len(degrees)} of them, in {d}-D space)"))
    return passed_within(worst, TOL)


# --- exercise 3: the gradient of a linear autoencoder ------------------------------

@grader("linear_ae_gradients", forbidden=(Tensor.backward, grad))
def grade_linear_ae_gradients(linear_ae_gradients):
    worst = 0.0
    for case in range(len(LINEAR_AE_CASES)):
        x, w_enc, w_dec = linear_ae_gradients_inputs(case)
        answer = linear_ae_gradients(x.copy(), w_enc.copy(), w_dec.copy())
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise Mismatch("return a pair (grad_w_enc, grad_w_dec)")
        got_enc, got_dec = answer
        for name, got in (("grad_w_dec", got_dec), ("grad_w_enc", got_enc)):
            worst = max(worst, STORED.check(got, name, case, MISTAKES[name], TOL, name))
    return passed_within(worst, TOL)
