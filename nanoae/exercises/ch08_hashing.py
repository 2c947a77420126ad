"""Graders for chapter 08, semantic hashing.

Codes are NumPy arrays of 0s and 1s; a code of B bits is a row (B,), a set of
codes a matrix (N, B). The Hamming distance of two codes is the number of
bits in which they differ.

| exercise | what the student writes | checked by |
| --- | --- | --- |
| ``hamming_distance(a, b)`` | all pairwise distances (M, N) of a (M, B) and b (N, B) | counting differing bits element by element |
| ``codes_within_radius(code, radius)`` | every code within distance radius of code, once each: (K, B) | every one of the 2^B codes, filtered by its distance |
| ``precision_at_k(distances, labels, k)`` | leave-one-out precision of each item's k nearest others: (N,) | a loop over the items, each item's own row removed |

Shapes differ in every case (M != N, k != B), so an answer on the wrong axis
has the wrong shape. When an answer is wrong, the grader also tries the usual
mistakes and names the one the answer matches.
"""
import itertools
import math

from nanoae import backend
from nanoae.exercises import Mismatch, as_numpy, compare, diagnose, grader

xp = backend.array_module_for("cpu")  # references are computed on the CPU


def _bits(shape, seed):
    return (backend.new_generator(seed).random(shape) < 0.5).astype("uint8")


def _answer(out, name):
    """The student's answer as a float64 NumPy array, or a Mismatch saying what came back."""
    try:
        return as_numpy(out)
    except Exception:
        raise Mismatch(f"return a NumPy array for {name}, got {type(out).__name__}") from None


# --- exercise 1: all pairwise Hamming distances ----------------------------------------------

HAMMING_CASES = ((5, 7, 12, 80), (9, 4, 3, 81), (6, 6, 20, 82))   # (M, N, B, seed)


@grader("hamming_distance")
def grade_hamming_distance(hamming_distance):
    for m, n, num_bits, seed in HAMMING_CASES:
        a, b = _bits((m, num_bits), seed), _bits((n, num_bits), seed + 1)
        b[0], b[1] = a[0], 1 - a[1]                          # one pair at distance 0, one at distance B
        expected = (a[:, None, :] != b[None, :, :]).sum(axis=2)                    # (M, N), the reference
        got = _answer(hamming_distance(a.copy(), b.copy()), "the distances")
        if m != n and got.shape == (n, m):
            raise Mismatch(f"your answer has shape {got.shape}, the transpose of the expected {(m, n)}: "
                           "row i must hold the distances from a[i] to every row of b")
        s_a, s_b = 2.0 * a - 1, 2.0 * b - 1
        try:
            compare(got, expected, 1e-9, f"your distances (M={m}, N={n}, B={num_bits})")
        except Mismatch as mismatch:
            diagnose(got, [
                (expected.T if m == n else None, "rows and columns are swapped: row i must hold the distances "
                                                 "from a[i] to every row of b"),
                (num_bits - expected, "you counted the bits that AGREE: the distance counts the bits that differ"),
                (s_a @ s_b.T, "s_a . s_b counts agreements minus disagreements, B - 2d: "
                              "solve for d = (B - s_a . s_b) / 2"),
                (num_bits - s_a @ s_b.T, "B - s_a . s_b is twice the distance: divide by 2"),
                (-s_a @ s_b.T, "you negated s_a . s_b but forgot B and the factor 1/2: d = (B - s_a . s_b) / 2"),
                (1.0 * a @ b.T, "a @ b.T multiplies the 0/1 codes: it counts the bits that are 1 in both "
                                "codes. Map the bits to signs s = 2 bits - 1 first"),
                ((num_bits - (1.0 * a) @ b.T) / 2, "the formula d = (B - s_a . s_b) / 2 needs the signs "
                                                   "s = 2 bits - 1, not the 0/1 bits"),
            ], mismatch)
    return "matches counting the differing bits one by one (three shapes, with distances 0 and B)"


# --- exercise 2: every code within a Hamming radius -------------------------------------------

RADIUS_CASES = ((6, 2, 90), (5, 0, 91), (4, 4, 92), (7, 3, 93), (8, 1, 94))   # (B, radius, seed)


def _ball(code, low, high):
    """The codes whose distance to ``code`` is in [low, high], found among all 2^B codes."""
    return {c for c in itertools.product((0, 1), repeat=len(code))
            if low <= sum(x != y for x, y in zip(c, code)) <= high}


@grader("codes_within_radius")
def grade_codes_within_radius(codes_within_radius):
    for num_bits, radius, seed in RADIUS_CASES:
        code = _bits((num_bits,), seed)
        got = _answer(codes_within_radius(code.copy(), radius), "the codes")
        where = f"(B={num_bits}, radius={radius})"
        count = sum(math.comb(num_bits, d) for d in range(radius + 1))
        if got.ndim != 2 or got.shape[1:] != (num_bits,):
            raise Mismatch(f"return one code per row, an array (K, {num_bits}); got shape {got.shape} {where}")
        if not ((got == 0) | (got == 1)).all():
            raise Mismatch(f"the codes must hold only 0 and 1 {where}")
        rows = [tuple(int(v) for v in row) for row in got]
        found, target = set(rows), tuple(int(v) for v in code)
        if len(found) < len(rows):
            twice = next(r for r in found if rows.count(r) > 1)
            raise Mismatch(f"the code {''.join(map(str, twice))} appears {rows.count(twice)} times {where}: "
                           "list each code once (flipping the same bit twice gives the code back)")
        expected = _ball(target, 0, radius)
        if found == expected:
            continue
        for wrong, hint in [
            (_ball(target, 0, radius - 1), "the codes at distance exactly radius are missing: the ball "
                                           "includes its edge (distance <= radius, not < radius)"),
            (_ball(target, 0, radius + 1), "you went one bit too far: the ball holds the codes at distance "
                                           "0, 1, ..., radius, not radius + 1"),
            (_ball(target, radius, radius), "you listed only the codes at distance exactly radius: the ball "
                                            "also holds every code nearer, from distance 0 (the code itself) up"),
            (_ball(target, 1, radius), "the code itself (distance 0) is missing: it is within any radius"),
        ]:
            if found == wrong:
                raise Mismatch(f"{hint} {where}: {len(found)} codes, expected {count}")
        far = [r for r in found if r not in expected]
        if far:
            d = sum(x != y for x, y in zip(far[0], target))
            raise Mismatch(f"the code {''.join(map(str, far[0]))} is at distance {d} from "
                           f"{''.join(map(str, target))}, beyond the radius {where}")
        missing = sorted(expected - found)
        raise Mismatch(f"{len(missing)} of the {count} codes within the radius are missing, e.g. "
                       f"{''.join(map(str, missing[0]))} {where}")
    return "every code within the radius, each once, in five cases (radius 0 to B)"


# --- exercise 3: leave-one-out precision at k ---------------------------------------------------

PRECISION_CASES = ((40, 5, 3, 100), (25, 1, 4, 101), (30, 12, 3, 102))   # (N, k, classes, seed)


def _precision_problem(n, num_classes, seed):
    """Euclidean distances (N, N) of random points (no ties; zero diagonal) and labels (N,)."""
    points = backend.new_generator(seed).standard_normal((n, 3))
    labels = backend.new_generator(seed + 1).integers(0, num_classes, size=n)
    distances = xp.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    return distances, labels


def _reference_precision(distances, labels, k, include_self=False, extra=0, farthest=False):
    """Loop over items; the usual mistakes are switches, so each wrong answer is built the same way."""
    precision = []
    for i in range(len(labels)):
        others = [j for j in range(len(labels)) if include_self or j != i]
        others.sort(key=lambda j: -distances[i, j] if farthest else distances[i, j])
        nearest = others[:k + extra]
        precision.append(sum(labels[j] == labels[i] for j in nearest) / k)   # divided by k, whatever was kept
    return xp.array(precision)


@grader("precision_at_k")
def grade_precision_at_k(precision_at_k):
    for n, k, num_classes, seed in PRECISION_CASES:
        distances, labels = _precision_problem(n, num_classes, seed)
        got = _answer(precision_at_k(distances.copy(), labels.copy(), k), "the precisions")
        where = f"(N={n}, k={k})"
        if got.shape in ((), (1,)):
            raise Mismatch(f"return one precision per item, an array ({n},), not their mean {where}")
        if got.shape == (k,) and k != n:
            raise Mismatch(f"your answer has shape ({k},): you averaged over the items (axis 0); average "
                           f"over each item's k neighbours (axis 1) to get one precision per item {where}")
        expected = _reference_precision(distances, labels, k)
        try:
            compare(got, expected, 1e-9, f"your precisions {where}")
        except Mismatch as mismatch:
            matches_self = (labels[:, None] == labels[None, :])
            diagnose(got, [
                (_reference_precision(distances, labels, k, include_self=True),
                 "you counted the item itself as its own nearest neighbour (distance 0): leave it out"),
                *[(wrong, "you used k + 1 neighbours: take exactly k others") for wrong in (
                    _reference_precision(distances, labels, k, extra=1),                  # counted over k + 1
                    _reference_precision(distances, labels, k, extra=1) * k / (k + 1))],  # averaged over k + 1
                *[(wrong, "you used k - 1 neighbours (an off-by-one when skipping the item itself): "
                          "take exactly k others") for wrong in (
                    _reference_precision(distances, labels, k, extra=-1) if k > 1 else None,
                    _reference_precision(distances, labels, k, extra=-1) * k / (k - 1) if k > 1 else None)],
                (_reference_precision(distances, labels, k, farthest=True),
                 "you took the k FARTHEST items: sort the distances in increasing order"),
                (_reference_precision(distances, labels, k) * k, "you counted the matches: divide by k "
                                                                  "to get a fraction"),
                ((matches_self.sum(axis=1) - 1) / (n - 1), "this is the share of ALL other items with the "
                                                            "same label: use only the k nearest"),
            ], mismatch)
    return "matches a loop over the items, each leaving itself out (three cases, k = 1 to 12)"
