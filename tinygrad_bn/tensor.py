"""Tensor: an array and its place in the autograd graph.

A Tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad``,
``grad_fn`` (the node that made it, ``None`` for a leaf) and, on leaves,
``grad``.  Its operators and methods are thin: each one calls a differentiable
op from ``tinygrad_bn.ops``, where the forward and backward formulas live.
"""
import numbers

import numpy

from . import backend
from .autograd import backward as _run_backward

float32, float64, int64, int32, bool_ = numpy.float32, numpy.float64, numpy.int64, numpy.int32, numpy.bool_


def _infer_array(data, device, dtype):
    """The backend array for user data, with PyTorch's dtype rules.

    Python floats (and lists of them) become float32; a NumPy/CuPy array keeps
    its dtype; integers stay integers; ``dtype`` overrides everything.
    """
    xp = backend.xp_of(device)
    if isinstance(data, (numpy.ndarray, numpy.generic)) or backend.device_of(data) == backend.CUDA:
        array = xp.array(backend.to_device(data, device) if device == backend.CPU else data, dtype=dtype, copy=True)
    else:
        host = numpy.asarray(data)
        if dtype is None and host.dtype == numpy.float64:
            host = host.astype(numpy.float32)
        if host.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__} {data!r}")
        array = xp.asarray(host, dtype=dtype) if device == backend.CUDA else numpy.array(host, dtype=dtype)
    return array


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    ``Tensor(data, requires_grad=False, device=None, dtype=None)`` copies
    ``data`` (a number, nested lists, or a NumPy/CuPy array) onto ``device``
    ("cpu" or "cuda"; default: ``tg.set_default_device`` / $TINYGRAD_BN_DEVICE / "cpu").
    """

    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "device", "__weakref__")
    __array_priority__ = 1000   # numpy_array * tensor -> Tensor.__rmul__

    def __init__(self, data, requires_grad=False, device=None, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        if device is None and backend.device_of(data) == backend.CUDA:
            device = backend.CUDA
        self.device = backend.check_device(device)
        self.data = _infer_array(data, self.device, dtype)
        self._grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def wrap(cls, array, device=None):
        """A Tensor around ``array`` itself: no copy, no dtype change, no graph.

        (NumPy gives 0-d results as scalars, ``np.float32(3.0)``; they become
        0-d arrays here, so ``.data`` is always an array, as CuPy's always is.)
        """
        if device is None:
            device = backend.device_of(array)
        if not array.ndim and device == backend.CPU:
            array = numpy.asarray(array)
        t = object.__new__(Tensor)
        t.data = array
        t._grad = None
        t.requires_grad = False
        t.grad_fn = None
        t.device = device
        return t

    # ------------------------------------------------------------ attributes
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        """Number of elements (``numel`` in PyTorch)."""
        return self.data.size

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def xp(self):
        """The array module of this tensor's device: ``numpy`` or ``cupy``."""
        return backend.xp_of(self.device)

    @property
    def is_leaf(self):
        """Made by the user (or detached), not by a recorded operation."""
        return self.grad_fn is None

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
                raise ValueError(f"grad of shape {value.shape} assigned to a tensor of shape {self.shape}")
            if value.device != self.device:
                raise ValueError(f"grad on {value.device} assigned to a tensor on {self.device}")
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf; returns self."""
        if requires_grad and self.data.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"got {self.data.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        ``gradient`` is d(loss)/d(self), needed unless self has one element.
        ``retain_graph`` (default: ``create_graph``) keeps the graph for another
        backward; ``create_graph`` records the backward pass itself so the
        gradients can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError("this tensor does not require grad and has no grad_fn: "
                               "nothing to differentiate")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for outputs with one element; "
                                   f"this one has shape {self.shape}: pass gradient=")
            ones = self.data.copy()               # one element: the cheapest new array
            ones.fill(1)
            gradient = Tensor.wrap(ones, self.device)
        else:
            if not isinstance(gradient, Tensor):
                gradient = Tensor(gradient, device=self.device, dtype=self.dtype)
            if gradient.shape != self.shape:
                raise RuntimeError(f"gradient has shape {gradient.shape}, expected {self.shape}")
            if gradient.device != self.device:
                raise RuntimeError(f"gradient is on {gradient.device}, tensor on {self.device}")
        if retain_graph is None:
            retain_graph = create_graph
        _run_backward(self, gradient, retain_graph, create_graph)

    def detach(self):
        """The same data, cut from the graph (a new leaf that does not require grad)."""
        return Tensor.wrap(self.data, self.device)

    def numpy(self):
        """The data as a host NumPy array (a copy from the GPU; shared on the CPU)."""
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad: use detach().numpy()")
        return backend.to_numpy(self.data)

    def item(self):
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return backend.to_numpy(self.data).item()

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def to(self, device=None, dtype=None):
        """A copy on ``device`` and/or of ``dtype`` (self if nothing changes); differentiable."""
        out = self
        if device is not None and backend.check_device(device) != self.device:
            out = ops.ToDevice.apply(out, backend.check_device(device))
        if dtype is not None and numpy.dtype(dtype) != self.dtype:
            out = ops.Cast.apply(out, numpy.dtype(dtype))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=float32)

    def double(self):
        return self.to(dtype=float64)

    def __repr__(self):
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.device != backend.CPU:
            extra += f", device='{self.device}'"
        body = numpy.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
        return f"tensor({body}, dtype={self.dtype}{extra})"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------ operators
    def _operand(self, other):
        """A Python number or array as a constant Tensor next to self.

        Python scalars take self's dtype when self is floating point, so
        ``float32_tensor * 2.0`` stays float32 (as in PyTorch).
        """
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            if self.data.dtype.kind == "f":
                dtype = self.data.dtype
            else:
                dtype = numpy.int64 if isinstance(other, numbers.Integral) else float32
            return Tensor.wrap(self.xp.asarray(other, dtype=dtype), self.device)
        return Tensor(other, device=self.device)

    def _binary(self, op, other, reflected=False):
        """``op(self, other)`` (``op(other, self)`` when reflected) with ``other`` made a Tensor.

        Integers meet floats as in PyTorch: the integer side is converted to
        the float side's dtype (float32 for a Python float).
        """
        a, b = self, (other if isinstance(other, Tensor) else self._operand(other))
        if a.data.dtype != b.data.dtype:
            kind_a, kind_b = a.data.dtype.kind, b.data.dtype.kind
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
        return self._binary(ops.MatMul, other)

    def __rmatmul__(self, other):
        return self._binary(ops.MatMul, other, reflected=True)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return ops.GetItem.apply(self, ops.plain_index(index))

    # comparisons: boolean tensors, never differentiated
    def _compare(self, other, fn):
        return Tensor.wrap(fn(self.data, self._operand(other).data), self.device)

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

    # ------------------------------------------------------------ methods
    def matmul(self, other):
        return self @ other

    def add(self, other):
        return self + other

    def sub(self, other):
        return self - other

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def abs(self):
        return ops.Abs.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return ops.LeakyReLU.apply(self, float(negative_slope))

    def maximum(self, other):
        return ops.Maximum.apply(self, self._operand(other))

    def minimum(self, other):
        return ops.Minimum.apply(self, self._operand(other))

    def sum(self, axis=None, keepdims=False):
        return ops.Sum.apply(self, ops.normalize_axis(axis, self.ndim), keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.Mean.apply(self, ops.normalize_axis(axis, self.ndim), keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        """Variance with ``correction`` (1 = unbiased, as torch.var; 0 = biased)."""
        return ops.Var.apply(self, ops.normalize_axis(axis, self.ndim), keepdims, correction)

    def max(self, axis=None, keepdims=False):
        return ops.Max.apply(self, ops.normalize_axis(axis, self.ndim), keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.Min.apply(self, ops.normalize_axis(axis, self.ndim), keepdims)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.Reshape.apply(self, tuple(shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return self.reshape(shape)

    def transpose(self, dim0, dim1):
        """Swap two axes (as torch.transpose); ``permute`` takes a whole order."""
        order = list(range(self.ndim))
        order[dim0], order[dim1] = order[dim1], order[dim0]
        return ops.Permute.apply(self, tuple(order))

    def permute(self, *axes):
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return ops.Permute.apply(self, tuple(a % self.ndim for a in axes))

    @property
    def T(self):
        """The axes reversed (a matrix transposed)."""
        return ops.Permute.apply(self, tuple(range(self.ndim))[::-1])

    def broadcast_to(self, shape):
        return ops.BroadcastTo.apply(self, tuple(shape))

    expand = broadcast_to

    def unsqueeze(self, axis):
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def squeeze(self, axis=None):
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axis = axis % self.ndim
        if self.shape[axis] != 1:
            return self
        return self.reshape(self.shape[:axis] + self.shape[axis + 1:])

    def softmax(self, axis=-1):
        """exp(x) / sum(exp(x)) along ``axis``, stable (the fused op of ops/softmax.py)."""
        return ops.Softmax.apply(self, axis % self.ndim)

    def log_softmax(self, axis=-1):
        """x - log(sum(exp(x))) along ``axis``, stable (the fused op of ops/softmax.py)."""
        return ops.LogSoftmax.apply(self, axis % self.ndim)

    def where(self, condition, other):
        """self where ``condition`` holds, else ``other`` (as torch.Tensor.where)."""
        return where(condition, self, other)


def where(condition, x, y):
    """Elementwise choice: x where ``condition`` is true, y elsewhere; no gradient to ``condition``."""
    x = x if isinstance(x, Tensor) else (y._operand(x) if isinstance(y, Tensor) else Tensor(x))
    y = x._operand(y)
    cond = condition.data if isinstance(condition, Tensor) else x.xp.asarray(condition)
    return ops.Where.apply(cond, x, y)


from . import ops  # noqa: E402  (ops build Tensors)
