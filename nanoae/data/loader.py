"""DataLoader: cut arrays into (shuffled) mini-batches of tensors.

::

    loader = DataLoader(x, y, batch_size=128, shuffle=True, seed=0)
    for epoch in range(epochs):
        loader.set_epoch(epoch)       # optional: makes a resumed run see the same order
        for xb, yb in loader:         # Tensors of up to 128 rows
            ...

The order of epoch ``e`` is ``numpy.random.default_rng([seed, e]).permutation(n)``:
it depends on nothing but the seed and the epoch number, so a training run
stopped after epoch 3 and resumed with ``set_epoch(4)`` sees exactly the
batches it would have seen without stopping. Without ``set_epoch``, each new
pass over the loader takes the next epoch number, so successive passes are
shuffled differently.

With ``device="gpu"`` each array is copied to the GPU once, here; the
batches are then cut on the GPU, and no data crosses the bus during training.
"""
import math

import numpy

from nanoae import backend, checks
from nanoae.autograd import Tensor


class DataLoader:
    """Mini-batches of rows taken at the same positions from each of ``arrays``.

    arrays: one or more arrays (NumPy, CuPy or anything ``numpy.asarray``
    takes) with the same length; batch_size: rows per batch; shuffle: a new
    order each epoch, else rows in order; drop_last: skip the last batch if
    it is short; device: "cpu" or "gpu", where the batches live.
    """

    def __init__(self, *arrays, batch_size=128, shuffle=True, seed=0, drop_last=False, device="cpu"):
        backend.check_device(device)
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        checks.positive_int("DataLoader", "batch_size", batch_size)
        arrays = [a.data if isinstance(a, Tensor) else a for a in arrays]
        arrays = [a if backend.is_array(a) else numpy.asarray(a) for a in arrays]
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"DataLoader: the arrays must have the same length (one row per example), "
                             f"got lengths {lengths}")
        self.num_examples = lengths[0]
        if self.num_examples == 0:
            raise ValueError("DataLoader: the arrays are empty")
        if drop_last and batch_size > self.num_examples:
            raise ValueError(f"DataLoader: with drop_last=True, batch_size {batch_size} larger than the "
                             f"{self.num_examples} examples leaves no batch at all")
        self.arrays = [backend.to_device(a, device) for a in arrays]  # once, not per batch
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.device = device
        self._next_epoch = 0

    def __len__(self):
        """The number of batches in one pass."""
        if self.drop_last:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def set_epoch(self, epoch):
        """Make the next pass use the order of epoch ``epoch`` (later passes count on from it)."""
        self._next_epoch = int(epoch)

    def order(self, epoch):
        """The row indices of epoch ``epoch``, in the order they are served (a NumPy array)."""
        if not self.shuffle:
            return numpy.arange(self.num_examples)
        return numpy.random.default_rng([self.seed, epoch]).permutation(self.num_examples)

    def __iter__(self):
        # The epoch is taken now, when the pass starts, not at its first batch.
        epoch, self._next_epoch = self._next_epoch, self._next_epoch + 1
        return self._batches(self.order(epoch))

    def _batches(self, order):
        xp = backend.array_module_for(self.device)
        order = xp.asarray(order)  # drawn on the CPU, used where the arrays are
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = tuple(Tensor(a[rows]) for a in self.arrays)
            yield batch[0] if len(batch) == 1 else batch
