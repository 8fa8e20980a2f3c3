"""Ops that choose between elements: maximum, minimum, where, clamp."""
from ..autograd import Function
from ..tensor import Tensor


class _Extremum(Function):
    """z = max(x, y) or min(x, y) elementwise.

    dL/dx = dL/dz where x wins, dL/dy where y wins; on a tie each gets half
    (as PyTorch's ``maximum``), so the two halves still add up to dL/dz.
    """
    pick = None   # xp.maximum or xp.minimum, by name

    @classmethod
    def forward(cls, ctx, x, y):
        ctx.save_for_backward(x, y)
        return getattr(x.xp, cls.pick)(x._data, y._data)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        xp = x.xp
        wins = x._data > y._data if type(ctx).pick == "maximum" else x._data < y._data
        share_x = (wins + 0.5 * (x._data == y._data)).astype(grad.dtype)
        dx = grad * Tensor.wrap(share_x, x.device) if ctx.needs_input_grad[0] else None
        dy = grad * Tensor.wrap(xp.asarray(1 - share_x, dtype=grad.dtype), x.device) \
            if ctx.needs_input_grad[1] else None
        return dx, dy


class Maximum(_Extremum):
    pick = "maximum"


class Minimum(_Extremum):
    pick = "minimum"


class Where(Function):
    """z = x where cond else y (cond: a boolean array, not differentiated).
    dL/dx = dL/dz where cond, else 0;  dL/dy = dL/dz where not cond, else 0."""

    @staticmethod
    def forward(ctx, cond, x, y):
        return x.xp.where(cond, x._data, y._data)

    @staticmethod
    def backward(ctx, grad):
        cond, x, y = ctx.inputs
        zero = grad.xp.zeros((), dtype=grad.dtype)
        zero = Tensor.wrap(zero, grad.device)
        dx = Where.apply(cond, grad, zero) if ctx.needs_input_grad[1] else None
        dy = Where.apply(cond, zero, grad) if ctx.needs_input_grad[2] else None
        return None, dx, dy


class Clamp(Function):
    """y = min(max(x, low), high) (a bound that is None is absent).
    dL/dx = dL/dy where low <= x <= high, else 0 (the bounds included, as torch.clamp)."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        return x.xp.clip(x._data, low, high)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        low, high = ctx.inputs[1:]
        inside = x.xp.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x._data >= low
        if high is not None:
            inside &= x._data <= high
        return grad * Tensor.wrap(inside.astype(grad.dtype), grad.device), None, None
