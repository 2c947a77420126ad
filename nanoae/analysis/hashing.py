"""Binary codes for fast retrieval: Hamming distances, two baseline hashes and a hash table.

Semantic hashing (Salakhutdinov & Hinton, 2009) gives every image a short
binary code, B bits, such that similar images get codes that differ in few
bits. The number of differing bits is the **Hamming distance**. With codes as
0/1 vectors a, b in {0, 1}^B it can be computed with one matrix product: map the
bits to signs s = 2 a - 1 in {-1, +1}^B; then

    s_a . s_b = (#bits that agree) - (#bits that differ) = B - 2 d(a, b),
    d(a, b)   = (B - s_a . s_b) / 2,

which :func:`hamming_distance` applies to every pair of rows at once.

Codes also serve as **addresses**: read the B bits as a binary number (bit j
is worth 2^j) and put each image in the bucket of its number. :class:`HashIndex`
finds the images near a query without looking at the others: first the
query's own bucket (distance 0), then the buckets whose numbers differ in
one bit (distance 1), in two bits, and so on. There are C(B, d) codes at
distance exactly d, so the work depends on B and the radius, not on the number
of images stored.

The baselines, :func:`pca_sign_hash` and :func:`random_projection_hash`, are
linear: bit j is 1 when (x - mean) . w_j > 0, for the top B principal
directions w_j, or for B random Gaussian directions (random hyperplanes
through the data's mean, as in locality-sensitive hashing, Charikar 2002).

Arrays may be NumPy or CuPy; the hash table itself lives on the CPU.
"""
import functools
import itertools

from nanoae import backend
from nanoae.analysis.pca import PCA
from nanoae.autograd import Tensor

MAX_INDEX_BITS = 62  # a bucket's number must fit in a signed 64-bit integer


def to_bits(codes, threshold=0.5):
    """Binary codes (N, B) of uint8 0/1: 1 where ``codes > threshold``.

    ``codes`` is an array or a Tensor, e.g. sigmoid activations in (0, 1)
    (threshold 0.5) or projections of either sign (threshold 0).
    """
    if isinstance(codes, Tensor):
        codes = codes.data
    if not backend.is_array(codes) or codes.ndim != 2:
        raise ValueError(f"to_bits: expected codes of shape (N, B), got {getattr(codes, 'shape', type(codes).__name__)}")
    xp = backend.get_array_module(codes)
    return (codes > threshold).astype(xp.uint8)


def hamming_distance(a_bits, b_bits):
    """The number of differing bits between every row of a (M, B) and every row of b (N, B): ints (M, N).

    With signs s = 2 bits - 1, d = (B - s_a s_b^T) / 2 (module docstring).
    The product is taken in float32, exact for integers below 2^24.
    """
    a_bits, b_bits = _check_bits(a_bits, "hamming_distance", "a_bits"), _check_bits(b_bits, "hamming_distance", "b_bits")
    if a_bits.shape[1] != b_bits.shape[1]:
        raise ValueError(f"hamming_distance: the codes have different lengths, a_bits {a_bits.shape} "
                         f"and b_bits {b_bits.shape}")
    xp = backend.get_array_module(a_bits, b_bits)
    num_bits = a_bits.shape[1]
    s_a = 2 * a_bits.astype(xp.float32) - 1                       # (M, B) in {-1, +1}
    s_b = 2 * b_bits.astype(xp.float32) - 1                       # (N, B)
    return ((num_bits - s_a @ s_b.T) / 2).astype(xp.int32)        # (M, N)


def code_keys(bits):
    """Each row of bits (N, B) read as a binary number, bit j worth 2^j: ints (N,) (B <= 62)."""
    bits = _check_bits(bits, "code_keys", "bits")
    if bits.shape[1] > MAX_INDEX_BITS:
        raise ValueError(f"code_keys: codes of {bits.shape[1]} bits do not fit in a 64-bit number "
                         f"(at most {MAX_INDEX_BITS} bits)")
    xp = backend.get_array_module(bits)
    powers = xp.left_shift(1, xp.arange(bits.shape[1], dtype=xp.int64))     # (B,) 1, 2, 4, ...
    return (bits.astype(xp.int64) * powers).sum(axis=1)                     # (N,)


@functools.cache
def flip_masks(num_bits, distance):
    """Every B-bit number with exactly ``distance`` ones: XOR a key with one to flip those bits.

    There are C(B, d) of them, one per choice of ``distance`` bit positions.
    Cached: a hash table asks for the same few (B, d) at every query.
    """
    return tuple(sum(1 << j for j in positions) for positions in itertools.combinations(range(num_bits), distance))


class HashIndex:
    """A hash table from binary codes: bucket number -> the rows with that code.

    ``HashIndex(bits)`` for database codes bits (N, B), B <= 62. Then

    - ``lookup(code, radius)``: the rows whose code is within Hamming distance
      ``radius`` of ``code`` (B,): its bucket, then every bucket one bit flip
      away, two flips away, ..., ``radius`` flips away;
    - ``query(code, k)``: the k nearest rows, widening the radius until k are found.

    Both return row indices (a NumPy int64 array) ordered by Hamming distance,
    ties by row index: the order of a stable sort of the distances of a linear scan.
    """

    def __init__(self, bits):
        bits = _check_bits(bits, "HashIndex", "bits")
        self.size, self.num_bits = bits.shape
        self.buckets = {}
        for row, key in enumerate(backend.to_numpy(code_keys(bits)).tolist()):
            self.buckets.setdefault(key, []).append(row)   # rows are added in order, so each list is sorted

    def rows_at_distance(self, key, distance):
        """The rows whose code differs from bucket ``key`` in exactly ``distance`` bits, sorted."""
        rows = []
        for mask in flip_masks(self.num_bits, distance):
            rows.extend(self.buckets.get(key ^ mask, ()))
        return sorted(rows)

    def lookup(self, code, radius):
        """The rows within Hamming distance ``radius`` of ``code`` (B,), nearest first."""
        key = self._key(code, "lookup")
        if int(radius) != radius or not 0 <= radius <= self.num_bits:
            raise ValueError(f"HashIndex.lookup: radius must be an integer in [0, {self.num_bits}], got {radius!r}")
        rows = []
        for distance in range(int(radius) + 1):
            rows.extend(self.rows_at_distance(key, distance))
        return _int_array(rows)

    def query(self, code, k):
        """The ``k`` rows nearest to ``code`` (B,) in Hamming distance: widen the ball until k are found."""
        key = self._key(code, "query")
        if int(k) != k or not 1 <= k <= self.size:
            raise ValueError(f"HashIndex.query: k must be an integer in [1, {self.size}] (the rows stored), got {k!r}")
        rows, distance = [], 0
        while len(rows) < k:
            rows.extend(self.rows_at_distance(key, distance))
            distance += 1
        return _int_array(rows[:int(k)])

    def _key(self, code, method):
        if isinstance(code, Tensor):
            code = code.data
        if not backend.is_array(code) or code.shape != (self.num_bits,):
            raise ValueError(f"HashIndex.{method}: expected one code of shape ({self.num_bits},), "
                             f"got {getattr(code, 'shape', type(code).__name__)}")
        return int(code_keys(code[None])[0])

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"HashIndex({self.size} codes of {self.num_bits} bits in {len(self.buckets)} buckets)"


class LinearHash:
    """Bits from hyperplanes through ``mean``: bit j of x is 1 when (x - mean) . w_j > 0.

    ``directions`` is (B, D), one w_j per row. Call it on rows x (N, D) to get bits (N, B).
    """

    def __init__(self, mean, directions, name):
        self.mean, self.directions, self.name = mean, directions, name   # (D,), (B, D)
        self.num_bits = directions.shape[0]

    def __call__(self, x):
        if not backend.is_array(x) or x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"{self.name}: expected rows (N, {self.mean.shape[0]}), "
                             f"got {getattr(x, 'shape', type(x).__name__)}")
        backend.get_array_module(x, self.mean)   # a TypeError naming both devices if x is not where the hash is
        return to_bits((x - self.mean) @ self.directions.T, threshold=0)    # (N, B)

    def __repr__(self):
        return f"{self.name}({self.num_bits} bits)"


def pca_sign_hash(train_x, num_bits, pca=None):
    """The PCA-then-sign hash fitted to train_x (N, D): bit j = [projection on principal direction j > 0].

    ``pca``: a :class:`nanoae.analysis.pca.PCA` already fitted to train_x with at least
    ``num_bits`` components, to save a second fit (its first directions are the same).
    """
    if pca is None:
        pca = PCA(num_bits).fit(train_x)
    elif pca.components is None or pca.n_components < num_bits:
        raise ValueError(f"pca_sign_hash: the PCA given must be fitted with at least {num_bits} components, got {pca!r}")
    return LinearHash(pca.mean, pca.components[:num_bits], "pca_sign_hash")


def random_projection_hash(train_x, num_bits, seed=0):
    """Random hyperplanes through the mean of train_x (N, D): directions drawn N(0, I) from ``seed``."""
    if not backend.is_array(train_x) or train_x.ndim != 2:
        raise ValueError(f"random_projection_hash: expected rows (N, D), got {getattr(train_x, 'shape', type(train_x).__name__)}")
    directions = backend.new_generator(seed).standard_normal((num_bits, train_x.shape[1]))      # (B, D)
    dtype = train_x.dtype if train_x.dtype.kind == "f" else "float32"   # integer pixels (uint8) get float directions
    directions = backend.to_device(directions, backend.device_of(train_x)).astype(dtype)
    return LinearHash(train_x.mean(axis=0), directions, "random_projection_hash")


def _check_bits(bits, fn, name):
    if isinstance(bits, Tensor):
        bits = bits.data
    if not backend.is_array(bits) or bits.ndim != 2:
        raise ValueError(f"{fn}: expected {name} of shape (N, B), got {getattr(bits, 'shape', type(bits).__name__)}")
    xp = backend.get_array_module(bits)
    if bits.size and not bool(((bits == 0) | (bits == 1)).all()):
        raise ValueError(f"{fn}: {name} must hold only 0 and 1 (use to_bits to threshold real-valued codes)")
    return bits if bits.dtype == xp.uint8 else bits.astype(xp.uint8)


def _int_array(rows):
    return backend.array_module_for("cpu").asarray(rows, dtype="int64")
