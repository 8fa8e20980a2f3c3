"""Functions that make new tensors: from data, constants, ranges and random draws.

Random tensors are drawn from the library's seeded generator on the host
(``tg.manual_seed``), then moved, so a seed gives the same numbers on every device.
"""
import numpy

from . import backend
from .tensor import Tensor


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _new(array, requires_grad, device):
    t = Tensor.wrap(backend.to_device(array, backend.check_device(device)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def tensor(data, requires_grad=False, device=None, dtype=None):
    """A tensor holding a copy of ``data`` (float32 for Python floats, as ``torch.tensor``)."""
    return Tensor(data, requires_grad=requires_grad, device=device, dtype=dtype)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``shape`` filled with ``fill_value`` (float32 unless ``dtype``; ints stay int64)."""
    if dtype is None:
        dtype = numpy.int64 if isinstance(fill_value, (int, numpy.integer)) and not isinstance(fill_value, bool) \
            else numpy.float32
    return _new(numpy.full(_shape((shape,)) if isinstance(shape, int) else tuple(shape), fill_value, dtype=dtype),
                requires_grad, device)


def zeros(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    return _new(numpy.zeros(_shape(shape), dtype=dtype), requires_grad, device)


def ones(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    return _new(numpy.ones(_shape(shape), dtype=dtype), requires_grad, device)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device or t.device)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device or t.device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """start, start + step, ... below end (int64 for integer arguments, else float32)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = numpy.int64 if all(isinstance(v, (int, numpy.integer)) for v in (start, end, step)) \
            else numpy.float32
    return _new(numpy.arange(start, end, step, dtype=dtype), requires_grad, device)


def randn(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    """Standard normal draws N(0, 1)."""
    return _new(backend.rng().standard_normal(_shape(shape)).astype(dtype), requires_grad, device)


def rand(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    """Uniform draws on [0, 1)."""
    return _new(backend.rng().random(_shape(shape)).astype(dtype), requires_grad, device)
