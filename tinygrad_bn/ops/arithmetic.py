"""The four arithmetic operations, negation and power.

Binary ops broadcast like NumPy; their backward passes sum each gradient back
to its input's shape with ``reduce_to``.
"""
from ..autograd import Function
from .shape import reduce_to


class Add(Function):
    """z = x + y.   dL/dx = dL/dz,  dL/dy = dL/dz."""

    @staticmethod
    def forward(ctx, x, y):
        return x.data + y.data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.inputs
        return reduce_to(grad, x), reduce_to(grad, y)


class Sub(Function):
    """z = x - y.   dL/dx = dL/dz,  dL/dy = -dL/dz."""

    @staticmethod
    def forward(ctx, x, y):
        return x.data - y.data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.inputs
        return reduce_to(grad, x), (reduce_to(-grad, y) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y.   dL/dx = dL/dz * y,  dL/dy = dL/dz * x."""

    @staticmethod
    def forward(ctx, x, y):
        return x.data * y.data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.inputs
        dx = reduce_to(grad * y, x) if ctx.needs_input_grad[0] else None
        dy = reduce_to(grad * x, y) if ctx.needs_input_grad[1] else None
        return dx, dy


class Div(Function):
    """z = x / y.   dL/dx = dL/dz / y,  dL/dy = -dL/dz * x / y^2."""

    @staticmethod
    def forward(ctx, x, y):
        return x.data / y.data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.inputs
        dx = reduce_to(grad / y, x) if ctx.needs_input_grad[0] else None
        dy = reduce_to(-grad * x / (y * y), y) if ctx.needs_input_grad[1] else None
        return dx, dy


class Neg(Function):
    """z = -x.   dL/dx = -dL/dz."""

    @staticmethod
    def forward(ctx, x):
        return -x.data

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """z = x ** y.   dL/dx = dL/dz * y * x^(y-1),  dL/dy = dL/dz * z * log(x)
    (the second only where it is asked for: log(x) needs x > 0)."""

    @staticmethod
    def forward(ctx, x, y):
        return x.data ** y.data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.inputs
        dx = reduce_to(grad * y * x ** (y - 1), x) if ctx.needs_input_grad[0] else None
        dy = reduce_to(grad * x ** y * x.log(), y) if ctx.needs_input_grad[1] else None
        return dx, dy
