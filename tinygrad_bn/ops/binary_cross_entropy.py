"""Binary cross entropy of probabilities as a fused op (``F.binary_cross_entropy``), as PyTorch defines it.

For probabilities p in [0, 1] and targets y (the same shape), elementwise:

    l      = -(y log p + (1 - y) log(1 - p)),    each log clamped below at -100
    dl/dp  = (p - y) / max(p (1 - p), 1e-12)     (1e-12 rounded to float32, as PyTorch's constant)
    dl/dy  = log(1 - p) - log p                  (not clamped: +-inf where p is 0 or 1)

The clamps are PyTorch's: they keep l finite where p is exactly 0 or 1, and
dl/dp finite there too, where the composed derivative, y / p - (1 - y) / (1 - p),
would multiply 0 by an infinite 1/p.  (From logits, binary_cross_entropy_with_logits
needs no clamp: it is built from softplus in functional.py.)
"""
import numpy

from .. import backend
from ..autograd import Function

LOG_FLOOR, EPSILON = -100.0, float(numpy.float32(1e-12))


def clamped_log(a):
    """max(log a, -100) for an array a >= 0, without a warning at a = 0."""
    xp = backend.xp_of(backend.device_of(a))
    return xp.maximum(xp.log(xp.maximum(a, numpy.finfo(a.dtype).smallest_subnormal)), LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """l = -(y log p + (1 - y) log(1 - p)) elementwise, the logs clamped (module docstring)."""

    @staticmethod
    def forward(ctx, p, y):
        ctx.save_for_backward(p, y)
        return -(y._data * clamped_log(p._data) + (1 - y._data) * clamped_log(1 - p._data))

    @staticmethod
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        needs_p, needs_y = ctx.needs_input_grad
        dp = grad * (p - y) / (p * (1 - p)).clamp(min=EPSILON) if needs_p else None
        dy = None
        if needs_y:
            with backend.float_errors_ignored():          # log 0 = -inf, as in PyTorch
                dy = grad * ((1 - p).log() - p.log())
        return dp, dy
