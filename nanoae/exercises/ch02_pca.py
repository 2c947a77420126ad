"""Graders for chapter 02, autoencoders and PCA.

| exercise | what the student writes | checked against |
| --- | --- | --- |
| ``pca_reconstruct(x, k)`` | centre, SVD, project on the top k directions, rebuild | known directions; eigh |
| ``principal_angles(a, b)`` | the angles between the column spaces of two matrices | known angles |
| ``linear_ae_gradients(x, w_enc, w_dec)`` | dL/dW of a linear autoencoder, by hand | nanoae's autograd |

"known directions": data built so that its principal directions are known
in closed form; "eigh": an eigendecomposition of the covariance, a route
independent of the SVD; "known angles": pairs of subspaces built to meet at
chosen angles, given in bases that hide them.

Where a wrong answer matches a common mistake (data not centred, angles in
degrees, a forgotten factor 2, ...), the FAIL line names the mistake.
"""
import math

from nanoae import backend
from nanoae.exercises import Mismatch, as_numpy, compare, grader, passed_within, random_array
from nanoae.autograd import Tensor, grad

TOL = 1e-6
xp = backend.array_module_for("cpu")  # the graders build their inputs and references on the CPU


def _orthogonal(n, seed):
    """A random n x n orthogonal matrix (the Q of a QR of a Gaussian matrix)."""
    a = random_array((n, n), seed)
    q, _ = xp.linalg.qr(a)
    return q


def _check_or_diagnose(got, expected, mistakes, what):
    """compare(got, expected); on a mismatch, name the mistake whose answer ``got`` equals, if any.

    ``mistakes`` is a list of (wrong answer, what the student probably did).
    """
    try:
        return compare(got, expected, TOL, what)
    except Mismatch as mismatch:
        for wrong, hint in mistakes:
            try:
                compare(got, wrong, TOL)
            except Mismatch:
                continue
            raise Mismatch(f"{hint} ({mismatch})") from None
        raise


# --- exercise 1: PCA reconstruction --------------------------------------------------

def _walsh(n):
    """The n x n Walsh-Hadamard matrix (n a power of two): entries +-1, columns orthogonal."""
    h = xp.ones((1, 1))
    while len(h) < n:
        h = xp.block([[h, h], [h, -h]])
    return h


def _known_pca_data(n=64, d=12, seed=0):
    """Data whose principal directions and variances are known exactly.

    Columns 1.. of a Walsh matrix have mean 0 and are orthogonal, so
    x = mean + (h * scales) @ r.T has covariance r diag(scales^2) r.T / n:
    its principal directions are the columns of r, in the order of ``scales``.
    """
    h = _walsh(n)[:, 1:d + 1]                                   # (n, d), centred, orthogonal columns
    scales = xp.linspace(3.0, 0.3, d)                          # distinct, decreasing
    r = _orthogonal(d, seed + 1)                               # (d, d) the principal directions
    mean = 2 * random_array((d,), seed + 2)                    # far from 0, both signs
    x = mean + (h * scales) @ r.T

    def reconstruction(k):
        return mean + (h[:, :k] * scales[:k]) @ r[:, :k].T

    return x, reconstruction


def _pca_by_eigh(x, k, centre=True, add_mean=True, last=False):
    """An independent reference (eigenvectors of the covariance), and a few wrong variants of it."""
    mean = x.mean(axis=0) if centre else 0 * x[0]
    xc = x - mean
    _, vectors = xp.linalg.eigh(xc.T @ xc)                     # eigenvalues ascending
    v = vectors[:, :k] if last else vectors[:, ::-1][:, :k]    # (d, k)
    return xc @ v @ v.T + (mean if add_mean else 0)


def _pca_mistakes(x, k):
    return [(_pca_by_eigh(x, k, centre=False, add_mean=False),
             "the data were not centred: subtract the mean of each column before the SVD, add it back after"),
            (_pca_by_eigh(x, k, add_mean=False), "you forgot to add the mean back to the reconstruction"),
            (_pca_by_eigh(x, k, last=True), "you kept the k directions of SMALLEST variance; keep the top k"),
            (_pca_by_eigh(x, k + 1), "you kept k + 1 directions instead of k"),
            (_pca_by_eigh(x, k - 1), "you kept k - 1 directions instead of k")]


@grader("pca_reconstruct")
def grade_pca_reconstruct(pca_reconstruct):
    """Closed form on data with known principal directions, then random data against eigh."""
    worst = 0.0
    x, reconstruction = _known_pca_data()
    for k in (1, 4, 9):
        given = x.copy()
        got = pca_reconstruct(given, k)
        if not (given == x).all():
            raise Mismatch("your function changed its input x in place; work on a copy (x - mean makes one)")
        worst = max(worst, _check_or_diagnose(got, reconstruction(k), _pca_mistakes(x, k),
                                              f"x_hat for k={k} (data with known principal directions)"))
    x = random_array((40, 9), seed=3) * random_array((9,), seed=4, low=0.5, high=3) + random_array((9,), seed=5)
    got = pca_reconstruct(x.copy(), 4)
    worst = max(worst, _check_or_diagnose(got, _pca_by_eigh(x, 4), _pca_mistakes(x, 4),
                                          "x_hat for k=4 (random data)"))
    return passed_within(worst, TOL)


# --- exercise 2: principal angles -----------------------------------------------------

def _subspaces_with_angles(angles, d, seed):
    """Two (d, k) matrices whose column spaces meet at ``angles`` (radians), in random bases.

    Before the rotation: a spans e_1..e_k and b's column i is
    cos(t_i) e_i + sin(t_i) e_{k+i}. A random rotation q moves both, and random
    invertible k x k matrices mix each one's columns: the spaces, hence the
    angles, stay the same, but the columns are no longer orthonormal.
    """
    k = len(angles)
    t = xp.asarray(angles)
    a0, b0 = xp.zeros((d, k)), xp.zeros((d, k))
    a0[:k, :k] = xp.eye(k)
    b0[:k, :k] = xp.diag(xp.cos(t))
    b0[k:2 * k, :k] = xp.diag(xp.sin(t))
    q = _orthogonal(d, seed)
    mix_a = random_array((k, k), seed + 1) + 3 * xp.eye(k)     # invertible, far from orthogonal
    mix_b = random_array((k, k), seed + 2) + 3 * xp.eye(k)
    return q @ a0 @ mix_a, q @ b0 @ mix_b


COSINES = "you returned the cosines (the singular values); return the angles, arccos of them"


def _angles_mistakes(a, b, expected):
    raw = xp.linalg.svd(a.T @ b, compute_uv=False)             # cosines only if a, b were orthonormal
    return [(expected[::-1], "your angles are sorted from largest to smallest; return them smallest first"),
            (expected * 180 / math.pi, "your angles are in degrees; return radians"),
            (xp.cos(expected), COSINES),
            (xp.cos(expected)[::-1], COSINES),
            (xp.arccos(xp.clip(raw, -1, 1)),
             "orthonormalize the columns of a and b first (QR): the singular values of a.T @ b are cosines "
             "only for orthonormal bases")]


@grader("principal_angles")
def grade_principal_angles(principal_angles):
    """Angles known by construction, in bases that hide them."""
    worst = 0.0
    cases = [([10, 25, 40, 60, 90], 13, 0), ([5, 33, 71], 8, 10), ([45], 4, 20)]
    for degrees, d, seed in cases:
        expected = xp.radians(degrees)                         # listed smallest first
        a, b = _subspaces_with_angles(expected, d, seed)
        got = principal_angles(a.copy(), b.copy())
        worst = max(worst, _check_or_diagnose(got, expected, _angles_mistakes(a, b, expected),
                                              f"angles in radians ({len(degrees)} of them, in {d}-D space)"))
    return passed_within(worst, TOL)


# --- exercise 3: the gradient of a linear autoencoder ------------------------------

def _linear_ae_loss(x, w_enc, w_dec):
    """L = 1/B sum_b ||W_dec W_enc x_b - x_b||^2 with x as rows: x_hat = x W_enc^T W_dec^T."""
    x_hat = x @ w_enc.T @ w_dec.T                              # (B, D)
    return ((x_hat - x) ** 2).sum() / len(x)


@grader("linear_ae_gradients")
def grade_linear_ae_gradients(linear_ae_gradients):
    """Compare with nanoae's autograd (itself checked against finite differences) in float64."""
    batch, d, k = 7, 6, 3
    x = random_array((batch, d), seed=30)
    w_enc, w_dec = random_array((k, d), seed=31), random_array((d, k), seed=32)
    enc, dec = Tensor(w_enc, requires_grad=True), Tensor(w_dec, requires_grad=True)
    expected_enc, expected_dec = (as_numpy(g) for g in grad(_linear_ae_loss(Tensor(x), enc, dec), [enc, dec]))

    answer = linear_ae_gradients(x.copy(), w_enc.copy(), w_dec.copy())
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Mismatch("return a pair (grad_w_enc, grad_w_dec)")
    got_enc, got_dec = answer
    worst = 0.0
    for got, expected, name in ((got_dec, expected_dec, "grad_w_dec"), (got_enc, expected_enc, "grad_w_enc")):
        mistakes = [(expected / 2, "a factor 2 is missing: d/dr of r^2 is 2r"),
                    (-expected, "the sign is flipped: the residual is x_hat - x"),
                    (expected * batch, "you summed over the batch; the loss averages over it (divide by B)"),
                    (expected / d, "you averaged over the pixels too; the loss sums over them"),
                    (expected.T, "your gradient is transposed: it must have the shape of the weight")]
        worst = max(worst, _check_or_diagnose(got, expected, mistakes, name))
    return passed_within(worst, TOL)
