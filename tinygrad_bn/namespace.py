"""The ``torch.*`` spellings of Tensor methods: ``tg.exp(x)``, ``tg.argmax(x, dim=1)``, ...

Each function calls the method of the same name, so there is one
implementation and its docstring lives with the method; ``out=`` writes the
result into a given tensor, as in torch.
"""
import builtins
import warnings

from .ops import concatenate
from . import inplace
from .tensor import Tensor


def _method(name):
    def call(input, *args, out=None, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
        result = getattr(input, name)(*args, **kwargs)
        return result if out is None else inplace.write_out(result, out, name)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``tg.{name}(x, ...)`` is ``x.{name}(...)``: {getattr(Tensor, name).__doc__ or ''}".strip()
    return call


_NAMES = ("exp log sqrt abs tanh sigmoid erf relu softmax log_softmax matmul mm "
          "sum mean var std amax amin argmax argmin max min any all clamp clip "
          "reshape flatten squeeze unsqueeze transpose permute t chunk split gather "
          "isnan isinf isfinite masked_fill clone round numel norm topk sort argsort cumsum index_select prod scatter scatter_add "
          "add sub subtract mul multiply div divide true_divide pow neg negative reciprocal rsqrt square "
          "log1p expm1 log2 log10 sin cos tan asin acos atan atan2 arcsin arccos arctan arctan2 "
          "sinh cosh asinh acosh atanh arcsinh arccosh arctanh floor ceil trunc fix frac sign sgn "
          "eq ne lt le gt ge less less_equal greater greater_equal not_equal "
          "logical_not logical_and logical_or logical_xor "
          "tril triu diagonal diag trace flip fliplr flipud roll select unbind outer ger dot bmm logsumexp "
          "broadcast_to nonzero argwhere unique narrow movedim moveaxis swapdims tile repeat_interleave "
          "clamp_min clamp_max count_nonzero masked_select take median lerp addcmul addcdiv xlogy logit nan_to_num "
          "nansum nanmean").split()

globals().update({name: _method(name) for name in _NAMES})
__all__ = list(_NAMES) + ["maximum", "minimum", "is_tensor", "isclose", "allclose", "equal", "hstack", "vstack", "meshgrid"]


def maximum(x, y):
    """Elementwise maximum; ties split the gradient equally."""
    return x.maximum(y)


def minimum(x, y):
    """Elementwise minimum; ties split the gradient equally."""
    return x.minimum(y)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol * |b| (boolean tensor), as torch.isclose."""
    return Tensor.wrap(a.xp.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan), a.device)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of a is close to b (see ``isclose``): a Python bool."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all())


def equal(a, b):
    """True if a and b have the same shape and elements."""
    return a.shape == b.shape and bool((a == b).all())


def hstack(tensors):
    """Tensors joined side by side: along dim 1, or dim 0 for vectors."""
    tensors = list(tensors)
    return concatenate(tensors, dim=0 if builtins.all(t.ndim == 1 for t in tensors) else 1)   # (all is tg.all here)


def vstack(tensors):
    """Tensors stacked as rows: vectors become rows (1, n), then joined along dim 0."""
    return concatenate([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], dim=0)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: for 1-D tensors of sizes n_1 ... n_k, k tensors of shape (n_1, ..., n_k),
    the i-th varying along dim i (``indexing="ij"``, the default, with PyTorch's warning when it
    is not given) or with the first two dims swapped (``"xy"``, NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if not isinstance(t, Tensor) or t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list")
    vectors = [t.reshape(-1) for t in tensors]
    if indexing == "xy" and len(vectors) >= 2:
        vectors[0], vectors[1] = vectors[1], vectors[0]
    shape = tuple(v.shape[0] for v in vectors)
    grids = [v.reshape((1,) * i + (-1,) + (1,) * (len(shape) - i - 1)).broadcast_to(shape)
             for i, v in enumerate(vectors)]
    if indexing == "xy" and len(grids) >= 2:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
