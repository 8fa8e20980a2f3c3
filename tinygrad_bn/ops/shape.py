"""Ops that move elements around without changing them: reshape, permute,
broadcast, indexing, concatenation.  Their backward passes move the gradient
back, so each op's backward is (a sum of) another op of this file."""
import numpy

from ..autograd import Function
from ..dims import canonical_dim
from ..backend import CUDA, scatter_add, to_numpy
from ..tensor import Tensor


def reduce_to(grad, like):
    """``grad`` summed over the axes that broadcasting added or stretched, so it
    has the shape of ``like``, and cast to its dtype: the backward of broadcasting."""
    if grad._data.shape != like._data.shape:
        lead = grad.ndim - like.ndim
        stretched = tuple(lead + i for i, n in enumerate(like.shape) if n == 1 and grad.shape[lead + i] != 1)
        grad = grad.sum(tuple(range(lead)) + stretched, True).reshape(like.shape)
    if grad._data.dtype != like._data.dtype:
        grad = grad.to(dtype=like.dtype)
    return grad


def plain_index(index, tensor):
    """``index`` for ``tensor.data``: Tensors replaced by their arrays and, on the GPU,
    integer arrays checked against the dims they index.  NumPy raises IndexError for an
    out-of-range index; CuPy wraps it around instead (its documented difference), which
    would read and, in backward, scatter to the wrong places."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(p._data if isinstance(p, Tensor) else p for p in parts)
    if tensor.device == CUDA:
        _check_bounds(parts, tensor.shape)
    return parts if isinstance(index, tuple) else parts[0]


def outside_range(index, size):
    """(a 0-d boolean array: whether some entry of the integer array ``index`` lies outside
    [0, size), negative ones included; a function that reads the first such entry back
    to the host), for the errors of lookups that take no negative index."""
    outside = (index < 0) | (index >= size)
    return outside.any(), lambda: int(to_numpy(index[outside]).ravel()[0])


def _check_bounds(parts, shape):
    """Raise NumPy's IndexError for the first integer-array index outside its dim."""
    consumed = sum(_dims_used(p) for p in parts)
    dim = 0
    for part in parts:
        if part is None:
            continue
        if part is Ellipsis:
            dim += len(shape) - consumed
        elif _is_mask(part):
            dim += _dims_used(part)
        else:
            if not isinstance(part, (int, slice)) and dim < len(shape):
                values = part if hasattr(part, "dtype") else numpy.asarray(part)
                size = shape[dim]
                bad = (values < -size) | (values >= size)
                if bool(bad.any()):
                    raise IndexError(f"index {int(values[bad].ravel()[0])} is out of bounds for axis {dim} "
                                     f"with size {size}")
            dim += 1


def _dims_used(part):
    """How many dims of the indexed tensor an index part consumes."""
    if part is None or part is Ellipsis:
        return 0
    return numpy.ndim(part) if _is_mask(part) else 1


def _is_mask(part):
    return getattr(part, "dtype", None) == numpy.bool_ or (
        isinstance(part, list) and part and all(isinstance(v, bool) for v in part))


def _is_basic(index):
    """Basic indexing (ints, slices, None, ...) never selects an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class Reshape(Function):
    """y = x viewed with another shape.  dL/dx = dL/dy reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x._view(x._data.reshape(shape))
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {tuple(x.shape)} ({x._data.size} elements) "
                             f"into shape {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Permute(Function):
    """y = x with its axes reordered: y.shape[i] = x.shape[axes[i]].
    dL/dx = dL/dy with the inverse permutation."""

    @staticmethod
    def forward(ctx, x, axes):
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"{axes} is not a permutation of the {x.ndim} axes of shape {tuple(x.shape)}")
        ctx.axes = axes
        return x._view(x.xp.transpose(x._data, axes))

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return Permute.apply(grad, tuple(inverse)), None


class BroadcastTo(Function):
    """y = x repeated along new or size-1 axes.  dL/dx = dL/dy summed over them."""

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return x.xp.broadcast_to(x._data, shape).copy()   # a writeable array of its own
        except ValueError:
            raise ValueError(f"cannot broadcast shape {tuple(x.shape)} to {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return reduce_to(grad, x), None


class GetItem(Function):
    """y = x[index] (slices, ints, integer arrays, boolean masks).
    dL/dx = zeros with dL/dy added at the selected places; an element selected
    k times receives k contributions (IndexAdd)."""

    @staticmethod
    def forward(ctx, x, index):
        if not _is_basic(index):
            return x._data[index]                   # advanced indexing copies
        parts = index if isinstance(index, tuple) else (index,)
        if Ellipsis not in parts:
            parts += (Ellipsis,)                   # x[0, 1, ...] is a 0-d view where x[0, 1] is a scalar
        return x._view(x._data[parts])

    @staticmethod
    def backward(ctx, grad):
        x, index = ctx.inputs
        return IndexAdd.apply(grad, index, x.shape), None


class IndexAdd(Function):
    """y = zeros(shape) with y[index] += g (repeated indices accumulate).
    It is linear in g and its backward is indexing: dL/dg = dL/dy[index]."""

    @staticmethod
    def forward(ctx, g, index, shape):
        out = g.xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] += g._data
        else:
            scatter_add(out, index, g._data)
        return out

    @staticmethod
    def backward(ctx, grad):
        index = ctx.inputs[1]
        return GetItem.apply(grad, index), None, None


class IndexPut(Function):
    """y = x with y[index] = v (v broadcast over the indexed places): ``x[index] = v``
    out of place.  dL/dx = dL/dy with the indexed places set to 0; dL/dv =
    dL/dy[index] (the engine sums it back over the axes v was broadcast along)."""

    @staticmethod
    def forward(ctx, x, index, v):
        out = x._data.copy()
        out[index] = v._data
        return out

    @staticmethod
    def backward(ctx, grad):
        index, v = ctx.inputs[1:]
        dx = IndexPut.apply(grad, index, Tensor.wrap(grad.xp.zeros((), grad.dtype), grad.device)) \
            if ctx.needs_input_grad[0] else None
        dv = GetItem.apply(grad, index) if ctx.needs_input_grad[2] else None
        return dx, None, dv


class Repeat(Function):
    """y = x tiled ``repeats[i]`` times along axis i (leading new axes where there are
    more repeats than axes).  dL/dx = the tiles of dL/dy summed: dL/dy viewed
    with each axis of length r * n split into (r, n), summed over the r axes."""

    @staticmethod
    def forward(ctx, x, repeats):
        return x.xp.tile(x._data, repeats)

    @staticmethod
    def backward(ctx, grad):
        x, repeats = ctx.inputs
        shape = (1,) * (len(repeats) - x.ndim) + x.shape
        split = []
        for r, n in zip(repeats, shape):
            split += [r, n]
        tiles = grad.reshape(tuple(split)).sum(tuple(range(0, 2 * len(shape), 2)))
        return tiles.reshape(x.shape), None


class Concatenate(Function):
    """y = the inputs joined along ``axis``.  dL/dx_i = the slice of dL/dy where x_i sits."""

    @staticmethod
    def forward(ctx, axis, *xs):
        return xs[0].xp.concatenate([x._data for x in xs], axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis, xs = ctx.inputs[0], ctx.inputs[1:]
        grads, start = [None], 0
        for x in xs:
            index = (slice(None),) * axis + (slice(start, start + x.shape[axis]),)
            grads.append(grad[index])          # (the engine casts it to x's dtype)
            start += x.shape[axis]
        return tuple(grads)


class Stack(Function):
    """y = the inputs stacked along a new ``axis``.  dL/dx_i = dL/dy[..., i, ...]."""

    @staticmethod
    def forward(ctx, axis, *xs):
        return xs[0].xp.stack([x._data for x in xs], axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis, xs = ctx.inputs[0], ctx.inputs[1:]
        return (None,) + tuple(grad[(slice(None),) * axis + (i,)] for i in range(len(xs)))


def _check_joinable(name, tensors):
    if not tensors:
        raise ValueError(f"{name} needs at least one tensor")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} takes Tensors, got {type(t).__name__}")


def concatenate(tensors, dim=0, *, axis=None):
    """Join tensors along an existing dim (``torch.cat``; ``axis`` is NumPy's name)."""
    tensors = list(tensors)
    _check_joinable("cat", tensors)
    dim = dim if axis is None else axis
    return Concatenate.apply(canonical_dim(dim, tensors[0].ndim), *tensors)


def stack(tensors, dim=0, *, axis=None):
    """Join tensors of equal shape along a new dim (``torch.stack``; ``axis`` is NumPy's name)."""
    tensors = list(tensors)
    _check_joinable("stack", tensors)
    dim = dim if axis is None else axis
    return Stack.apply(canonical_dim(dim, tensors[0].ndim + 1), *tensors)
