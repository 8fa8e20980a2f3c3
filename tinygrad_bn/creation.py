"""Functions that make new tensors: from data, constants, ranges and random draws.

Constants and ranges are made on their device (no copy across the bus).
Random tensors are drawn from the library's seeded generator on the host
(``tg.manual_seed``), then moved, so a seed gives the same numbers on every device.
"""
import numpy

from . import backend
from .tensor import Tensor


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _new(array, requires_grad, device):
    """A tensor around a host array, moved to ``device``."""
    t = Tensor.wrap(backend.to_device(array, backend.check_device(device)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def _made_on(device, requires_grad, make):
    """A tensor around ``make(xp)``, built by the array module of ``device`` itself."""
    device = backend.check_device(device)
    t = Tensor.wrap(make(backend.xp_of(device)), device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def tensor(data, requires_grad=False, device=None, dtype=None):
    """A tensor holding a copy of ``data`` (float32 for Python floats, as ``torch.tensor``)."""
    return Tensor(data, requires_grad=requires_grad, device=device, dtype=dtype)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``shape`` filled with ``fill_value`` (float32 unless ``dtype``; ints stay int64)."""
    if dtype is None:
        dtype = numpy.int64 if isinstance(fill_value, (int, numpy.integer)) and not isinstance(fill_value, bool) \
            else numpy.float32
    shape = _shape((shape,)) if isinstance(shape, int) else tuple(shape)
    return _made_on(device, requires_grad, lambda xp: xp.full(shape, fill_value, dtype=dtype))


def zeros(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    return _made_on(device, requires_grad, lambda xp: xp.zeros(_shape(shape), dtype=dtype))


def ones(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    return _made_on(device, requires_grad, lambda xp: xp.ones(_shape(shape), dtype=dtype))


def empty(*shape, dtype=numpy.float32, requires_grad=False, device=None):
    """A tensor of ``shape`` whose values are not to be relied on (here: zeros)."""
    return zeros(*shape, dtype=dtype, requires_grad=requires_grad, device=device)


def eye(n, m=None, dtype=numpy.float32, requires_grad=False, device=None):
    """The n x m identity matrix (m = n by default)."""
    return _made_on(device, requires_grad, lambda xp: xp.eye(n, n if m is None else m, dtype=dtype))


def linspace(start, end, steps, dtype=numpy.float32, requires_grad=False, device=None):
    """``steps`` evenly spaced values from start to end, both included."""
    return _made_on(device, requires_grad, lambda xp: xp.linspace(start, end, steps, dtype=dtype))


def from_numpy(array):
    """A CPU tensor sharing ``array``'s memory and dtype (writes to one show in the other)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor.wrap(array, backend.CPU)


def from_dlpack(obj):
    """A tensor sharing the memory of a DLPack-capable array (NumPy, CuPy, PyTorch, ...)."""
    device_type = obj.__dlpack_device__()[0]
    if device_type == 1:                          # kDLCPU
        return Tensor.wrap(numpy.from_dlpack(obj), backend.CPU)
    if device_type == 2:                          # kDLCUDA
        return Tensor.wrap(backend.xp_of(backend.CUDA).from_dlpack(obj), backend.CUDA)
    raise RuntimeError(f"from_dlpack: DLPack device type {device_type} is neither the CPU (1) nor CUDA (2)")


def _like(t, dtype, device):
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    dtype, device = _like(t, dtype, device)
    return zeros(t.shape, dtype=dtype, requires_grad=requires_grad, device=device)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    dtype, device = _like(t, dtype, device)
    return ones(t.shape, dtype=dtype, requires_grad=requires_grad, device=device)


def empty_like(t, dtype=None, requires_grad=False, device=None):
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad, device=device)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    dtype, device = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dtype, requires_grad=requires_grad, device=device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """start, start + step, ... below end (int64 for integer arguments, else float32)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = numpy.int64 if all(isinstance(v, (int, numpy.integer)) for v in (start, end, step)) \
            else numpy.float32
    return _made_on(device, requires_grad, lambda xp: xp.arange(start, end, step, dtype=dtype))


def randn(*shape, generator=None, dtype=numpy.float32, requires_grad=False, device=None):
    """Standard normal draws N(0, 1) (from ``generator``, or the library's)."""
    return _new(backend.rng(generator).standard_normal(_shape(shape)).astype(dtype), requires_grad, device)


def rand(*shape, generator=None, dtype=numpy.float32, requires_grad=False, device=None):
    """Uniform draws on [0, 1)."""
    return _new(backend.rng(generator).random(_shape(shape)).astype(dtype), requires_grad, device)


def randn_like(t, dtype=None, requires_grad=False, device=None):
    dtype, device = _like(t, dtype, device)
    return randn(t.shape, dtype=dtype, requires_grad=requires_grad, device=device)


def rand_like(t, dtype=None, requires_grad=False, device=None):
    dtype, device = _like(t, dtype, device)
    return rand(t.shape, dtype=dtype, requires_grad=requires_grad, device=device)


def randint(*args, size=None, generator=None, dtype=numpy.int64, device=None):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``, as ``torch.randint``."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        args = (0,) + args
    if len(args) != 3:
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    low, high, size = args
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _new(backend.rng(generator).integers(low, high, _shape((size,))).astype(dtype), False, device)


def randperm(n, generator=None, dtype=numpy.int64, device=None):
    """A random permutation of 0 .. n-1."""
    return _new(backend.rng(generator).permutation(n).astype(dtype), False, device)
