"""Batch Renormalization in training mode as one fused op (Ioffe, 2017, Algorithm 1).

Per channel, with the batch's mean mu_B and sigma_B = sqrt(var_B + eps) (biased
var_B, as BatchNorm), and the running statistics mu = running_mean,
sigma = sqrt(running_var + eps) from before this batch:

    r       = clip(sigma_B / sigma, 1/rmax, rmax)       treated as constants:
    d       = clip((mu_B - mu) / sigma, -dmax, dmax)    no gradient flows through them
    x_hat_i = (x_i - mu_B) / sigma_B                    (BatchNorm's)
    y_i     = gamma * (r x_hat_i + d) + beta  =  (gamma r) x_hat_i + (beta + gamma d)

Unclipped, r x_hat_i + d = (x_i - mu) / sigma: the output is the eval-mode
output, whatever else is in the batch.  Because r and d are constants, y is
BatchNorm with the affine parameters gamma' = gamma r and beta' = beta + gamma d,
and so is its backward: with BatchNorm's closed form for gamma',

    dx_i   = gamma r / sigma_B * (dy_i - dbeta/m - x_hat_i * dgamma'/m)
    dgamma = r * dgamma' + d * dbeta,   dgamma' = sum_i dy_i x_hat_i,   dbeta = sum_i dy_i.

rmax = 1, dmax = 0 give r = 1, d = 0: BatchNorm.  The running statistics are
then updated as BatchNorm's (ops/batch_norm.py).  The derivation, and why r and
d must be constants, is in docs/normalization.md.
"""
from ..autograd import Function, _check_finite, _GradMode
from ..tensor import Tensor
from .batch_norm import update_running_stats
from .normalization import backward_operands, batch_layout, input_gradients, normalize, normalize_backward


def renorm_correction(mean, inv_sigma, running_mean, running_var, eps, rmax, dmax, xp):
    """(r, d) per channel, shaped like the batch statistics (module docstring)."""
    sigma = xp.sqrt(running_var + eps)
    r = xp.clip(1 / (inv_sigma * sigma), 1 / rmax, rmax)
    d = xp.clip((mean - running_mean) / sigma, -dmax, dmax)
    return r, d


class BatchRenorm(Function):
    """y = gamma (r x_hat + d) + beta with r, d from the running statistics (module
    docstring), which are then updated in place as BatchNorm's.  Under
    ``tg.detect_anomaly()`` a NaN or Inf in the batch statistics or the output
    raises before that update."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps, rmax, dmax):
        layout = batch_layout(x._data.shape)
        x_hat, inv_sigma, mean, var = normalize(x._data.reshape(layout.view), layout, eps)
        r, d = renorm_correction(mean, inv_sigma, running_mean._data.reshape(layout.affine),
                                 running_var._data.reshape(layout.affine), eps, rmax, dmax, x.xp)
        gamma = 1 if weight is None else weight._data.reshape(layout.affine)
        shift = gamma * d if bias is None else gamma * d + bias._data.reshape(layout.affine)
        y = x_hat * (gamma * r) + shift              # (gamma r) x_hat + (beta + gamma d), per channel
        if _GradMode.anomaly:
            _check_finite(ctx, (mean, var, y), "forward")
        update_running_stats(running_mean, running_var, mean.reshape(-1), var.reshape(-1), layout.group_size,
                             momentum)
        ctx.layout, ctx.eps, ctx.r, ctx.d = layout, eps, r, d
        ctx.save_for_backward(x, weight, x_hat, inv_sigma)
        return y.reshape(x._data.shape)

    @staticmethod
    def backward(ctx, grad):
        dy, x_hat, inv_sigma, gamma = backward_operands(ctx, grad)
        r, d = ctx.r, ctx.d
        if isinstance(dy, Tensor):                 # create_graph: r and d enter as constants
            r, d = Tensor.wrap(r, dy.device), Tensor.wrap(d, dy.device)
        dx, dgamma_r, dbeta = normalize_backward(dy, x_hat, inv_sigma, r if gamma is None else gamma * r, ctx.layout)
        return input_gradients(ctx, dx, dgamma_r * r + dbeta * d, dbeta) + (None,) * 6
