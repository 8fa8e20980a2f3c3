"""Reductions over axes: sum, mean, var, max, min, prod, the Euclidean norm; running sums.

Each backward spreads the gradient back over the reduced axes: first it puts
the reduced axes back as size-1 axes (``keepdims``), then it broadcasts.
"""
from ..autograd import Function, formula
from ..tensor import Tensor, where


def _spread(grad, x, axes, keepdims):
    """dL/dy of a reduction, reshaped with size-1 reduced axes, broadcast to x's shape."""
    if not keepdims:
        grad = grad.reshape(tuple(1 if i in axes else n for i, n in enumerate(x.shape)))
    return grad.broadcast_to(x.shape)


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


class Sum(Function):
    """y = sum of x over ``axes``.   dL/dx = dL/dy broadcast back (each x counts once)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        return x._data.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        x, axes, keepdims = ctx.inputs
        return _spread(grad, x, axes, keepdims), None, None


class Mean(Function):
    """y = sum of x over ``axes`` / n.   dL/dx = dL/dy / n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        return x._data.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        x, axes, keepdims = ctx.inputs
        return _spread(grad / _count(x, axes), x, axes, keepdims), None, None


class Var(Function):
    """y = sum((x - mean)^2) / (n - correction) over ``axes``.
    dL/dx = dL/dy * 2 (x - mean) / (n - correction)  (the mean's own gradient
    term vanishes because the deviations sum to zero)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        ctx.save_for_backward(x)
        n = _count(x, axes)
        if n - correction <= 0:
            raise ValueError(f"var over {n} elements with correction={correction}: "
                             f"need more than {correction} elements")
        return x._data.var(axis=axes, keepdims=keepdims, ddof=correction)

    @staticmethod
    def backward(ctx, grad):
        (x,), axes, keepdims, correction = ctx.saved_tensors, *ctx.inputs[1:]
        centered = x - x.mean(axes, keepdim=True)
        scale = 2.0 / (_count(x, axes) - correction)
        return _spread(grad, x, axes, keepdims) * centered * scale, None, None, None


class _Extreme(Function):
    """y = max (or min) of x over ``axes``.

    dL/dx = dL/dy at the elements equal to the extreme, 0 elsewhere; when k
    elements tie, each gets dL/dy / k (as torch.amax), so the total is kept.
    """
    pick = None   # "max" or "min"

    @classmethod
    def forward(cls, ctx, x, axes, keepdims):
        if x._data.size == 0:
            raise ValueError(f"{cls.pick}() of an empty tensor of shape {tuple(x.shape)}")
        ctx.save_for_backward(x)
        return getattr(x._data, cls.pick)(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,), axes, keepdims = ctx.saved_tensors, *ctx.inputs[1:]
        extreme = getattr(x._data, type(ctx).pick)(axis=axes, keepdims=True)
        winners = (x._data == extreme).astype(grad.dtype)
        share = winners / winners.sum(axis=axes, keepdims=True)
        return _spread(grad, x, axes, keepdims) * Tensor.wrap(share, x.device), None, None


class Max(_Extreme):
    pick = "max"


class Min(_Extreme):
    pick = "min"


class Norm2(Function):
    """y = sqrt(sum of x^2 over ``axes``), the Euclidean (Frobenius) norm.
    dL/dx = dL/dy * x / y, and 0 where y = 0 (PyTorch's subgradient at the kink; the
    composed sqrt(sum(x * x)) would give 0 * inf there)."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        y = Tensor.wrap(x.xp.sqrt((x._data * x._data).sum(axis=axes, keepdims=keepdims)), x.device)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x, y), axes, keepdims = ctx.saved_tensors, ctx.inputs[1], ctx.inputs[2]
        return _spread(grad / where(y == 0, 1.0, y), x, axes, keepdims) * x, None, None


class CumSum(Function):
    """y_i = x_1 + ... + x_i along ``axis``.   dL/dx_i = sum over j >= i of dL/dy_j, the running
    sum taken from the other end: total - (running sum up to i) + dL/dy_i."""

    @staticmethod
    def forward(ctx, x, axis):
        return x._data.cumsum(axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis = ctx.inputs[1]
        return formula(lambda g: g.sum(axis=axis, keepdims=True) - g.cumsum(axis=axis) + g, grad), None


class Prod(Function):
    """y = the product of x over ``axes``.   dL/dx_i = dL/dy * (the product of the others), which
    is y / x_i where the group has no zero; where it has one zero, the product of the nonzero
    entries at the zero and 0 elsewhere; where it has more, 0 (as PyTorch, no division by 0).
    Written with recorded ops (a product of the nonzero entries, a division, masks), so it is
    differentiable again."""

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        y = Tensor.wrap(x._data.prod(axis=axes, keepdims=keepdims), x.device)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (x, y), axes, keepdims = ctx.saved_tensors, ctx.inputs[1], ctx.inputs[2]
        zero = Tensor.wrap(x._data == 0, x.device)
        zeros = _spread(Tensor.wrap(zero._data.sum(axis=axes, keepdims=keepdims), x.device), x, axes, keepdims)
        nonzero_product = _spread(Prod.apply(where(zero, 1.0, x), axes, keepdims), x, axes, keepdims)
        others = where(zero, where(zeros == 1, nonzero_product, 0.0),
                       where(zeros == 0, _spread(y, x, axes, keepdims) / where(zero, 1.0, x), 0.0))
        return _spread(grad, x, axes, keepdims) * others, None, None
