"""Data sets: ArrayDataset (two host arrays), and PyTorch's Dataset and TensorDataset.

Every data set of the library is an ArrayDataset: ``images`` (float32, one
example per row, or one image tensor (C, H, W) per leading index) and
``labels`` (int64 class indices); a demo builds one from arrays of its own
with ``ArrayDataset(x, y)``.  ``TensorDataset(x, y, ...)`` holds Tensors that
share their first dimension, and ``Dataset`` is the base of a map-style data
set of one's own (``__getitem__`` and ``__len__``), as in ``torch.utils.data``.
``Subset`` and ``random_split`` select and split any of them.  ``DataLoader``
batches all of them (see loader.py).
"""
import numpy

from .. import backend
from ..tensor import Tensor


class Dataset:
    """A map-style data set: ``dataset[i]`` is example i, ``len(dataset)`` the number of
    examples.  Subclasses define both; ``DataLoader`` batches what ``__getitem__``
    returns (Tensors, arrays, numbers, and tuples, lists and dicts of them)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__()")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} has no __len__()")


class TensorDataset(Dataset):
    """``dataset[i] == (tensors[0][i], tensors[1][i], ...)`` for Tensors that share their
    first dimension (``torch.utils.data.TensorDataset``)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor) or t.ndim == 0:
                raise TypeError(f"TensorDataset: argument {position} must be a Tensor with at least one "
                                f"dimension, got {_describe(t)}")
        if len({t.shape[0] for t in tensors}) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"Size mismatch between tensors: their first dimensions differ ({shapes})")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The examples ``indices`` of ``dataset``, in that order: ``subset[i] ==
    dataset[indices[i]]`` (``torch.utils.data.Subset``)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None, seed=None):
    """Split ``dataset`` into non-overlapping ``Subset``s of the given ``lengths``, drawn
    in one random permutation, as ``torch.utils.data.random_split``.  ``lengths`` are
    counts that add up to ``len(dataset)``, or fractions that add up to 1: each split
    gets floor(fraction * n) examples and the remainder goes one by one to the splits
    in order.  The permutation comes from a generator seeded with ``seed``, or from the
    library's (``tg.manual_seed``) when ``seed`` is None, or from ``generator`` (a
    ``tg.Generator``, as torch's ``generator=``)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        counts = [int(f * n) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not float(k).is_integer() or k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
                         f"dataset ({n}); give counts that add up to it or fractions that add up to 1")
    if seed is not None and generator is not None:
        raise ValueError("random_split: give seed= or generator=, not both")
    if seed is not None:
        generator = backend.Generator().manual_seed(seed)
    order = backend.rng(generator).permutation(n).tolist()
    splits, start = [], 0
    for k in lengths:
        splits.append(Subset(dataset, order[start:start + int(k)]))
        start += int(k)
    return splits


def _describe(value):
    return "a 0-d Tensor" if isinstance(value, Tensor) else type(value).__name__


class ArrayDataset:
    """``dataset[i] == (images[i], labels[i])``; ``len(dataset)`` examples."""

    def __init__(self, images, labels):
        images, labels = numpy.asarray(images), numpy.asarray(labels)
        if labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"expected one label per example: images of shape {tuple(images.shape)} "
                             f"and labels of shape {tuple(labels.shape)}")
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]

    def __repr__(self):
        return f"{type(self).__name__}(images={tuple(self.images.shape)} {self.images.dtype}, " \
               f"labels={tuple(self.labels.shape)} {self.labels.dtype})"


def grey_images(pixels, flatten):
    """(N, H, W) grey images as rows (N, H*W) for a linear layer, or (N, 1, H, W) for a convolution.

    The second layout is PyTorch's (N, C, H, W) with one channel; both are
    views of the same pixels, row-major, so ``rows[i, r * W + c] == tensors[i, 0, r, c]``.
    """
    return pixels.reshape(len(pixels), -1) if flatten else pixels[:, numpy.newaxis]
