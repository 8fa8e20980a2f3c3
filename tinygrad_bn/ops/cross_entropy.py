"""Cross entropy of logits against integer class labels, fused and numerically stable."""
from ..autograd import Function, formula
from ..tensor import Tensor
from .softmax import LogSoftmax

REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    """loss_n = -log softmax(z_n)[t_n] = logsumexp(z_n) - z_n[t_n], for logits z of
    shape (N, C) and labels t of shape (N,); reduced by mean (over N), sum or none.

    dL/dz_n = g_n (softmax(z_n) - onehot(t_n)), with g_n the upstream gradient of
    loss_n (g / N for the mean).  The log-softmax is computed once, stably (see
    LogSoftmax), and kept as a node of the graph, so the softmax e^logp that
    backward uses is differentiable again (double backward).
    """

    @staticmethod
    def forward(ctx, logits, target, reduction):
        _check(logits, target, reduction)
        logp = LogSoftmax.apply(logits, 1)
        rows = logits.xp.arange(logits.shape[0])
        nll = -logp.data[rows, target.data]
        ctx.save_for_backward(logp, target)
        ctx.rows = rows
        if reduction == "mean":
            return nll.mean()
        return nll.sum() if reduction == "sum" else nll

    @staticmethod
    def backward(ctx, grad):
        logits, reduction = ctx.inputs[0], ctx.inputs[2]
        logp, target = ctx.saved_tensors
        onehot = logits.xp.zeros(logits.shape, dtype=logits.dtype)
        onehot[ctx.rows, target.data] = 1
        scale = 1 / logits.shape[0] if reduction == "mean" else 1

        def dlogits(probabilities, onehot, g):
            g = g.reshape(-1, 1) if reduction == "none" else g * scale
            return (probabilities - onehot) * g

        probabilities = logp.exp()
        return formula(dlogits, probabilities, Tensor.wrap(onehot, logits.device), grad), None, None


def _check(logits, target, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    if logits.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got {logits.dtype}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices (int64), got {target.dtype}")
    if target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: target of shape {target.shape} does not match logits of shape "
                         f"{logits.shape}: expected ({logits.shape[0]},)")
    classes = logits.shape[1]
    bad = (target.data < 0) | (target.data >= classes)
    if bool(bad.any()):
        index = int(target.data[bad][0])
        raise IndexError(f"cross_entropy: target {index} is out of bounds: class indices must be in "
                         f"[0, {classes}) for C = {classes} classes")
