"""The fully connected layer as one op: y = x W^T + b."""
from ..autograd import Function, formula


class Linear(Function):
    """y = x W^T + b, with x of shape (..., in), W of shape (out, in), b of shape (out,).

    One matrix product forward.  Backward, with g = dL/dy and the leading axes
    of x flattened into rows (X of shape (M, in), G of shape (M, out)):

        dL/dx = g W           (..., out) @ (out, in)
        dL/dW = G^T X         (out, M) @ (M, in)
        dL/db = sum of G over the rows

    Each product is computed only for an input that requires a gradient.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        x_shape, w_shape = x._data.shape, weight._data.shape
        if len(w_shape) != 2:
            raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w_shape}")
        if not x_shape or x_shape[-1] != w_shape[1]:
            raise ValueError(f"linear: input of shape {x_shape} has {x_shape[-1] if x_shape else 0} features, "
                             f"weight of shape {w_shape} expects {w_shape[1]}")
        dtype = x._data.dtype
        if weight._data.dtype != dtype:
            raise RuntimeError(f"linear(): input and weight must have the same dtype, but got {dtype} "
                               f"and {weight._data.dtype}")
        if bias is not None:
            if bias._data.shape != w_shape[:1]:
                raise ValueError(f"linear: bias of shape {bias._data.shape} does not match weight of shape "
                                 f"{w_shape}: expected ({w_shape[0]},)")
            if bias._data.dtype != dtype:
                raise RuntimeError(f"linear(): input and bias must have the same dtype, but got {dtype} "
                                   f"and {bias._data.dtype}")
        ctx.save_for_backward(x, weight)
        y = x._data @ weight._data.T
        if bias is not None:
            y += bias._data
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad

        def gradients(grad, x, weight):
            dx = grad @ weight if needs_x else None
            rows = grad if grad.ndim == 2 else grad.reshape(-1, weight.shape[0])
            dw = rows.T @ (x if x.ndim == 2 else x.reshape(-1, weight.shape[1])) if needs_w else None
            db = rows.sum(axis=0) if needs_b else None
            return dx, dw, db

        return formula(gradients, grad, x, weight)
