"""DataLoader: mini-batches of a data set, in a fresh random order every epoch.

SGD as Ioffe & Szegedy run it draws mini-batches from the training set; here
each epoch (one pass of ``for x, y in loader``) visits every example once, in
a new random permutation.  The permutations come from a generator seeded with
``seed`` (so the sequence of epochs is reproducible), or from the library's
generator ``tinygrad_bn.backend.rng()`` when ``seed`` is None (reproducible
with ``tg.manual_seed``).
"""
import math

import numpy

from .. import backend
from ..tensor import Tensor


class DataLoader:
    """``for images, labels in DataLoader(dataset, batch_size)``: Tensors on ``device``.

    ``dataset`` is anything with ``images`` and ``labels`` arrays (an
    ``ArrayDataset``, ``MNIST``, ``Digits``).  ``shuffle=False`` keeps the
    stored order; ``drop_last=True`` skips a last, smaller batch.
    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size, shuffle=True, drop_last=False, seed=None, device=None):
        if not (hasattr(dataset, "images") and hasattr(dataset, "labels")):
            raise TypeError(f"DataLoader needs a data set with .images and .labels arrays, "
                            f"got {type(dataset).__name__} (wrap arrays in data.ArrayDataset(images, labels))")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.device = backend.check_device(device) if device is not None else None
        self.generator = numpy.random.default_rng(seed) if seed is not None else None

    def __len__(self):
        count = len(self.dataset.labels)
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def _order(self):
        """This epoch's order of the examples."""
        count = len(self.dataset.labels)
        if not self.shuffle:
            return numpy.arange(count)
        return (self.generator or backend.rng()).permutation(count)

    def __iter__(self):
        device = backend.check_device(self.device)
        order = self._order()
        for batch in range(len(self)):
            chosen = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            yield (Tensor.wrap(backend.to_device(self.dataset.images[chosen], device), device),
                   Tensor.wrap(backend.to_device(self.dataset.labels[chosen], device), device))
