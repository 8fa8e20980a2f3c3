"""DataLoader: mini-batches of a data set, in the stored order or a fresh random one every epoch.

SGD as Ioffe & Szegedy run it draws mini-batches from the training set; with
``shuffle=True`` each epoch (one pass of ``for x, y in loader``) visits every
example once, in a new random permutation.  The permutations come from a
generator seeded with ``seed`` (so the sequence of epochs is reproducible), from
``generator`` (a ``tg.Generator``, as in PyTorch), or else from the library's
generator (reproducible with ``tg.manual_seed``).  The defaults are PyTorch's:
batches of one, in the stored order.

A batch is made in one of three ways, by what the data set is:

    images and labels arrays     (ArrayDataset, MNIST, Digits, CIFAR10): both
                                 gathered at the batch's indices, (images, labels)
    TensorDataset                each Tensor's rows gathered on its own device,
                                 a list as in PyTorch
    any other map-style data set the examples fetched one by one (dataset[i])
                                 and collated as PyTorch's default_collate does
"""
import math
import numbers
from collections.abc import Mapping, Sequence

import numpy

from .. import backend
from ..creation import tensor
from ..ops import stack
from ..tensor import Tensor
from .dataset import TensorDataset


class DataLoader:
    """``for batch in DataLoader(dataset, batch_size=1, shuffle=False)``: mini-batches as Tensors.

    ``dataset``: the library's data sets (``images`` and ``labels`` arrays; each
    batch is ``(images, labels)``), a ``TensorDataset`` (a list of batched
    Tensors), or any object with ``__getitem__`` and ``__len__`` (a Python list
    of examples, a ``Dataset`` subclass), whose examples are collated by
    ``collate`` (or by ``collate_fn``, for every kind of data set, when given).
    ``shuffle=True`` draws a new order every epoch; ``drop_last=True`` skips a
    last, smaller batch.  ``len(loader)`` is the number of batches per epoch.
    Batches are new tensors, without history.  ``num_workers`` and
    ``pin_memory`` are accepted as PyTorch code passes them; batches are made in
    this process, and they change nothing.

    ``device``: where batches go; by default the library's default device for
    arrays and numbers, and the Tensors' own device for Tensors.  On the GPU an
    ``images``/``labels`` data set is copied to the device once, at the first
    epoch, when it takes at most half of the free GPU memory (``on_device``: None
    decides so; True or False forces it); batches are then gathered there, so
    an epoch crosses the bus once, with its permutation, instead of twice per
    batch.  The permutation is drawn on the host either way, so a seed gives
    the same batches on every device.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, drop_last=False, collate_fn=None, num_workers=0,
                 pin_memory=False, seed=None, generator=None, device=None, on_device=None):
        if not (_holds_arrays(dataset) or (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__"))):
            raise TypeError(f"DataLoader needs a data set: .images and .labels arrays (data.ArrayDataset), "
                            f"a TensorDataset, or __getitem__ and __len__; got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative, got {num_workers!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn, self.num_workers, self.pin_memory = collate_fn, num_workers, pin_memory
        self.device = backend.check_device(device) if device is not None else None
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed= or generator=, not both")
        backend.rng(generator)                # (checks its type)
        self.generator = backend.Generator().manual_seed(seed) if seed is not None else generator
        self.on_device = on_device
        self._resident = None                 # (device, images, labels) kept on the GPU

    def __len__(self):
        count = self._count()
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def _count(self):
        return len(self.dataset.labels) if _holds_arrays(self.dataset) else len(self.dataset)

    def _order(self):
        """This epoch's order of the examples."""
        count = self._count()
        if not self.shuffle:
            return numpy.arange(count)
        return backend.rng(self.generator).permutation(count)

    def _batch_slices(self):
        """The positions in an epoch's order that make each batch."""
        for batch in range(len(self)):
            yield slice(batch * self.batch_size, (batch + 1) * self.batch_size)

    def __iter__(self):
        if self.collate_fn is not None:
            return self._collated_batches()
        if _holds_arrays(self.dataset):
            return self._array_batches()
        if isinstance(self.dataset, TensorDataset):
            return self._tensor_batches()
        return self._collated_batches()

    def _array_batches(self):
        device = backend.check_device(self.device)
        images, labels, gather_on = self._arrays(device)
        order = backend.to_device(self._order(), gather_on)
        for positions in self._batch_slices():
            chosen = order[positions]
            yield (Tensor.wrap(backend.to_device(images[chosen], device), device),
                   Tensor.wrap(backend.to_device(labels[chosen], device), device))

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

    def _tensor_batches(self):
        tensors = self.dataset.tensors
        order = self._order()
        orders = {t.device: backend.to_device(order, t.device) for t in tensors}    # one copy per device
        for positions in self._batch_slices():
            yield [_moved(Tensor.wrap(t._data[orders[t.device][positions]], t.device), self.device)
                   for t in tensors]

    def _collated_batches(self):
        order = self._order()
        for positions in self._batch_slices():
            examples = [self.dataset[int(i)] for i in order[positions]]
            yield collate(examples, self.device) if self.collate_fn is None else self.collate_fn(examples)


def collate(examples, device=None):
    """One batch from a list of examples, as PyTorch's ``default_collate``: Tensors and
    arrays stacked along a new first axis (arrays onto ``device``, Tensors moved there
    if it is given), Python ints as an int64 Tensor, floats as float64, bools as bool,
    strings left in a list, tuples and lists field by field (a list of batches), dicts
    key by key.  Every example must have the structure of the first."""
    first = examples[0]
    if isinstance(first, Tensor):
        return _moved(stack([t.detach() for t in examples]), device)
    if isinstance(first, (numpy.ndarray, numpy.generic)) or backend.device_of(first) == backend.CUDA:
        return tensor(backend.xp_of(backend.device_of(first)).stack(examples), device=device)
    if isinstance(first, (str, bytes)):
        return list(examples)
    if isinstance(first, bool):
        return tensor(examples, dtype=numpy.bool_, device=device)
    if isinstance(first, numbers.Integral):
        return tensor(examples, dtype=numpy.int64, device=device)
    if isinstance(first, numbers.Real):
        return tensor(examples, dtype=numpy.float64, device=device)
    if isinstance(first, Mapping):
        return {key: collate([example[key] for example in examples], device) for key in first}
    if isinstance(first, Sequence):
        if any(len(example) != len(first) for example in examples):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [collate(list(field), device) for field in zip(*examples)]
    raise TypeError(f"collate: a batch must contain Tensors, arrays, numbers, strings, dicts or lists; "
                    f"found {type(first).__name__}")


def _holds_arrays(dataset):
    return hasattr(dataset, "images") and hasattr(dataset, "labels")


def _moved(t, device):
    return t if device is None or t.device == device else t.to(device)
