"""Embedding: a table of learned vectors looked up by integer index, with a dense or a row-sparse gradient."""
from nanoae import backend, ops
from nanoae.autograd import Tensor
from nanoae.nn import init
from nanoae.nn.module import Module, Parameter


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``: ``emb(indices)`` looks them up.

    For integer indices of any shape (...), the result is ``weight[indices]``
    with shape (..., embedding_dim). It equals one_hot(indices) @ weight, so the
    gradient of a row of ``weight`` is the sum of the upstream gradients of
    every position that picked it (repeated indices add up; rows never picked
    get zero). The weights start standard normal, as in PyTorch.

    ``sparse=False`` (the default) computes that gradient as a dense
    (num_embeddings, embedding_dim) array through getitem's backward, the way
    to see it first. ``sparse=True`` gives the same gradient as
    ``ops.SparseRows``, only the rows that were picked (``ops/embedding.py``):
    SGD and SparseAdam then update those rows and leave the rest untouched,
    which is what makes a vocabulary of tens of thousands of words cheap.
    """

    def __init__(self, num_embeddings, embedding_dim, sparse=False, dtype="float32"):
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.sparse = num_embeddings, embedding_dim, sparse
        self.weight = Parameter.empty((num_embeddings, embedding_dim), dtype,
                                      f"Embedding({num_embeddings}, {embedding_dim})")
        init.normal_(self.weight)

    def forward(self, indices):
        """indices: ints (...), a Tensor or an array -> (..., embedding_dim)."""
        index = backend.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if index.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {index.dtype}")
        if index.size and (int(index.min()) < 0 or int(index.max()) >= self.num_embeddings):
            raise IndexError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): indices must be in "
                             f"[0, {self.num_embeddings}), got {int(index.min())}..{int(index.max())}")
        index = backend.to_device(index, self.weight.device)
        if self.sparse:
            return ops.sparse_embedding(self.weight, index)
        return self.weight[index]

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (", sparse=True" if self.sparse else "")
