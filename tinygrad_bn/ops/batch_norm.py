"""Batch Normalization in training mode as one fused op (Ioffe & Szegedy, 2015, Algorithm 1).

For an input of shape (N, C), (N, C, L) or (N, C, H, W) every channel c is
normalised over its m values along every axis but the channel axis 1: m = N,
N * L, or N * H * W for a feature map (section 3.2 of the paper):

    mu      = (1/m) sum_i x_i
    var     = (1/m) sum_i (x_i - mu)^2            (biased: the batch's own spread)
    sigma   = sqrt(var + eps)
    x_hat_i = (x_i - mu) / sigma
    y_i     = gamma * x_hat_i + beta              (gamma = 1, beta = 0 without affine)

Backward, with dL/dy_i = dy_i and dxhat_i = dy_i * gamma (the paper's chain
rule through x_hat, var and mu, summed into one closed form):

    dbeta  = sum_i dy_i
    dgamma = sum_i dy_i * x_hat_i
    dx_i   = 1/(m sigma) * (m dxhat_i - sum_j dxhat_j - x_hat_i sum_j dxhat_j x_hat_j)

Because gamma is constant within a channel, sum_j dxhat_j = gamma * dbeta and
sum_j dxhat_j x_hat_j = gamma * dgamma, so

    dx_i   = gamma/(m sigma) * (m dy_i - dbeta - x_hat_i * dgamma)
           = gamma/sigma * (dy_i - dbeta/m - x_hat_i * dgamma/m)     (as computed).

The derivation is in docs/batchnorm.md; the composed reference it is tested
against is tinygrad_bn/nn/batchnorm_reference.py.  The arithmetic is the shared
normalization core of ops/normalization.py, in its batch layout (one group per
channel); this file adds the running statistics.
"""
from ..autograd import Function, _check_finite, _GradMode
from .normalization import batch_layout, normalize_affine, normalize_affine_backward


def channel_shape(x):
    """The shape that broadcasts a per-channel vector against x: (1, C), (1, C, 1), (1, C, 1, 1), ..."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def reduction_axes(x):
    """The axes a channel's statistics run over: every axis but the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def update_running_stats(running_mean, running_var, mean, var, m, momentum):
    """running = (1 - momentum) * running + momentum * statistic, in place, for the
    per-channel mean and the unbiased variance var * m/(m - 1), var being the biased
    variance of m values; either buffer may be None."""
    if running_mean is not None:
        running_mean._data *= 1 - momentum
        running_mean._data += momentum * mean
    if running_var is not None:
        running_var._data *= 1 - momentum
        running_var._data += (momentum * m / (m - 1)) * var


class BatchNorm(Function):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta with the batch's own statistics
    (formulas in the module docstring).

    ``running_mean`` and ``running_var`` (Tensors or None) are updated in place,
    as ``torch.batch_norm`` does, with ``momentum`` as the averaging factor:
    running = (1 - momentum) * running + momentum * batch, where the batch
    variance stored is the unbiased one, var * m / (m - 1).  Under
    ``tg.detect_anomaly()`` a NaN or Inf in the batch statistics or the output
    raises before that update, so the running statistics stay as they were.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        layout = batch_layout(x._data.shape)
        y, mean, var = normalize_affine(ctx, x, weight, bias, layout, eps)
        if _GradMode.anomaly:
            _check_finite(ctx, (mean, var, y), "forward")
        update_running_stats(running_mean, running_var, mean.reshape(-1), var.reshape(-1), layout.group_size,
                             momentum)
        return y

    @staticmethod
    def backward(ctx, grad):
        # x_hat and 1/sigma saved as arrays, or recomputed from x with recorded ops
        # under create_graph (ops/normalization.py), so that dx is differentiable again
        return normalize_affine_backward(ctx, grad) + (None, None, None, None)
