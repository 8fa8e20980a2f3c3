"""Embedding lookup: for each integer index, that row of a table."""
from ..autograd import Function
from ..tensor import Tensor
from .shape import IndexAdd


class Embedding(Function):
    """y[..., :] = W[i[...], :] for a table W of shape (num_embeddings, dim) and an
    integer index array i of any shape; y has shape i.shape + (dim,).

    dL/dW is zeros with each row dL/dy[...] added to row i[...] of the table (an
    index that appears k times collects k rows); the ``padding_idx`` row collects
    none, and with ``scale_grad_by_freq`` each row is divided by the number of
    times its index appears in i (PyTorch's definitions).  The scatter is
    IndexAdd, so the gradient differentiates again; i gets no gradient.
    """

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        return weight._data[indices._data]

    @staticmethod
    def backward(ctx, grad):
        weight, indices, padding_idx, scale_grad_by_freq = ctx.inputs
        index, xp = indices._data, indices.xp
        factor = None                                  # per looked-up row: what its gradient is multiplied by
        if scale_grad_by_freq:
            counts = xp.bincount(index.ravel(), minlength=weight.shape[0])
            factor = 1 / counts[index]
        if padding_idx is not None:
            kept = index != padding_idx
            factor = kept if factor is None else factor * kept
        if factor is not None:
            grad = grad * Tensor.wrap(factor.astype(grad.dtype)[..., None], grad.device)
        return IndexAdd.apply(grad, index, weight.shape), None, None, None
