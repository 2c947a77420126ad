"""Looking up rows of a table with a row-sparse gradient: ``sparse_embedding`` and ``SparseRows``.

An embedding table W (V, D) is read a few rows at a time: a batch of B word
indices touches at most B of its V rows. The plain lookup ``W[indices]``
(``ops/shape.py``'s getitem, what ``nn.Embedding`` uses by default) has the
gradient one_hot(indices)^T @ gy, built as a dense (V, D) array of zeros with
B rows added in, and an optimizer then updates all V rows, most of them by
zero. For a vocabulary of 42,000 words that is 42,000 rows written per step to
change a few thousand.

``sparse_embedding`` gives the same numbers as a :class:`SparseRows` instead:
the indices and the B rows of upstream gradient, nothing else. SGD and
SparseAdam (``nanoae/optim.py``) apply it to the touched rows only.

Repeated indices are kept as they come (the gradient is *uncoalesced*, as
PyTorch's): the row of a word that appears three times in the batch is listed
three times, and whoever reads the gradient sums them. ``coalesce()`` does that
sum, giving each row once; ``to_dense()`` and ``add_to`` sum through
``add.at``. Either way the meaning is one_hot(indices)^T @ gy.
"""
from nanoae import backend
from nanoae.autograd import Function, Tensor, is_grad_enabled


class SparseRows:
    """The gradient of a table of shape ``shape`` (V, D) that is zero except in some rows.

    ``indices`` (...) are row numbers, possibly repeated; ``values`` (..., D)
    the rows, one for each index (kept in the lookup's shape, so that the
    upstream gradient needs no copy). The dense gradient it stands for is

        G[r] = sum of values[k] over every position k with indices[k] == r.

    It lives where a Tensor's gradient lives (``weight.grad``), but it is not a
    Tensor: the engine only adds gradients together and hands them to an
    optimizer, and those two things it can do. ``is_sparse`` tells them apart
    (a Tensor's is False), as in PyTorch.
    """

    is_sparse = True

    def __init__(self, indices, values, shape):
        if values.shape != indices.shape + (shape[1],):
            raise ValueError(f"SparseRows: indices {indices.shape} and values {values.shape} do not fit "
                             f"a table of shape {shape}: need (...) and (..., {shape[1]})")
        self.indices, self.values, self.shape = indices, values, tuple(shape)

    dtype = property(lambda self: self.values.dtype)
    xp = property(lambda self: backend.get_array_module(self.values))
    device = property(lambda self: backend.device_of(self.values))

    def __repr__(self):
        return f"SparseRows({self.indices.size} rows of a table of shape {self.shape})"

    def __add__(self, other):
        """Another SparseRows: both lists of rows, one after the other. A Tensor: a dense Tensor."""
        if isinstance(other, SparseRows):
            if other.shape != self.shape:
                raise ValueError(f"SparseRows: cannot add gradients of shapes {self.shape} and {other.shape}")
            xp = self.xp
            rows = [g.indices.reshape(-1) for g in (self, other)]
            values = [g.values.reshape(-1, self.shape[1]) for g in (self, other)]
            return SparseRows(xp.concatenate(rows), xp.concatenate(values), self.shape)
        return Tensor(self.add_to(other.data))

    __radd__ = __add__

    def add_to(self, dense):
        """A new array: ``dense`` (V, D) plus this gradient, repeated rows summed."""
        total = dense.copy()
        self.add_to_(total)
        return total

    def add_to_(self, table, scale=1.0):
        """``table += scale * G`` in place, touching only the rows this gradient names (SGD's step)."""
        add_rows_at(table, self.indices, self.values if scale == 1.0 else scale * self.values)

    def to_dense(self):
        """The dense (V, D) gradient this stands for, as a Tensor."""
        return Tensor(self.add_to(self.xp.zeros(self.shape, dtype=self.dtype)))

    def coalesce(self):
        """The same gradient with each row once: sorted unique indices, repeated rows summed."""
        xp = self.xp
        unique, position = xp.unique(self.indices.reshape(-1), return_inverse=True)
        summed = xp.zeros((len(unique), self.shape[1]), dtype=self.dtype)
        add_rows_at(summed, position.reshape(-1), self.values)
        return SparseRows(unique, summed, self.shape)

    def copy(self):
        return SparseRows(self.indices.copy(), self.values.copy(), self.shape)

    def is_view(self):
        """Whether the rows are a view of another array (then a gradient that keeps them copies them)."""
        return self.values.base is not None

    def to(self, device):
        """This gradient on ``"cpu"`` or ``"gpu"``."""
        return SparseRows(backend.to_device(self.indices, device), backend.to_device(self.values, device),
                          self.shape)


def add_rows_at(table, rows, values):
    """``table[rows[k]] += values[k]`` in place for every position k, repeated rows all added.

    rows (...) and values (..., D), as a SparseRows holds them.

    ``table[rows] += values`` would not do: with a repeated row it reads the old
    row once per repeat and writes back only the last sum. ``add.at`` adds
    one by one. It is several times faster on a 1-D array than with row indices
    into a 2-D one, so it is given each number's place in the flattened table:
    element j of row r is at r * D + j.
    """
    xp = backend.get_array_module(table)
    d = table.shape[1]
    rows, values = rows.reshape(-1), values.reshape(-1, d)
    if not table.flags.c_contiguous:      # reshape(-1) would then be a copy, and the sum lost
        xp.add.at(table, rows, values)
        return
    places = (rows[:, None] * d + xp.arange(d)).reshape(-1)      # (n * D,)
    xp.add.at(table.reshape(-1), places, values.reshape(-1))


class SparseEmbedding(Function):
    """y = W[indices]: rows of the table W (V, D) picked by integer indices (...), giving (..., D).

    y equals one_hot(indices) @ W, so dL/dW = one_hot(indices)^T @ dL/dy: row r
    of the gradient is the sum of the upstream rows at every position that
    picked r, and rows never picked get zero. Backward returns exactly those
    upstream rows with their indices, a :class:`SparseRows`, instead of the
    dense (V, D) array. It is a first-order gradient: to differentiate it again
    (``create_graph=True``) use the dense lookup, ``W[indices]``.
    """

    def __init__(self, indices):
        self.indices = indices

    def forward(self, weight):
        return weight[self.indices]                                 # (..., D)

    def backward(self, gy):
        if is_grad_enabled():
            raise RuntimeError("sparse_embedding: a row-sparse gradient cannot be differentiated again; "
                               "use the dense lookup (nn.Embedding(..., sparse=False)) with create_graph=True")
        return SparseRows(self.indices, gy.data, self.inputs[0].shape)   # indices (...), rows (..., D)


def sparse_embedding(weight, indices):
    """``weight[indices]`` (..., D) whose gradient for ``weight`` (V, D) is a :class:`SparseRows`.

    ``weight`` must be a leaf (a Parameter): a SparseRows is handed to an
    optimizer, never passed back through another op.
    """
    if weight.creator is not None or weight.ndim != 2:
        made_by = "a leaf" if weight.creator is None else f"made by {type(weight.creator).__name__}"
        raise ValueError(f"sparse_embedding: the table must be a 2-D leaf tensor (a Parameter), got shape "
                         f"{weight.shape}, {made_by}")
    index = backend.to_device(backend.asarray(indices.data if isinstance(indices, Tensor) else indices),
                              weight.device)
    return SparseEmbedding(index)(weight)
