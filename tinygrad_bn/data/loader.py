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

    On the GPU the whole data set is copied to the device once, at the first
    epoch, when it takes at most half of the free GPU memory (``on_device``:
    None decides so; True or False forces it); batches are then gathered
    there, so an epoch crosses the bus once, with its permutation, instead of
    twice per batch.  The permutation is drawn on the host either way, so a
    seed gives the same batches on every device.
    """

    def __init__(self, dataset, batch_size, shuffle=True, drop_last=False, seed=None, device=None, on_device=None):
        if not (hasattr(dataset, "images") and hasattr(dataset, "labels")):
            raise TypeError(f"DataLoader needs a data set with .images and .labels arrays, "
                            f"got {type(dataset).__name__} (wrap arrays in data.ArrayDataset(images, labels))")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.device = backend.check_device(device) if device is not None else None
        self.generator = numpy.random.default_rng(seed) if seed is not None else None
        self.on_device = on_device
        self._resident = None                 # (device, images, labels) kept on the GPU

    def __len__(self):
        count = len(self.dataset.labels)
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def _order(self):
        """This epoch's order of the examples."""
        count = len(self.dataset.labels)
        if not self.shuffle:
            return numpy.arange(count)
        return (self.generator or backend.rng()).permutation(count)

    def _arrays(self, device):
        """(images, labels, order's device): the data set's arrays where batches are gathered."""
        images, labels = self.dataset.images, self.dataset.labels
        if device == backend.CPU:
            return images, labels, backend.CPU
        keep = self.on_device
        if keep is None:
            free = backend.free_device_memory()
            keep = free is None or images.nbytes + labels.nbytes <= free / 2
        if not keep:
            return images, labels, backend.CPU
        if self._resident is None or self._resident[1].shape != images.shape:
            self._resident = (device, backend.to_device(images, device), backend.to_device(labels, device))
        return self._resident[1], self._resident[2], device

    def __iter__(self):
        device = backend.check_device(self.device)
        images, labels, gather_on = self._arrays(device)
        order = backend.to_device(self._order(), gather_on)
        for batch in range(len(self)):
            chosen = order[batch * self.batch_size:(batch + 1) * self.batch_size]
            yield (Tensor.wrap(backend.to_device(images[chosen], device), device),
                   Tensor.wrap(backend.to_device(labels[chosen], device), device))
