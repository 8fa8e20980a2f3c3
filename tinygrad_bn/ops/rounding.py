"""Piecewise-constant functions: floor, ceil, trunc, round, sign.

Each is constant between its jumps, so its derivative is 0 wherever it
exists; at a jump there is none, and PyTorch uses 0 there too.  The output
is still part of the graph (it requires grad when its input does, as in
PyTorch), so ``x.round() * w`` differentiates, with no gradient reaching x
through the rounding.  Integer tensors are already whole numbers: floor,
ceil, trunc and round return a copy of them.
"""
from ..autograd import Function
from ..tensor import Tensor


def _rounded(xp, array, name, decimals):
    if array.dtype.kind == "b" or (array.dtype.kind in "iu" and name != "sign"):
        return array.copy()
    if name == "round":
        return xp.round(array, decimals)
    return getattr(xp, name)(array)


class Rounding(Function):
    """y = floor x, ceil x, trunc x, round(x, decimals) (halves to even) or sign x.
    dL/dx = 0."""

    @staticmethod
    def forward(ctx, x, name, decimals=0):
        return _rounded(x.xp, x._data, name, decimals)

    @staticmethod
    def backward(ctx, grad):
        return Tensor.wrap(grad.xp.zeros_like(grad._data), grad.device), None, None
