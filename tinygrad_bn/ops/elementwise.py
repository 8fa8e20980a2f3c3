"""Unary elementwise functions and their derivatives.

Where the derivative is easiest to write with the output (exp, sqrt, tanh,
sigmoid), forward saves the output tensor; backward then uses it as a Tensor,
so second derivatives flow through it as well.
"""
import math

from .. import backend
from ..autograd import Function, formula
from ..tensor import Tensor, where


class Exp(Function):
    """y = e^x.   dL/dx = dL/dy * y."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor.wrap(x.xp.exp(x._data), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x.   dL/dx = dL/dy / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.log(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class LogBase(Function):
    """y = log_b x for b = 2 or 10.   dL/dx = dL/dy / (x ln b)."""

    @staticmethod
    def forward(ctx, x, base):
        ctx.save_for_backward(x)
        ctx.base = base
        return x.xp.log2(x._data) if base == 2 else x.xp.log10(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * math.log(ctx.base)), None


class Log1p(Function):
    """y = ln(1 + x), accurate for small x.   dL/dx = dL/dy / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.log1p(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 + x)


class Expm1(Function):
    """y = e^x - 1, accurate for small x.   dL/dx = dL/dy * (y + 1)."""

    @staticmethod
    @backend.overflow_ignored()
    def forward(ctx, x):
        y = Tensor.wrap(x.xp.expm1(x._data), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y + 1)


class Sqrt(Function):
    """y = sqrt(x).   dL/dx = dL/dy / (2 y)."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor.wrap(x.xp.sqrt(x._data), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad / (y * 2)


class Abs(Function):
    """y = |x|.   dL/dx = dL/dy * sign(x)  (0 at x = 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * Tensor.wrap(x.xp.sign(x._data), x.device)


class Tanh(Function):
    """y = tanh x.   dL/dx = dL/dy * (1 - y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor.wrap(x.xp.tanh(x._data), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return formula(lambda g, y: g * (1 - y * y), grad, y)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x).   dL/dx = dL/dy * y (1 - y).

    For x below about -88.7 (float32) or -709.8 (float64) e^-x overflows to
    inf and y = 1 / inf = 0 (the overflow warning is silenced).  The true value
    there is below the smallest normal number; PyTorch's sigmoid gives 0 too.
    """

    @staticmethod
    @backend.overflow_ignored()
    def forward(ctx, x):
        y = Tensor.wrap(1 / (1 + x.xp.exp(-x._data)), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return formula(lambda g, y: g * (y * (1 - y)), grad, y)


class ReLU(Function):
    """y = max(x, 0).   dL/dx = dL/dy where y > 0 (that is, x > 0), else 0."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor.wrap(x.xp.maximum(x._data, 0), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * Tensor.wrap((y._data > 0).astype(y.dtype), y.device)


class LeakyReLU(Function):
    """y = x for x > 0, a x otherwise.   dL/dx = dL/dy * (1 or a)."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return x.xp.where(x._data > 0, x._data, x._data * x.dtype.type(slope))

    @staticmethod
    def backward(ctx, grad):
        (x,), slope = ctx.saved_tensors, ctx.slope
        xp = x.xp
        return grad * Tensor.wrap(xp.where(x._data > 0, 1, slope).astype(x.dtype), x.device), None


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, and y = x where beta x > threshold (PyTorch's rule: there
    the two agree to within e^-threshold).   dL/dx = dL/dy * sigmoid(beta x) (1 past the threshold).

    Computed as (max(beta x, 0) + log(1 + e^-|beta x|)) / beta, which never overflows, so
    the threshold may be inf.  The derivative is itself a sigmoid, smooth everywhere:
    softplus(-x) is -log sigmoid(x), which binary_cross_entropy_with_logits is built from.
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        xp, scaled = x.xp, x._data * x.dtype.type(beta)
        smooth = (xp.maximum(scaled, 0) + xp.log1p(xp.exp(-xp.abs(scaled)))) / x.dtype.type(beta)
        return xp.where(scaled > threshold, x._data, smooth)

    @staticmethod
    def backward(ctx, grad):
        (x,), beta = ctx.saved_tensors, ctx.beta
        past = Tensor.wrap(x._data * x.dtype.type(beta) > ctx.threshold, x.device)
        return grad * where(past, 1.0, (x * beta).sigmoid()), None, None

