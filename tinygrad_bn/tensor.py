"""Tensor: an array and its place in the autograd graph.

A Tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad``,
``grad_fn`` (the node that made it, ``None`` for a leaf) and, on leaves,
``grad``.  Its operators and methods are thin: each one calls a differentiable
op from ``tinygrad_bn.ops``, where the forward and backward formulas live.

Two more attributes serve in-place operations (``x += 1``, ``x.add_(1)``;
see ``inplace.py``): ``_version``, a counter shared by every tensor that
shares the array (views, ``detach()``), and ``_base``, the tensor a view
was taken from.

Methods take PyTorch's argument names (``dim``, ``keepdim``); NumPy's
``axis`` and ``keepdims`` are accepted as aliases.
"""
import functools
import math
import numbers

import numpy

from . import autograd, backend
from .autograd import backward as _run_backward
from .composite import CompositeMethods
from .dims import Size
from .hooks import RemovableHandle
from . import printing, return_types
from .return_types import min_max

float16, float32, float64 = numpy.float16, numpy.float32, numpy.float64
int8, int16, int32, int64, uint8, bool_ = numpy.int8, numpy.int16, numpy.int32, numpy.int64, numpy.uint8, numpy.bool_


def _host_data(data):
    """Nested lists/tuples that may hold Tensors or device arrays, as host arrays/numbers."""
    if isinstance(data, Tensor):
        return backend.to_numpy(data._data)
    if isinstance(data, (list, tuple)):
        return [_host_data(d) for d in data]
    if backend.device_of(data) == backend.CUDA:
        return backend.to_numpy(data)
    return data


def _infer_array(data, device, dtype):
    """The backend array for user data, with PyTorch's dtype rules.

    Python floats (and lists of them) become float32; a NumPy/CuPy array keeps
    its dtype; integers stay integers; ``dtype`` overrides everything.
    """
    xp = backend.xp_of(device)
    if isinstance(data, (numpy.ndarray, numpy.generic)) or backend.device_of(data) == backend.CUDA:
        return xp.array(backend.to_device(data, device) if device == backend.CPU else data, dtype=dtype, copy=True)
    try:
        host = numpy.asarray(data)
    except (ValueError, TypeError, RuntimeError):   # e.g. a list holding device arrays, or Tensors in a graph
        host = numpy.asarray(_host_data(data))
    if host.dtype == object:
        host = numpy.asarray(_host_data(data))      # a list holding Tensors
    if host.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} {data!r}")
    if dtype is None and host.dtype == numpy.float64 and not isinstance(data, numpy.generic):
        host = host.astype(numpy.float32)
    return xp.asarray(host, dtype=dtype) if device == backend.CUDA else numpy.array(host, dtype=dtype)


def _memory_owner(array):
    """The array that owns ``array``'s memory (itself, or the base it is a view of)."""
    return array if array.base is None else array.base


def numpy_names(method):
    """Let NumPy's ``axis=``/``keepdims=`` stand for PyTorch's ``dim=``/``keepdim=``."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not kwargs:
            return method(self, *args)
        for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
            if numpy_name in kwargs:
                if torch_name in kwargs:
                    raise TypeError(f"{method.__name__}() got both {torch_name}= and its alias {numpy_name}=")
                kwargs[torch_name] = kwargs.pop(numpy_name)
        return method(self, *args, **kwargs)
    return wrapper


def _describe_index(index):
    return f"a {index.ndim}-d {index.dtype} Tensor" if isinstance(index, Tensor) else type(index).__name__


# PyTorch's legacy type names, by dtype (Tensor.type)
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}


def _sizes(args):
    """``f(2, 3)`` or ``f((2, 3))``: the sizes as a tuple."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)


class Tensor(CompositeMethods):
    """An n-dimensional array that remembers how it was computed.

    ``Tensor(data, requires_grad=False, device=None, dtype=None)`` copies
    ``data`` (a number, nested lists, or a NumPy/CuPy array) onto ``device``
    ("cpu" or "cuda"; default: ``tg.set_default_device`` / $TINYGRAD_BN_DEVICE / "cpu").
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "grad_fn", "device", "_version", "_base", "_hooks", "__weakref__")
    __array_priority__ = 1000   # numpy_array * tensor -> Tensor.__rmul__

    def __init__(self, data, requires_grad=False, device=None, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        if device is None and backend.device_of(data) == backend.CUDA:
            device = backend.CUDA
        self.device = backend.check_device(device)
        self._data = _infer_array(data, self.device, None if dtype is None else numpy.dtype(dtype))
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._version = [0]
        self._base = None
        self._hooks = None            # a leaf's gradient hooks (register_hook)
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod                   # (a staticmethod: called per op, it costs less than a classmethod)
    def wrap(array, device=None):
        """A Tensor around ``array`` itself: no copy, no dtype change, no graph.

        (NumPy gives 0-d results as scalars, ``np.float32(3.0)``; they become
        0-d arrays here, so ``.data`` is always an array, as CuPy's always is.)
        """
        if device is None:
            device = backend.device_of(array)
        if not array.ndim and device == backend.CPU:
            array = numpy.asarray(array)
        t = object.__new__(Tensor)
        t._data = array
        t._grad = None
        t._requires_grad = False
        t.grad_fn = None
        t.device = device
        t._version = [0]
        t._base = None
        t._hooks = None
        return t

    def _view(self, array):
        """A Tensor around ``array``; where it shares self's memory it is a view:
        it shares self's version counter and remembers self (or self's own base)."""
        out = Tensor.wrap(array, self.device)
        if _memory_owner(out._data) is _memory_owner(self._data):
            if len(self._version) == 1:
                self._version.append("has views")      # marks the counter as shared by views
            out._version = self._version
            out._base = self if self._base is None else self._base
        return out

    # ------------------------------------------------------------ attributes
    @property
    def array(self):
        """The NumPy or CuPy array itself, what an op's ``forward`` computes on
        (``x.xp.exp(x.array)``): no copy, no graph."""
        return self._data

    @property
    def data(self):
        """The values without the graph, as in PyTorch: a new Tensor that shares this one's
        memory (writes through it change this tensor) but not its version counter, so
        autograd does not see them (the escape hatch; ``detach()`` is the checked way).
        ``numpy()`` gives the array itself on the CPU."""
        return Tensor.wrap(self._data, self.device)

    @data.setter
    def data(self, value):
        """``x.data = t``: x holds t's values from now on (its shape and dtype may change),
        keeping its place in the graph, its ``.grad`` and its name."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        if value.device != self.device:
            raise RuntimeError(f"data set to a tensor on {value.device} for a tensor on {self.device}")
        self._data = value._data

    @property
    def shape(self):
        """The extent of each dim, a ``Size`` (a tuple)."""
        return tuple.__new__(Size, self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        """Number of dimensions (``ndim``)."""
        return self._data.ndim

    ndimension = dim

    def size(self, dim=None):
        """The shape, or with ``dim`` the extent of one dimension (as ``torch.Tensor.size``)."""
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
        return self._data.shape[ops.canonical_dim(dim, self.ndim)]

    def numel(self):
        """Number of elements."""
        return self._data.size

    nelement = numel

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    @property
    def dtype(self):
        return self._data.dtype

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    @property
    def is_cuda(self):
        return self.device == backend.CUDA

    @property
    def xp(self):
        """The array module of this tensor's device: ``numpy`` or ``cupy``."""
        return numpy if self.device == backend.CPU else backend.xp_of(self.device)   # (the CPU's without a call)

    @property
    def is_leaf(self):
        """Made by the user (or detached), not by a recorded operation."""
        return self.grad_fn is None

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for differentiation."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    @property
    def grad(self):
        """The accumulated gradient of a leaf (a Tensor), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of shape {tuple(value.shape)} to a tensor of "
                                   f"shape {tuple(self.shape)}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"attempting to assign a gradient of dtype {value.dtype} to a tensor of "
                                   f"dtype {self.dtype}")
            if value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient on {value.device} to a tensor on {self.device}")
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf; returns self."""
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require gradients, "
                               f"got {self._data.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; to use a computed "
                               "tensor without its graph, use detach()")
        self._requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------ autograd
    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient whenever a backward pass (or
        ``grad()``) computes it; a Tensor it returns (same shape, dtype, device) replaces
        the gradient from then on.  A leaf's hooks see the sum of its gradients from one
        pass, before it is added to ``.grad``.  Returns a handle whose ``remove()`` takes
        the hook out."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        registry = autograd.hooks_of(self)
        handle = RemovableHandle(registry)
        registry[handle.id] = hook
        return handle

    def retain_grad(self):
        """Keep this computed tensor's gradient in ``.grad`` at every backward, as a
        leaf's (after its other hooks); nothing to do for a leaf."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self.retains_grad:
            autograd.retain_grad(self)

    @property
    def retains_grad(self):
        """Whether this computed tensor keeps its gradient in ``.grad`` (``retain_grad()``)."""
        node = self.grad_fn
        return node is not None and node._retained is not None and node._retained() is self

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        ``gradient`` is d(loss)/d(self), needed unless self has one element.
        ``retain_graph`` (default: ``create_graph``) keeps the graph for another
        backward; ``create_graph`` records the backward pass itself so the
        gradients can be differentiated again.
        """
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn: "
                               "nothing to differentiate")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for outputs with one element; "
                                   f"this one has shape {tuple(self.shape)}: pass gradient=")
            ones = self._data.copy()               # one element: the cheapest new array
            ones.fill(1)
            gradient = Tensor.wrap(ones, self.device)
        else:
            if not isinstance(gradient, Tensor):
                gradient = Tensor(gradient, device=self.device, dtype=self.dtype)
            if gradient.shape != self.shape:
                raise RuntimeError(f"gradient has shape {tuple(gradient.shape)}, expected {tuple(self.shape)}")
            if gradient.device != self.device:
                raise RuntimeError(f"gradient is on {gradient.device}, tensor on {self.device}")
        if retain_graph is None:
            retain_graph = create_graph
        _run_backward(self, gradient, retain_graph, create_graph)

    def detach(self):
        """The same data, cut from the graph: a new leaf that does not require grad.
        It shares the array, and so the version counter, with self."""
        out = Tensor.wrap(self._data, self.device)
        out._version = self._version
        return out

    def detach_(self):
        """Cut self from the graph, in place (self becomes a leaf)."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self):
        """A copy of the data that stays in the graph (dL/dx = dL/dy)."""
        return ops.Clone.apply(self)

    def contiguous(self):
        """Self if its array is C-contiguous, else a contiguous copy in the graph."""
        flags = self._data.flags
        return self if flags.c_contiguous else self.clone()

    # ------------------------------------------------------------ conversion
    def numpy(self):
        """The data as a host NumPy array (a copy from the GPU; shared on the CPU)."""
        if self._requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad: use detach().numpy()")
        return backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        """``numpy.asarray(t)``, ``numpy.array(t)``: the CPU values, as ``numpy()``; a GPU
        tensor must be copied to the host first (``t.cpu()``), as in PyTorch."""
        if self.device != backend.CPU:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                            f"the tensor to host memory first.")
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def item(self):
        """The single element as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {tuple(self.shape)}")
        return backend.to_numpy(self._data).item()

    def tolist(self):
        return backend.to_numpy(self._data).tolist()

    def to(self, *args, device=None, dtype=None, copy=False):
        """A copy on ``device`` and/or of ``dtype`` (self if nothing changes and not ``copy``);
        differentiable.  As ``torch.Tensor.to``: ``to("cuda")``, ``to(tg.float64)``,
        ``to("cpu", tg.float64)``, ``to(other_tensor)``."""
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, str):
                device = arg
            else:
                try:
                    dtype = numpy.dtype(arg)
                except TypeError:
                    raise TypeError(f"to(): expected a device name, a dtype or a Tensor, "
                                    f"got {type(arg).__name__} {arg!r}") from None
        out = self
        if device is not None and backend.check_device(device) != self.device:
            out = ops.ToDevice.apply(out, backend.check_device(device))
        if dtype is not None and numpy.dtype(dtype) != self.dtype:
            out = ops.Cast.apply(out, numpy.dtype(dtype))
        return out.clone() if copy and out is self else out

    def type(self, dtype=None):
        """Without ``dtype``, the name of the tensor's type as PyTorch forms it
        ("torch.FloatTensor", "torch.cuda.LongTensor"), with this library's name:
        "tinygrad_bn.FloatTensor", "tinygrad_bn.cuda.LongTensor".  With ``dtype`` (a dtype,
        or such a name under either library's prefix, the "cuda." part choosing the
        device), the tensor cast to it, as ``to``."""
        if dtype is None:
            name = _TYPE_NAMES.get(self.dtype.name)
            if name is None:
                raise TypeError(f"type(): no PyTorch type name for dtype {self.dtype}")
            return f"tinygrad_bn.{'cuda.' if self.device == backend.CUDA else ''}{name}"
        if isinstance(dtype, str):
            prefix, _, name = dtype.rpartition(".")
            dtypes = {type_name: dtype_name for dtype_name, type_name in _TYPE_NAMES.items()}
            if name not in dtypes or prefix not in ("torch", "tinygrad_bn", "torch.cuda", "tinygrad_bn.cuda"):
                raise ValueError(f"type(): invalid type {dtype!r}: expected a dtype or a name such as "
                                 f"'torch.FloatTensor' or 'tinygrad_bn.cuda.LongTensor'")
            return self.to(device=backend.CUDA if prefix.endswith("cuda") else backend.CPU, dtype=dtypes[name])
        return self.to(dtype=dtype)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    def half(self):
        return self.to(dtype=float16)

    def long(self):
        return self.to(dtype=int64)

    def int(self):
        return self.to(dtype=int32)

    def bool(self):
        return self.to(dtype=bool_)

    def __dlpack__(self, stream=None):
        """Zero-copy export (DLPack) to NumPy, CuPy, PyTorch, ...: ``torch.from_dlpack(t)``."""
        if self._requires_grad:
            raise RuntimeError("can't export a tensor that requires grad through DLPack: use tensor.detach()")
        return self._data.__dlpack__() if stream is None else self._data.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __repr__(self):
        return printing.tensor_repr(self)             # PyTorch's format (printing.py)

    def __format__(self, spec):
        """``f"{loss:.4f}"``: a one-element tensor formats as its number."""
        if self._data.size == 1 and not isinstance(self.item(), bool):
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __round__(self, ndigits=None):
        """``round(t)`` / ``round(t, 3)`` of a one-element tensor, as a Python number."""
        return round(self.item(), ndigits)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {tuple(self.shape)} is ambiguous")
        return bool(backend.to_numpy(self._data))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, "
                            f"got {self.dtype} of shape {tuple(self.shape)}")
        return int(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------ operators
    def _operand(self, other):
        """A Python number or array as a constant Tensor next to self.

        Python scalars take self's dtype when self is floating point, so
        ``float32_tensor * 2.0`` stays float32 (as in PyTorch).  A scalar stays a
        host NumPy scalar, which CuPy passes to its kernels as an argument: no
        array is made on the GPU for it, and nothing crosses the bus.
        """
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            if self._data.dtype.kind == "f":
                dtype = self._data.dtype
            elif isinstance(other, numbers.Integral):
                dtype = self._data.dtype if self._data.dtype.kind in "iu" else numpy.int64
            else:
                dtype = float32
            return Tensor.wrap(numpy.dtype(dtype).type(other), self.device)
        return Tensor(other, device=self.device)

    def _binary(self, op, other, reflected=False):
        """``op(self, other)`` (``op(other, self)`` when reflected) with ``other`` made a Tensor.

        Integers meet floats as in PyTorch: the integer side is converted to
        the float side's dtype (float32 for a Python float).
        """
        a, b = self, (other if isinstance(other, Tensor) else self._operand(other))
        if a._data.dtype != b._data.dtype:
            kind_a, kind_b = a._data.dtype.kind, b._data.dtype.kind
            if kind_a != "f" and kind_b == "f":
                a = a.to(dtype=b.dtype)
            elif kind_b != "f" and kind_a == "f":
                b = b.to(dtype=a.dtype)
        return op.apply(b, a) if reflected else op.apply(a, b)

    def __add__(self, other):
        return self._binary(ops.Add, other)

    def __radd__(self, other):
        return self._binary(ops.Add, other, reflected=True)

    def __sub__(self, other):
        return self._binary(ops.Sub, other)

    def __rsub__(self, other):
        return self._binary(ops.Sub, other, reflected=True)

    def __mul__(self, other):
        return self._binary(ops.Mul, other)

    def __rmul__(self, other):
        return self._binary(ops.Mul, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(ops.Div, other)

    def __rtruediv__(self, other):
        return self._binary(ops.Div, other, reflected=True)

    def __pow__(self, other):
        return self._binary(ops.Pow, other)

    def __rpow__(self, other):
        return self._binary(ops.Pow, other, reflected=True)

    def __matmul__(self, other):
        """Matrix product; both operands must have the same dtype (as in PyTorch)."""
        return ops.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self._operand(other), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __getitem__(self, index):
        return ops.GetItem.apply(self, ops.plain_index(index, self))

    # in place: x += y is x.add_(y), as in PyTorch (inplace.py)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __setitem__(self, index, value):
        """``x[index] = value``, in place (a recorded op when x or value is in a graph)."""
        inplace.set_items(self, ops.plain_index(index, self), value)

    # comparisons and logic: boolean (or integer) tensors, never differentiated
    def _compare(self, other, fn):
        return Tensor.wrap(fn(self._data, self._operand(other)._data), self.device)

    def __lt__(self, other):
        return self._compare(other, self.xp.less)

    def __le__(self, other):
        return self._compare(other, self.xp.less_equal)

    def __gt__(self, other):
        return self._compare(other, self.xp.greater)

    def __ge__(self, other):
        return self._compare(other, self.xp.greater_equal)

    def __eq__(self, other):
        return self._compare(other, self.xp.equal)

    def __ne__(self, other):
        return self._compare(other, self.xp.not_equal)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__
    less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne

    def _bitwise(self, other, fn, name):
        values = [self._data] + ([] if other is None else [self._operand(other)._data])
        for v in values:
            if v.dtype.kind not in "biu":
                raise TypeError(f"{name} is defined for boolean and integer tensors, got {v.dtype}")
        return Tensor.wrap(fn(*values), self.device)

    def __and__(self, other):
        return self._bitwise(other, self.xp.bitwise_and, "&")

    def __or__(self, other):
        return self._bitwise(other, self.xp.bitwise_or, "|")

    def __xor__(self, other):
        return self._bitwise(other, self.xp.bitwise_xor, "^")

    def __invert__(self):
        return self._bitwise(None, self.xp.invert, "~")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def logical_not(self):
        return Tensor.wrap(self.xp.logical_not(self._data), self.device)

    def logical_and(self, other):
        """Elementwise "both nonzero", a boolean tensor (any dtypes)."""
        return self._compare(other, self.xp.logical_and)

    def logical_or(self, other):
        return self._compare(other, self.xp.logical_or)

    def logical_xor(self, other):
        return self._compare(other, self.xp.logical_xor)

    def isnan(self):
        return Tensor.wrap(self.xp.isnan(self._data), self.device)

    def isinf(self):
        return Tensor.wrap(self.xp.isinf(self._data), self.device)

    def isfinite(self):
        return Tensor.wrap(self.xp.isfinite(self._data), self.device)

    @numpy_names
    def any(self, dim=None, keepdim=False):
        """Whether any element is true (nonzero), over ``dim`` or everything."""
        axes = ops.canonical_dims(dim, self.ndim)
        return Tensor.wrap(self.xp.any(self._data, axis=axes, keepdims=keepdim), self.device)

    @numpy_names
    def all(self, dim=None, keepdim=False):
        """Whether every element is true (nonzero), over ``dim`` or everything."""
        axes = ops.canonical_dims(dim, self.ndim)
        return Tensor.wrap(self.xp.all(self._data, axis=axes, keepdims=keepdim), self.device)

    # ------------------------------------------------------------ arithmetic methods
    def matmul(self, other):
        return self @ other

    def mm(self, other):
        """The product of two matrices (2-D tensors only, as ``torch.mm``; ``matmul`` broadcasts)."""
        for name, t in (("self", self), ("mat2", other)):
            if not isinstance(t, Tensor) or t.ndim != 2:
                raise RuntimeError(f"mm: {name} must be a matrix, got "
                                   f"{f'shape {tuple(t.shape)}' if isinstance(t, Tensor) else type(t).__name__}")
        return self @ other

    def add(self, other, alpha=1):
        """self + alpha * other."""
        return self + (other if alpha == 1 else self._operand(other) * alpha)

    def sub(self, other, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else self._operand(other) * alpha)

    def mul(self, other):
        return self * other

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient
        (toward zero, or down), and two integer tensors then give an integer tensor, as in torch."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        divisor = self._operand(other)
        if self._data.dtype.kind in "iu" and divisor._data.dtype.kind in "iu":
            if bool((divisor._data == 0).any()):
                raise ZeroDivisionError("ZeroDivisionError: integer division by zero")
            quotient = self.xp.floor_divide(self._data, divisor._data)
            if rounding_mode == "trunc":      # floor, moved up by one where the signs differ and it is not exact
                inexact = (quotient * divisor._data != self._data) & ((self._data < 0) != (divisor._data < 0))
                quotient = quotient + inexact
            return Tensor.wrap(quotient, self.device)
        quotient = self / divisor
        return quotient.trunc() if rounding_mode == "trunc" else quotient.floor()

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    multiply, divide, subtract, negative, true_divide = mul, div, sub, neg, div

    def _as_float(self):
        """Self, or for integer input a float32 copy: exp, log, ... of integers are float32, as in torch."""
        return self if self._data.dtype.kind in "fc" else self.to(dtype=float32)

    def _require_float(self, name):
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(f"{name}(): expected a floating point tensor, got {self.dtype}")
        return self

    def exp(self):
        return ops.Exp.apply(self._as_float())

    def log(self):
        return ops.Log.apply(self._as_float())

    def sqrt(self):
        return ops.Sqrt.apply(self._as_float())

    def abs(self):
        return ops.Abs.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self._as_float())

    def sigmoid(self):
        return ops.Sigmoid.apply(self._as_float())

    def erf(self):
        """The error function 2/sqrt(pi) int_0^x e^(-t^2) dt (ops/special.py)."""
        return ops.Erf.apply(self._as_float())

    def log1p(self):
        """ln(1 + x), accurate for small x."""
        return ops.Log1p.apply(self._as_float())

    def expm1(self):
        """e^x - 1, accurate for small x."""
        return ops.Expm1.apply(self._as_float())

    def log2(self):
        return ops.LogBase.apply(self._as_float(), 2)

    def log10(self):
        return ops.LogBase.apply(self._as_float(), 10)

    def reciprocal(self):
        """1 / x (a float tensor for integer input, as in torch)."""
        return 1 / self._as_float()

    def rsqrt(self):
        """1 / sqrt(x)."""
        return 1 / self._as_float().sqrt()

    def square(self):
        """x * x (integers stay integers, as in torch)."""
        return self * self

    # the circular and hyperbolic functions (ops/trigonometric.py), NumPy's arc- names as aliases
    def sin(self):
        return ops.Sin.apply(self._as_float())

    def cos(self):
        return ops.Cos.apply(self._as_float())

    def tan(self):
        return ops.Tan.apply(self._as_float())

    def asin(self):
        return ops.Asin.apply(self._as_float())

    def acos(self):
        return ops.Acos.apply(self._as_float())

    def atan(self):
        return ops.Atan.apply(self._as_float())

    def atan2(self, other):
        """The angle of the point (other, self) in (-pi, pi]: ``torch.atan2(y, x)``."""
        return self._as_float()._binary(ops.Atan2, other)

    def sinh(self):
        return ops.Sinh.apply(self._as_float())

    def cosh(self):
        return ops.Cosh.apply(self._as_float())

    def asinh(self):
        return ops.Asinh.apply(self._as_float())

    def acosh(self):
        return ops.Acosh.apply(self._as_float())

    def atanh(self):
        return ops.Atanh.apply(self._as_float())

    arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh = asin, acos, atan, atan2, asinh, acosh, atanh

    # piecewise constant (ops/rounding.py): part of the graph, with a zero gradient, as in torch
    def floor(self):
        return ops.Rounding.apply(self, "floor", 0)

    def ceil(self):
        return ops.Rounding.apply(self, "ceil", 0)

    def trunc(self):
        """Rounded toward zero."""
        return ops.Rounding.apply(self, "trunc", 0)

    fix = trunc

    def round(self, decimals=0):
        """Rounded to ``decimals`` places, halves to even."""
        return ops.Rounding.apply(self, "round", decimals)

    def sign(self):
        """-1, 0 or 1 by the sign of each element."""
        return ops.Rounding.apply(self, "sign", 0)

    sgn = sign

    def frac(self):
        """x - trunc(x): the fractional part, with the sign of x; dL/dx = dL/dy."""
        return self - self.trunc()

    def relu(self):
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return ops.LeakyReLU.apply(self, float(negative_slope))

    def maximum(self, other):
        return ops.Maximum.apply(self, self._operand(other))

    def minimum(self, other):
        return ops.Minimum.apply(self, self._operand(other))

    def clamp(self, min=None, max=None):
        """Each element limited to [min, max] (either bound may be None);
        dL/dx = dL/dy where min <= x <= max, else 0 (as torch.clamp)."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must not be None")
        for bound in (min, max):
            if bound is not None and not isinstance(bound, numbers.Number):
                raise TypeError(f"clamp: min and max must be numbers or None, got {type(bound).__name__}")
        return ops.Clamp.apply(self, min, max)

    clip = clamp

    def masked_fill(self, mask, value):
        """self with ``value`` where the boolean ``mask`` is true; no gradient reaches self there."""
        mask = mask._data if isinstance(mask, Tensor) else self.xp.asarray(mask)
        if mask.dtype != numpy.bool_:
            raise TypeError(f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}")
        return where(Tensor.wrap(mask, self.device), value, self)

    def where(self, condition, other):
        """self where ``condition`` holds, else ``other`` (as torch.Tensor.where)."""
        return where(condition, self, other)

    # ------------------------------------------------------------ reductions
    @numpy_names
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, ops.canonical_dims(dim, self.ndim), keepdim)

    @numpy_names
    def mean(self, dim=None, keepdim=False):
        self._require_float("mean")
        return ops.Mean.apply(self, ops.canonical_dims(dim, self.ndim), keepdim)

    @numpy_names
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance; ``correction`` 1 (the default, unbiased, as torch.var) or 0 (biased);
        ``unbiased=False`` is the older spelling of ``correction=0``."""
        correction = _correction(unbiased, correction)
        self._require_float("var")
        return ops.Var.apply(self, ops.canonical_dims(dim, self.ndim), keepdim, correction)

    @numpy_names
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Standard deviation: the square root of ``var`` (same arguments)."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    @numpy_names
    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm over ``dim`` (every element by default), as ``torch.norm``: p = "fro" or 2,
        sqrt(sum x^2) (gradient 0 at the zero vector, as PyTorch's); 1, sum |x|; inf and -inf,
        the largest and smallest |x|; any other p, (sum |x|^p)^(1/p)."""
        self._require_float("norm")
        if p in ("fro", 2):
            return ops.Norm2.apply(self, ops.canonical_dims(dim, self.ndim), keepdim)
        if p == math.inf or p == -math.inf:
            extreme = self.abs().amax if p > 0 else self.abs().amin
            return extreme(() if dim is None else dim, keepdim)
        if isinstance(p, str):
            raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
        if p == 1:
            return self.abs().sum(dim, keepdim)
        return (self.abs() ** p).sum(dim, keepdim) ** (1 / p)

    @numpy_names
    def amax(self, dim=(), keepdim=False):
        """Maximum over ``dim`` (an int, a tuple, or () for every dim); tied elements share
        the gradient equally."""
        return ops.Max.apply(self, ops.canonical_dims(None if dim == () else dim, self.ndim), keepdim)

    @numpy_names
    def amin(self, dim=(), keepdim=False):
        """Minimum over ``dim``; tied elements share the gradient equally."""
        return ops.Min.apply(self, ops.canonical_dims(None if dim == () else dim, self.ndim), keepdim)

    @numpy_names
    def max(self, dim=None, keepdim=False):
        """``max()``: the largest element (ties share the gradient, as torch).  ``max(dim)``:
        the named tuple ``(values, indices)`` along ``dim``, the gradient going to the
        element at ``indices`` (the first maximum).  ``max(other)``: ``maximum``."""
        return self._extreme(dim, keepdim, "max")

    @numpy_names
    def min(self, dim=None, keepdim=False):
        """As ``max``, for the smallest elements."""
        return self._extreme(dim, keepdim, "min")

    def _extreme(self, dim, keepdim, pick):
        if isinstance(dim, Tensor):
            return self.maximum(dim) if pick == "max" else self.minimum(dim)
        if dim is None:
            return (ops.Max if pick == "max" else ops.Min).apply(self, ops.canonical_dims(None, self.ndim), False)
        if not isinstance(dim, numbers.Integral):
            raise TypeError(f"{pick}(): dim must be an int, got {dim!r} (amax/amin take several dims)")
        indices = self.argmax(dim, keepdim=True) if pick == "max" else self.argmin(dim, keepdim=True)
        values = self.gather(dim, indices)
        if not keepdim and self.ndim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return min_max[pick](values, indices)

    @numpy_names
    def argmax(self, dim=None, keepdim=False):
        """Index of the largest element (the first one), along ``dim`` or of the flattened tensor."""
        return self._arg_extreme(dim, keepdim, "argmax")

    @numpy_names
    def argmin(self, dim=None, keepdim=False):
        """Index of the smallest element (the first one), along ``dim`` or of the flattened tensor."""
        return self._arg_extreme(dim, keepdim, "argmin")

    def _arg_extreme(self, dim, keepdim, pick):
        if self._data.size == 0:
            raise IndexError(f"{pick}(): cannot take the {pick} of an empty tensor of shape {tuple(self.shape)}")
        find = getattr(self.xp, pick)
        if dim is None:
            index = find(self._data)
            if keepdim:
                index = index.reshape((1,) * self.ndim)
            return Tensor.wrap(self.xp.asarray(index, dtype=numpy.int64), self.device)
        axis = ops.canonical_dim(dim, self.ndim)
        index = find(self._data, axis=axis) if self.ndim else find(self._data)
        if keepdim and self.ndim:
            index = self.xp.expand_dims(index, axis)
        return Tensor.wrap(self.xp.asarray(index, dtype=numpy.int64), self.device)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The named tuple ``(values, indices)`` of the ``k`` largest (``largest=False``: smallest)
        elements along ``dim``, in that order, as ``torch.topk`` (among equal elements the first
        comes first); the gradient goes to the chosen elements.  ``(y.topk(5).indices ==
        labels[:, None]).any(1)`` is the top-5 hit of ImageNet's error rate."""
        axis, order = self._sort_order("topk", dim, descending=largest)
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= self.shape[axis]:
            raise RuntimeError(f"topk: k ({k!r}) is out of range for dimension {dim} of size {self.shape[axis]}")
        indices = Tensor.wrap(self.xp.take(order, self.xp.arange(k), axis=axis), self.device)
        return return_types.topk(self.gather(axis, indices), indices)

    def sort(self, dim=-1, descending=False, *, stable=False):
        """The named tuple ``(values, indices)`` of the elements sorted along ``dim``, as
        ``torch.sort``; always stable (equal elements keep their order); the gradient goes back
        to each element's place."""
        axis, order = self._sort_order("sort", dim, descending)
        indices = Tensor.wrap(order, self.device)
        return return_types.sort(self.gather(axis, indices), indices)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        """The indices that sort the elements along ``dim`` (``sort(...).indices``)."""
        return Tensor.wrap(self._sort_order("argsort", dim, descending)[1], self.device)

    def _sort_order(self, name, dim, descending):
        """(axis, the stable sorting permutation along it as an int64 array)."""
        if self.ndim == 0:
            raise RuntimeError(f"{name}: expected a tensor with at least one dimension, got a 0-d tensor")
        axis = ops.canonical_dim(dim, self.ndim)
        keys = self._data if self._data.dtype.kind in "fi" else self._data.astype(numpy.int64)   # uint8, bool: no -x
        stable = {"kind": "stable"} if self.device == backend.CPU else {}     # CuPy's sort is always stable
        return axis, self.xp.argsort(-keys if descending else keys, axis=axis, **stable)

    @numpy_names
    def prod(self, dim=None, keepdim=False):
        """The product over ``dim`` (every element by default), as ``torch.prod``; its gradient
        needs no division by zero (ops/reduce.py)."""
        return ops.Prod.apply(self, ops.canonical_dims(dim, self.ndim), keepdim)

    @numpy_names
    def cumsum(self, dim):
        """Running sums along ``dim``: y_i = x_1 + ... + x_i (as ``torch.cumsum``)."""
        return ops.CumSum.apply(self, ops.canonical_dim(dim, self.ndim))

    def index_select(self, dim, index):
        """The slices at ``index`` (a 1-D integer Tensor) along ``dim``, as ``torch.index_select``."""
        if not isinstance(index, Tensor) or index.ndim != 1 or index.dtype.kind not in "iu":
            raise TypeError(f"index_select(): index must be a 1-D integer Tensor, got "
                            f"{_describe_index(index)}")
        axis = ops.canonical_dim(dim, self.ndim)
        return self[(slice(None),) * axis + (index,)]

    def gather(self, dim, index):
        """out[i][j][k] = self[i][index[i][j][k]][k] for dim = 1 (as torch.gather);
        the gradient is added back at the gathered places."""
        axis = ops.canonical_dim(dim, self.ndim)
        index = index._data if isinstance(index, Tensor) else self.xp.asarray(index)
        if index.dtype.kind not in "iu" or index.ndim != self.ndim:
            raise TypeError(f"gather(): index must be an integer tensor with {self.ndim} dims, "
                            f"got {index.dtype} with {index.ndim}")
        return self[self._index_grid(axis, index)]

    def _index_grid(self, axis, index):
        """The advanced index that pairs index[i][j][k] with its own position but for ``axis``
        ((i, index[i][j][k], k) for axis 1): what gather reads and scatter writes."""
        grid = [self.xp.arange(n).reshape((1,) * i + (n,) + (1,) * (index.ndim - i - 1))
                for i, n in enumerate(index.shape)]
        grid[axis] = index
        return tuple(grid)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """A copy of self with out[i][index[i][j][k]][k] = src[i][j][k] for dim = 1, as
        ``torch.scatter`` (``src`` a Tensor, or a number as ``value``).  Where an index
        repeats, one of its sources is written.  dL/dself is dL/dout with the written places
        zero; dL/dsrc is dL/dout gathered at them."""
        grid, values = self._scatter_operands("scatter", dim, index, value if src is None else src, reduce)
        return ops.IndexPut.apply(self, grid, values)

    def scatter_add(self, dim, index, src):
        """self with src[i][j][k] added at out[i][index[i][j][k]][k] for dim = 1 (repeated
        indices accumulate), as ``torch.scatter_add``.  dL/dself = dL/dout; dL/dsrc is
        dL/dout gathered at the places."""
        grid, values = self._scatter_operands("scatter_add", dim, index, src, None)
        return self + ops.IndexAdd.apply(values, grid, self.shape)

    def _scatter_operands(self, name, dim, index, src, reduce):
        """(the index grid, the values to write) of scatter and scatter_add, after PyTorch's
        checks; an index outside its dim raises IndexError at once, on every device."""
        if reduce is not None:
            raise NotImplementedError(f"{name}(): reduce= is not supported; use scatter_add for 'add'")
        axis = ops.canonical_dim(dim, self.ndim)
        if not isinstance(index, Tensor) or index.dtype != numpy.int64:
            raise RuntimeError(f"{name}(): Expected dtype int64 for index, got {_describe_index(index)}")
        if index.ndim != self.ndim:
            raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as self tensor "
                               f"({index.ndim} and {self.ndim})")
        limits = [n if d != axis else None for d, n in enumerate(self.shape)]
        if isinstance(src, Tensor):
            if src.ndim != self.ndim or src.dtype != self.dtype:
                raise RuntimeError(f"{name}(): Expected src of self's dtype {self.dtype} and {self.ndim} dims, "
                                   f"got {src.dtype} with {src.ndim}")
            values = src[tuple(slice(0, n) for n in index.shape)]     # the part of src that index covers
            limits = [n if m is None else min(n, m) for n, m in zip(src.shape, limits)]
        elif isinstance(src, numbers.Number) and name == "scatter":
            values = Tensor.wrap(self.xp.asarray(src, dtype=self.dtype), self.device)
        else:
            raise TypeError(f"{name}(): src must be a Tensor{' or a number' if name == 'scatter' else ''}, "
                            f"got {type(src).__name__}")
        if any(m is not None and n > m for n, m in zip(index.shape, limits)):
            raise RuntimeError(f"{name}(): Expected index {tuple(index.shape)} to be smaller than self "
                               f"{tuple(self.shape)} apart from dimension {axis} and to be smaller size than src")
        size, where = self.shape[axis], index._data
        outside, first = ops.outside_range(where, size)
        if bool(outside):
            raise IndexError(f"{name}(): index {first()} is out of bounds for dimension {axis} with size {size}")
        return self._index_grid(axis, where), values

    # ------------------------------------------------------------ shapes
    def reshape(self, *shape):
        return ops.Reshape.apply(self, _sizes(shape))

    def view(self, *shape):
        """Reshape (here a view whenever NumPy can make one; see docs/pytorch.md)."""
        return ops.Reshape.apply(self, _sizes(shape))

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = ops.canonical_dim(start_dim, self.ndim), ops.canonical_dim(end_dim, self.ndim)
        if start > end:
            raise ValueError(f"flatten() has invalid args: start_dim {start_dim} cannot come after end_dim {end_dim}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def transpose(self, dim0, dim1):
        """Swap two dims (as torch.transpose); ``permute`` takes a whole order."""
        order = list(range(self.ndim))
        dim0, dim1 = ops.canonical_dim(dim0, self.ndim), ops.canonical_dim(dim1, self.ndim)
        order[dim0], order[dim1] = order[dim1], order[dim0]
        return ops.Permute.apply(self, tuple(order))

    swapaxes = transpose

    def t(self):
        """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def permute(self, *dims):
        dims = tuple(ops.canonical_dim(d, self.ndim) for d in _sizes(dims))
        if len(dims) != self.ndim or len(set(dims)) != len(dims):
            raise RuntimeError(f"permute(): dims {dims} are not a permutation of the {self.ndim} dims "
                               f"of shape {tuple(self.shape)}")
        return ops.Permute.apply(self, dims)

    @property
    def T(self):
        """The dims reversed (a matrix transposed)."""
        return ops.Permute.apply(self, tuple(range(self.ndim))[::-1])

    def broadcast_to(self, shape):
        return ops.BroadcastTo.apply(self, tuple(shape))

    def expand(self, *sizes):
        """Broadcast to ``sizes``; -1 keeps a dim's size (as torch.expand; here a copy)."""
        sizes = _sizes(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                               f"to the number of dimensions in the tensor ({self.ndim})")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        return ops.BroadcastTo.apply(self, shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *repeats):
        """The tensor tiled ``repeats[i]`` times along dim i (as torch.repeat: new leading
        dims when there are more repeats than dims)."""
        repeats = _sizes(repeats)
        if len(repeats) < self.ndim:
            raise RuntimeError(f"repeat: the number of repeats ({len(repeats)}) can not be smaller than the "
                               f"number of dimensions of the tensor ({self.ndim})")
        return ops.Repeat.apply(self, repeats)

    def unsqueeze(self, dim):
        dim = ops.canonical_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Drop size-1 dims: all of them, or ``dim`` (an int or tuple) where its size is 1."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = ops.canonical_dims(dim, self.ndim)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    def chunk(self, chunks, dim=0):
        """``chunks`` pieces along ``dim`` (views), each of ceil(size / chunks) but the last."""
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        size = self.shape[ops.canonical_dim(dim, self.ndim)]
        return self.split(max(-(-size // chunks), 1), dim)

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim`` (views): of ``split_size`` each (the last may be smaller),
        or of the listed sizes, which must add up to the dim's size."""
        axis = ops.canonical_dim(dim, self.ndim)
        size = self.shape[axis]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = int(split_size_or_sections)
            if step <= 0 and size:
                raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
            sections = [min(step, size - start) for start in range(0, size, step)] if size else [0]
        else:
            sections = list(split_size_or_sections)
            if sum(sections) != size:
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                                   f"size at dimension {dim}), but got split_sizes={sections}")
        pieces, start = [], 0
        for n in sections:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    # ------------------------------------------------------------ activations
    @numpy_names
    def softmax(self, dim=-1):
        """exp(x) / sum(exp(x)) along ``dim``, stable (the fused op of ops/softmax.py)."""
        return ops.Softmax.apply(self._require_float("softmax"), ops.canonical_dim(dim, self.ndim))

    @numpy_names
    def log_softmax(self, dim=-1):
        """x - log(sum(exp(x))) along ``dim``, stable (the fused op of ops/softmax.py)."""
        return ops.LogSoftmax.apply(self._require_float("log_softmax"), ops.canonical_dim(dim, self.ndim))

    # ------------------------------------------------------------ in place (inplace.py)
    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        return inplace.modify(self, "add_", lambda x, y: x + (y if alpha == 1 else y * alpha), other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        return inplace.modify(self, "sub_", lambda x, y: x - (y if alpha == 1 else y * alpha), other)

    def mul_(self, other):
        return inplace.modify(self, "mul_", lambda x, y: x * y, other)

    def div_(self, other):
        return inplace.modify(self, "div_", lambda x, y: x / y, other)

    def pow_(self, exponent):
        return inplace.modify(self, "pow_", lambda x, y: x ** y, exponent)

    def clamp_(self, min=None, max=None):
        return inplace.modify(self, "clamp_", lambda x: x.clamp(min, max))

    clip_ = clamp_

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """``scatter``, in place."""
        source = value if src is None else src
        if isinstance(source, Tensor):
            return inplace.modify(self, "scatter_", lambda x, v: x.scatter(dim, index, v, reduce=reduce), source)
        return inplace.modify(self, "scatter_", lambda x: x.scatter(dim, index, source, reduce=reduce))

    def scatter_add_(self, dim, index, src):
        """``scatter_add``, in place."""
        return inplace.modify(self, "scatter_add_", lambda x, v: x.scatter_add(dim, index, v), src)

    def masked_fill_(self, mask, value):
        return inplace.modify(self, "masked_fill_", lambda x: x.masked_fill(mask, value))

    def fill_(self, value):
        """Every element set to ``value``, in place."""
        return inplace.fill(self, "fill_", value)

    def zero_(self):
        """Every element set to 0, in place."""
        return inplace.fill(self, "zero_", 0)

    def copy_(self, src):
        """The values of ``src`` (broadcast, cast to self's dtype, moved to self's device)
        written into self; differentiable with respect to ``src``."""
        return inplace.fill(self, "copy_", src)

    def uniform_(self, low=0.0, high=1.0, *, generator=None):
        """Fill with draws from U(low, high) (``generator``, or the library's seeded one)."""
        return inplace.fill(self, "uniform_", backend.rng(generator).uniform(low, high, self.shape))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with draws from N(mean, std^2) (``generator``, or the library's seeded one)."""
        return inplace.fill(self, "normal_", backend.rng(generator).normal(mean, std, self.shape))


def _in_place(name):
    """``x.name_(...)``: ``x.name(...)`` written into x (inplace.modify)."""
    def method(self, *args, **kwargs):
        return inplace.modify(self, name + "_", lambda x: getattr(x, name)(*args, **kwargs))
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"``{name}``, in place."
    return method


for _name in ("exp log log1p expm1 log2 log10 sqrt rsqrt reciprocal square abs neg negative sigmoid tanh relu "
              "sin cos tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh "
              "floor ceil trunc fix frac round sign sgn").split():
    setattr(Tensor, _name + "_", _in_place(_name))


def _correction(unbiased, correction):
    if unbiased is not None and correction is not None:
        raise TypeError("var/std: give either unbiased or correction, not both")
    if unbiased is not None:
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def where(condition, x, y):
    """Elementwise choice: x where ``condition`` is true, y elsewhere; no gradient to ``condition``."""
    x = x if isinstance(x, Tensor) else (y._operand(x) if isinstance(y, Tensor) else Tensor(x))
    y = x._operand(y)
    cond = condition._data if isinstance(condition, Tensor) else x.xp.asarray(condition)
    if cond.dtype != numpy.bool_:
        raise TypeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}")
    return ops.Where.apply(cond, x, y)


from . import ops, inplace  # noqa: E402  (ops and inplace build Tensors)
