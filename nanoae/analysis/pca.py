"""Principal component analysis: the linear baseline every autoencoder is measured against.

PCA finds the k orthonormal directions along which the centred data varies
most. With the centred data X_c = X - mean (N rows) and its thin SVD
X_c = U S V^T, the directions are the first k rows of V^T, and

    z     = (x - mean) V_k          the code, k numbers per row
    x_hat = z V_k^T + mean          the best rank-k reconstruction in squared error

(Eckart–Young). The variance along direction i is S_i^2 / (N - 1).
Chapter 02 derives this and shows that a linear autoencoder learns the same
subspace; later chapters use :class:`PCA` as the baseline (anomaly scores,
PCA-then-sign hashing, codes for a classifier).

Works on NumPy and CuPy arrays alike: the array module comes from the data.
"""
from nanoae import backend, checks


class PCA:
    """``PCA(k).fit(x)``, then ``transform``, ``inverse_transform``, ``reconstruct``.

    After ``fit``: ``mean`` (D,), ``components`` (k, D) with orthonormal rows,
    largest variance first, and ``explained_variance`` (k,).
    """

    def __init__(self, n_components):
        self.n_components = int(checks.positive_int("PCA", "n_components", n_components))
        self.mean = self.components = self.explained_variance = None

    def fit(self, x):
        """Fit to the rows of x (N, D); returns self."""
        x = self._check(x, "fit")
        n, d = x.shape
        if self.n_components > min(n, d):
            raise ValueError(f"PCA.fit: n_components={self.n_components} needs at least that many rows and "
                             f"columns, got x of shape {x.shape}")
        xp = backend.get_array_module(x)
        self.mean = x.mean(axis=0)                                         # (D,)
        _, s, vt = xp.linalg.svd(x - self.mean, full_matrices=False)       # X_c = U S V^T
        self.components = vt[:self.n_components]                           # (k, D)
        self.explained_variance = s[:self.n_components] ** 2 / max(n - 1, 1)
        return self

    def transform(self, x):
        """The codes z = (x - mean) V_k, shape (N, k)."""
        x = self._check(x, "transform", fitted=True)
        return (x - self.mean) @ self.components.T

    def inverse_transform(self, z):
        """x_hat = z V_k^T + mean, shape (N, D)."""
        if self.components is None:
            raise RuntimeError("PCA.inverse_transform: call fit first")
        if z.ndim != 2 or z.shape[1] != self.n_components:
            raise ValueError(f"PCA.inverse_transform: expected codes (N, {self.n_components}), got {z.shape}")
        return z @ self.components + self.mean

    def reconstruct(self, x):
        """The projection of x onto the k-dimensional principal subspace (through the mean)."""
        return self.inverse_transform(self.transform(x))

    def reconstruction_error(self, x):
        """Squared error summed over features, one number per row: ||x - x_hat||^2, shape (N,)."""
        diff = x - self.reconstruct(x)
        return (diff * diff).sum(axis=1)

    def _check(self, x, method, fitted=False):
        if fitted and self.components is None:
            raise RuntimeError(f"PCA.{method}: call fit first")
        if not backend.is_array(x) or x.ndim != 2:
            raise ValueError(f"PCA.{method}: expected an array of rows (N, D), got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        if fitted and x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"PCA.{method}: x has {x.shape[1]} features but the PCA was fitted on "
                             f"{self.mean.shape[0]}")
        return x

    def __repr__(self):
        return f"PCA(n_components={self.n_components}{'' if self.components is None else ', fitted'})"
