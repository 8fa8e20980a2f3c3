"""Moves between devices and dtypes, and plain copies; differentiable, so a graph may cross them."""
from .. import backend
from ..autograd import Function
from ..tensor import Tensor


class ToDevice(Function):
    """y = x copied to ``device``.   dL/dx = dL/dy copied back."""

    @staticmethod
    def forward(ctx, x, device):
        return Tensor.wrap(backend.to_device(x._data, device), device)

    @staticmethod
    def backward(ctx, grad):
        return ToDevice.apply(grad, ctx.inputs[0].device), None


class Cast(Function):
    """y = x converted to ``dtype``.   dL/dx = dL/dy converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x._data.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.inputs[0]
        return (Cast.apply(grad, x.dtype) if x.dtype.kind == "f" else None), None


class Clone(Function):
    """y = a copy of x (memory of its own).   dL/dx = dL/dy."""

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad
