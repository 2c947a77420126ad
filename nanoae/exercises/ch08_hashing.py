"""Graders for chapter 08, semantic hashing.

Codes are NumPy arrays of 0s and 1s; a code of B bits is a row (B,), a set of
codes a matrix (N, B). The Hamming distance of two codes is the number of
bits in which they differ.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``hamming_distance(a, b)`` | all pairwise distances (M, N) of a (M, B) and b (N, B) | the shape, and the distances stored for these inputs |
| ``codes_within_radius(code, radius)`` | every code within distance radius of code, once each: (K, B) | what any right answer has: 0/1 rows of length B, none twice, each within the radius, and as many as the ball holds (so none is missing) |
| ``precision_at_k(distances, labels, k)`` | leave-one-out precision of each item's k nearest others: (N,) | the shape, and the precisions stored for these inputs |

Each exercise rules out the library call that would do it:
``nanoae.analysis.hashing.hamming_distance`` for the distances, the hash
table's own ball (``flip_masks``, ``HashIndex.lookup`` and
``rows_at_distance``) for the Hamming ball, and
``nanoae.analysis.retrieval.precision_per_query`` (and the functions built
on it) for the precision.

Shapes differ in every case (M != N, k != B), so an answer on the wrong axis
has the wrong shape. When an answer is wrong, the grader names the usual
mistake it matches (for the distances and the precision, their answers are
stored for these inputs; for the ball, the number of codes it holds at each
distance tells them apart).
"""
import math

from nanoae import backend
from nanoae.analysis import hashing, retrieval
from nanoae.exercises import Mismatch, StoredValues, as_numpy, grader

TOL = 1e-9      # distances and precisions are exact: a right answer agrees to ~1e-15
CASES = (  # the inputs of the exercises with stored values, case by case: (M, N, B, seed), (N, k, classes, seed)
    {"hamming": (5, 7, 12, 80), "precision": (40, 5, 3, 100)},
    {"hamming": (9, 4, 3, 81), "precision": (25, 1, 4, 101)},
    {"hamming": (6, 6, 20, 82), "precision": (30, 12, 3, 102)},
)
RADIUS_CASES = ((6, 2, 90), (5, 0, 91), (4, 4, 92), (7, 3, 93), (8, 1, 94))   # (B, radius, seed)
STORED = StoredValues("ch08_hashing")
xp = backend.array_module_for("cpu")

# The common mistakes, by the name their answers are stored under (tests/exercise_values/ch08_hashing.py).
MISTAKES = {
    "hamming_distance": {
        "transposed": "rows and columns are swapped: row i must hold the distances from a[i] to every row of b",
        "agreements": "you counted the bits that AGREE: the distance counts the bits that differ",
        "sign_product": "s_a . s_b counts agreements minus disagreements, not the disagreements alone: "
                        "solve it for the number of bits that differ",
        "no_half": "B - s_a . s_b is twice the distance: divide by 2",
        "negated_product": "you negated s_a . s_b, but B and the factor 1/2 are missing",
        "bit_product": "a @ b.T multiplies the 0/1 codes: it counts the bits that are 1 in both codes. "
                       "Map the bits to signs s = 2 bits - 1 first",
        "bits_not_signs": "the product formula of section 4 needs the signs s = 2 bits - 1, not the 0/1 bits",
    },
    "precision_at_k": {
        "includes_self": "you counted the item itself as its own nearest neighbour (distance 0): leave it out",
        "k_plus_one": "you used k + 1 neighbours: take exactly k others",
        "k_plus_one_averaged": "you used k + 1 neighbours: take exactly k others",
        "k_minus_one": "you used k - 1 neighbours (an off-by-one when skipping the item itself): "
                       "take exactly k others",
        "k_minus_one_averaged": "you used k - 1 neighbours (an off-by-one when skipping the item itself): "
                                "take exactly k others",
        "farthest": "you took the k FARTHEST items: sort the distances in increasing order",
        "matches_counted": "you counted the matches: divide by k to get a fraction",
        "all_others": "this is the share of ALL other items with the same label: use only the k nearest",
    },
}


def _bits(shape, seed):
    return (backend.new_generator(seed).random(shape) < 0.5).astype("uint8")


def _answer(out, name):
    """The student's answer as a float64 NumPy array, or a Mismatch saying what came back."""
    try:
        return as_numpy(out)
    except Exception:
        raise Mismatch(f"return a NumPy array for {name}, got {type(out).__name__}") from None


# --- the inputs of each case (the stored values were computed on these) -------------------------

def hamming_inputs(case):
    """(a (M, B), b (N, B)) of 0/1 bits, with one pair at distance 0 and one at distance B."""
    m, n, num_bits, seed = CASES[case]["hamming"]
    a, b = _bits((m, num_bits), seed), _bits((n, num_bits), seed + 1)
    b[0], b[1] = a[0], 1 - a[1]
    return a, b


def precision_inputs(case):
    """(distances (N, N), labels (N,), k): Euclidean distances of random points (no ties; zero diagonal)."""
    n, k, num_classes, seed = CASES[case]["precision"]
    points = backend.new_generator(seed).standard_normal((n, 3))
    labels = backend.new_generator(seed + 1).integers(0, num_classes, size=n)
    distances = xp.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))   # (N, N)
    return distances, labels, k


# --- exercise 1: all pairwise Hamming distances ----------------------------------------------

@grader("hamming_distance", forbidden=(hashing.hamming_distance,))
def grade_hamming_distance(hamming_distance):
    for case in range(len(CASES)):
        a, b = hamming_inputs(case)
        (m, num_bits), n = a.shape, len(b)
        got = _answer(hamming_distance(a.copy(), b.copy()), "the distances")
        if m != n and got.shape == (n, m):
            raise Mismatch(f"your answer has shape {got.shape}, the transpose of the expected {(m, n)}: "
                           "row i must hold the distances from a[i] to every row of b")
        STORED.check(got, "hamming_distance", case, MISTAKES["hamming_distance"], TOL,
                     f"your distances (M={m}, N={n}, B={num_bits})")
    return f"every distance right in {len(CASES)} cases (three shapes, with distances 0 and B)"


# --- exercise 2: every code within a Hamming radius -------------------------------------------

def _counts_by_distance(rows, code):
    """How many of the codes ``rows`` (K, B) lie at distance 0, 1, ..., B from ``code`` (B,): a list of B + 1."""
    distances = (rows != code).sum(axis=1)
    return [int((distances == d).sum()) for d in range(len(code) + 1)]


def _ball_counts(num_bits, low, high):
    """How many codes a ball holding the distances low..high has at each distance 0..B: C(B, d) or 0."""
    return [math.comb(num_bits, d) if low <= d <= high else 0 for d in range(num_bits + 1)]


@grader("codes_within_radius",
        forbidden=(hashing.flip_masks.__wrapped__, hashing.HashIndex.lookup, hashing.HashIndex.rows_at_distance))
def grade_codes_within_radius(codes_within_radius):
    for num_bits, radius, seed in RADIUS_CASES:
        code = _bits((num_bits,), seed)
        hashing.flip_masks.cache_clear()      # a cached answer would skip flip_masks' code, which the watch sees
        got = _answer(codes_within_radius(code.copy(), radius), "the codes")
        where = f"(B={num_bits}, radius={radius})"
        if got.ndim != 2 or got.shape[1:] != (num_bits,):
            raise Mismatch(f"return one code per row, an array (K, {num_bits}); got shape {got.shape} {where}")
        if not ((got == 0) | (got == 1)).all():
            raise Mismatch(f"the codes must hold only 0 and 1 {where}")
        rows = [tuple(int(v) for v in row) for row in got]
        if len(set(rows)) < len(rows):
            twice = next(r for r in rows if rows.count(r) > 1)
            raise Mismatch(f"the code {''.join(map(str, twice))} appears {rows.count(twice)} times {where}: "
                           "list each code once (flipping the same bit twice gives the code back)")
        # No code twice: the answer is the ball exactly when it has as many codes as the ball at each distance.
        counts, count = _counts_by_distance(got, code), sum(_ball_counts(num_bits, 0, radius))
        if counts == _ball_counts(num_bits, 0, radius):
            continue
        for low, high, hint in [
            (0, radius - 1, "the codes at distance exactly radius are missing: the ball includes its edge "
                            "(distance <= radius, not < radius)"),
            (0, radius + 1, "you went one bit too far: the ball holds the codes at distance 0, 1, ..., radius, "
                            "not radius + 1"),
            (radius, radius, "you listed only the codes at distance exactly radius: the ball also holds every "
                             "code nearer, from distance 0 (the code itself) up"),
            (1, radius, "the code itself (distance 0) is missing: it is within any radius"),
        ]:
            if counts == _ball_counts(num_bits, low, high):
                raise Mismatch(f"{hint} {where}: {len(rows)} codes, expected {count}")
        far = next((row for row in got if (row != code).sum() > radius), None)
        if far is not None:
            raise Mismatch(f"the code {''.join(str(int(v)) for v in far)} is at distance {int((far != code).sum())} "
                           f"from {''.join(map(str, code))}, beyond the radius {where}")
        short = next(d for d, (have, want) in enumerate(zip(counts, _ball_counts(num_bits, 0, radius)))
                     if have < want)
        raise Mismatch(f"{count - len(rows)} of the {count} codes within the radius are missing, e.g. "
                       f"{math.comb(num_bits, short) - counts[short]} of the {math.comb(num_bits, short)} at "
                       f"distance {short} {where}")
    return f"every code within the radius, each once, in {len(RADIUS_CASES)} cases (radius 0 to B)"


# --- exercise 3: leave-one-out precision at k ---------------------------------------------------

@grader("precision_at_k",
        forbidden=(retrieval.precision_per_query, retrieval.precision_at_k, retrieval.precision_at_ks))
def grade_precision_at_k(precision_at_k):
    for case in range(len(CASES)):
        distances, labels, k = precision_inputs(case)
        n = len(labels)
        got = _answer(precision_at_k(distances.copy(), labels.copy(), k), "the precisions")
        where = f"(N={n}, k={k})"
        if got.shape in ((), (1,)):
            raise Mismatch(f"return one precision per item, an array ({n},), not their mean {where}")
        if got.shape == (k,) and k != n:
            raise Mismatch(f"your answer has shape ({k},): you averaged over the items (axis 0); average "
                           f"over each item's k neighbours (axis 1) to get one precision per item {where}")
        STORED.check(got, "precision_at_k", case, MISTAKES["precision_at_k"], TOL, f"your precisions {where}")
    return f"every precision right in {len(CASES)} cases (k = 1 to 12), each item leaving itself out"
