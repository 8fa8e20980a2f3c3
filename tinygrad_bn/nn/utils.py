"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both change the ``.grad`` of the given parameters in place (parameters without a
gradient are skipped) and leave the parameters themselves alone; an optimizer
step follows.  For gradients g_1 ... g_k and q = ``norm_type``:

    total  = ||(||g_1||_q, ..., ||g_k||_q)||_q        (the q-norm of all entries at once;
                                                       q = inf: the largest |entry|)
    g_i   <- g_i * min(1, max_norm / (total + 1e-6))   (clip_grad_norm_)
    g_i   <- clamp(g_i, -clip_value, clip_value)       (clip_grad_value_)

The 1e-6 is PyTorch's: it keeps the scale finite for zero gradients and brings
the norm to just under ``max_norm``.
"""
import math

import numpy

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor


def _gradients(parameters):
    """The ``.grad`` Tensors of ``parameters`` (one Tensor or an iterable of them) that have one."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients so that their total ``norm_type``-norm is at most ``max_norm``;
    returns the total norm before clipping, a 0-d Tensor (0 when no parameter has a
    gradient).  ``error_if_nonfinite=True`` raises instead of scaling by a NaN or
    infinite norm.  (``foreach`` is accepted, as PyTorch's; it changes nothing.)"""
    q = float(norm_type)
    grads = _gradients(parameters)
    if not grads:
        return Tensor.wrap(backend.xp_of(backend.get_default_device()).zeros((), numpy.float32))
    xp = grads[0].xp
    if q == math.inf:
        norms = [xp.abs(g._data).max() if g._data.size else xp.zeros((), g.dtype) for g in grads]
        total = xp.stack(norms).max()
    else:
        norms = [(xp.abs(g._data) ** q).sum() ** (1 / q) for g in grads]
        total = (xp.stack(norms) ** q).sum() ** (1 / q)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {q} for gradients from `parameters` is non-finite, so it "
                           f"cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           f"norm anyway, set `error_if_nonfinite=False`")
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g.mul_(Tensor.wrap(scale.astype(g.dtype), g.device))
    return Tensor.wrap(total, grads[0].device)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry to [-clip_value, clip_value]; returns None."""
    with no_grad():
        for g in _gradients(parameters):
            g.clamp_(-clip_value, clip_value)
