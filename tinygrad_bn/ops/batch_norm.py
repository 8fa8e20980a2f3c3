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
against is tinygrad_bn/nn/batchnorm_reference.py.
"""
import math

from ..autograd import Function, _check_finite, _GradMode, is_grad_enabled
from ..tensor import Tensor


def channel_shape(x):
    """The shape that broadcasts a per-channel vector against x: (1, C), (1, C, 1), (1, C, 1, 1), ..."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def reduction_axes(x):
    """The axes a channel's statistics run over: every axis but the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def normalize(x, axes, eps):
    """(x_hat, 1/sigma, mu, var) per channel (biased var; statistics keep size-1 axes).
    x may be an array or a Tensor: the same arithmetic serves the fast forward
    and the recorded recomputation of the double backward."""
    m = math.prod(x.shape) // x.shape[1]
    mean = x.sum(axis=axes, keepdims=True) * (1 / m)
    centered = x - mean
    var = (centered * centered).sum(axis=axes, keepdims=True) * (1 / m)
    inv_sigma = (var + eps) ** -0.5
    return centered * inv_sigma, inv_sigma, mean, var


def normalize_backward(dy, x_hat, inv_sigma, gamma, axes, m):
    """(dx, dgamma, dbeta) of the closed form above (dgamma, dbeta of shape (C,));
    arrays or Tensors alike.  ``gamma`` is None without affine (gamma = 1)."""
    dbeta = dy.sum(axis=axes, keepdims=True)
    dgamma = (dy * x_hat).sum(axis=axes, keepdims=True)
    scale = inv_sigma if gamma is None else gamma * inv_sigma
    dx = (dy - x_hat * (dgamma * (1 / m)) - dbeta * (1 / m)) * scale
    return dx, dgamma.reshape(-1), dbeta.reshape(-1)


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
        data = x.data
        axes, shape = reduction_axes(data), channel_shape(data)
        m = data.size // data.shape[1]
        x_hat, inv_sigma, mean, var = normalize(data, axes, eps)
        y = x_hat * weight.data.reshape(shape) if weight is not None else x_hat.copy()
        if bias is not None:
            y += bias.data.reshape(shape)
        if _GradMode.anomaly:
            _check_finite(ctx, (mean, var, y), "forward")
        if running_mean is not None:
            running_mean.data *= 1 - momentum
            running_mean.data += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var.data *= 1 - momentum
            running_var.data += (momentum * m / (m - 1)) * var.reshape(-1)
        ctx.axes, ctx.shape, ctx.m, ctx.eps = axes, shape, m, eps
        ctx.save_for_backward(x, weight, x_hat, inv_sigma)   # x_hat, 1/sigma: arrays for the fast path
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, x_hat, inv_sigma = ctx.saved_tensors
        if is_grad_enabled():
            # create_graph: recompute x_hat from x with recorded ops, so the
            # gradient below is itself differentiable with respect to x, gamma and dy
            x_hat, inv_sigma, _, _ = normalize(x, ctx.axes, ctx.eps)
            gamma = None if weight is None else weight.reshape(ctx.shape)
            dx, dgamma, dbeta = normalize_backward(grad, x_hat, inv_sigma, gamma, ctx.axes, ctx.m)
        else:
            # the usual path: array arithmetic on the saved x_hat and 1/sigma
            gamma = None if weight is None else weight.data.reshape(ctx.shape)
            arrays = normalize_backward(grad.data, x_hat, inv_sigma, gamma, ctx.axes, ctx.m)
            dx, dgamma, dbeta = (Tensor.wrap(a, x.device) for a in arrays)
        # (the engine drops the gradients of inputs that need none)
        return dx, dgamma, dbeta, None, None, None, None
