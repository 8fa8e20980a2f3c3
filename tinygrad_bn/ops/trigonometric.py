"""The circular and hyperbolic functions and their inverses.

Each derivative is the textbook one, written with Tensor operations so that
it differentiates again:

    sin' = cos          cos' = -sin          tan' = 1 + tan^2
    asin' = 1/sqrt(1 - x^2)     acos' = -1/sqrt(1 - x^2)     atan' = 1/(1 + x^2)
    sinh' = cosh        cosh' = sinh         tanh: elementwise.py
    asinh' = 1/sqrt(x^2 + 1)    acosh' = 1/sqrt(x^2 - 1)     atanh' = 1/(1 - x^2)

and for the two-argument arctangent, the angle of the point (x, y),

    d atan2(y, x) / dy = x / (x^2 + y^2),    d atan2(y, x) / dx = -y / (x^2 + y^2).

Outside a function's domain (asin of 2, acosh of 0) the value is NaN, as in
NumPy and PyTorch; the invalid-value warning is silenced.
"""
from .. import backend
from ..autograd import Function
from ..tensor import Tensor


class Sin(Function):
    """y = sin x.   dL/dx = dL/dy * cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.sin(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.cos()


class Cos(Function):
    """y = cos x.   dL/dx = -dL/dy * sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.cos(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * x.sin()


class Tan(Function):
    """y = tan x.   dL/dx = dL/dy * (1 + y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor.wrap(x.xp.tan(x._data), x.device)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 + y * y)


class Asin(Function):
    """y = arcsin x, for -1 <= x <= 1.   dL/dx = dL/dy / sqrt(1 - x^2)."""

    @staticmethod
    @backend.float_errors_ignored()
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.arcsin(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 - x * x).sqrt()


class Acos(Function):
    """y = arccos x, for -1 <= x <= 1.   dL/dx = -dL/dy / sqrt(1 - x^2)."""

    @staticmethod
    @backend.float_errors_ignored()
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.arccos(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad / (1 - x * x).sqrt()


class Atan(Function):
    """y = arctan x.   dL/dx = dL/dy / (1 + x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.arctan(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 + x * x)


class Atan2(Function):
    """z = atan2(y, x), the angle of (x, y) in (-pi, pi].
    dL/dy = dL/dz * x / (x^2 + y^2),  dL/dx = -dL/dz * y / (x^2 + y^2)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return y.xp.arctan2(y._data, x._data)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        scaled = grad / (x * x + y * y)
        dy = scaled * x if ctx.needs_input_grad[0] else None
        dx = -scaled * y if ctx.needs_input_grad[1] else None
        return dy, dx


class Sinh(Function):
    """y = sinh x.   dL/dx = dL/dy * cosh x."""

    @staticmethod
    @backend.overflow_ignored()
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.sinh(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.cosh()


class Cosh(Function):
    """y = cosh x.   dL/dx = dL/dy * sinh x."""

    @staticmethod
    @backend.overflow_ignored()
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.cosh(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * x.sinh()


class Asinh(Function):
    """y = arsinh x.   dL/dx = dL/dy / sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.arcsinh(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * x + 1).sqrt()


class Acosh(Function):
    """y = arcosh x, for x >= 1.   dL/dx = dL/dy / sqrt(x^2 - 1)."""

    @staticmethod
    @backend.float_errors_ignored()
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.arccosh(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * x - 1).sqrt()


class Atanh(Function):
    """y = artanh x, for -1 < x < 1.   dL/dx = dL/dy / (1 - x^2)."""

    @staticmethod
    @backend.float_errors_ignored()
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.xp.arctanh(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (1 - x * x)
