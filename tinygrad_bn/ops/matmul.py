"""Matrix product with NumPy's rules: 1-D, 2-D and batched (broadcast) operands."""
from ..autograd import Function
from .shape import reduce_to


class MatMul(Function):
    """Z = X @ Y.   dL/dX = dL/dZ @ Y^T,  dL/dY = X^T @ dL/dZ.

    A 1-D X is a row (1, k) and a 1-D Y a column (k, 1), as in NumPy; batch
    axes broadcast, and each gradient is summed back over the batch axes its
    input did not have.
    """

    @staticmethod
    def forward(ctx, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands, got shapes {tuple(x.shape)} and {tuple(y.shape)}")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(f"matmul shape mismatch: {tuple(x.shape)} @ {tuple(y.shape)}")
        if x.dtype != y.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {x.dtype} != {y.dtype}")
        ctx.save_for_backward(x, y)
        return x.xp.matmul(x._data, y._data)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        x2 = x if x.ndim > 1 else x.reshape((1,) + x.shape)
        y2 = y if y.ndim > 1 else y.reshape(y.shape + (1,))
        if x.ndim == 1:
            grad = grad.unsqueeze(-2 if y.ndim > 1 else 0)
        if y.ndim == 1:
            grad = grad.unsqueeze(-1)
        dx = dy = None
        if ctx.needs_input_grad[0]:
            dx = reduce_to(grad @ y2.transpose(-1, -2), x2).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            dy = reduce_to(x2.transpose(-1, -2) @ grad, y2).reshape(y.shape)
        return dx, dy
