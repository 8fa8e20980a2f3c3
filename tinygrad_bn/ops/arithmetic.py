"""The four arithmetic operations, negation and power.

Binary ops broadcast like NumPy.  Their backward passes return the gradient
formulas at the broadcast (output) shape; the engine sums each one back to its
input's shape (``reduce_to``), as PyTorch's engine does.
"""
from ..autograd import Function


class Add(Function):
    """z = x + y.   dL/dx = dL/dz,  dL/dy = dL/dz."""

    @staticmethod
    def forward(ctx, x, y):
        return x._data + y._data

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """z = x - y.   dL/dx = dL/dz,  dL/dy = -dL/dz."""

    @staticmethod
    def forward(ctx, x, y):
        return x._data - y._data

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y.   dL/dx = dL/dz * y,  dL/dy = dL/dz * x."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x._data * y._data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = grad * y if ctx.needs_input_grad[0] else None
        dy = grad * x if ctx.needs_input_grad[1] else None
        return dx, dy


class Div(Function):
    """z = x / y.   dL/dx = dL/dz / y,  dL/dy = -dL/dz * x / y^2.

    True division of two integer tensors gives float32, PyTorch's default dtype.
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        z = x._data / y._data
        return z if x.dtype.kind == "f" or y.dtype.kind == "f" else z.astype("float32")

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = grad / y if ctx.needs_input_grad[0] else None
        dy = -grad * x / (y * y) if ctx.needs_input_grad[1] else None
        return dx, dy


class Neg(Function):
    """z = -x.   dL/dx = -dL/dz."""

    @staticmethod
    def forward(ctx, x):
        return -x._data

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """z = x ** y.   dL/dx = dL/dz * y * x^(y-1),  dL/dy = dL/dz * z * log(x)
    (the second only where it is asked for: log(x) needs x > 0)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x._data ** y._data

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        dx = grad * y * x ** (y - 1) if ctx.needs_input_grad[0] else None
        dy = grad * x ** y * x.log() if ctx.needs_input_grad[1] else None
        return dx, dy
