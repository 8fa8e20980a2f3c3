"""Softmax and log-softmax along one axis, fused and numerically stable.

Both subtract the maximum m before exponentiating, which changes nothing
mathematically (the factor e^-m cancels) but keeps every exponent <= 0, so
nothing overflows.  Each backward uses the saved output y, itself a node of
the graph, so the backward is differentiable again (double backward).
"""
from ..autograd import Function
from ..tensor import Tensor


class Softmax(Function):
    """y_i = e^(x_i - m) / sum_j e^(x_j - m).   dL/dx = y * (g - sum(g * y))  (sums along the axis)."""

    @staticmethod
    def forward(ctx, x, axis):
        e = x.xp.exp(x._data - x._data.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        y = Tensor.wrap(e, x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        axis = ctx.inputs[1]
        return y * (grad - (grad * y).sum(axis, True)), None


class LogSoftmax(Function):
    """y_i = (x_i - m) - log sum_j e^(x_j - m).   dL/dx = g - e^y * sum(g)  (e^y is the softmax)."""

    @staticmethod
    def forward(ctx, x, axis):
        shifted = x._data - x._data.max(axis=axis, keepdims=True)
        shifted -= x.xp.log(x.xp.exp(shifted).sum(axis=axis, keepdims=True))
        y = Tensor.wrap(shifted, x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        axis = ctx.inputs[1]
        return grad - y.exp() * grad.sum(axis, True), None
