"""Batch Normalization composed from primitive ops: the reference the fused op is tested against.

This is Algorithm 1 of Ioffe & Szegedy written the way it reads, with the
statistics of each channel over every axis but the channel axis 1 (axis 0,
axis 2 of (N, C, L), axes 2 and 3 of (N, C, H, W)):

    mu    = mean(x)
    var   = var(x, correction=0)          (biased)
    x_hat = (x - mu) / sqrt(var + eps)
    y     = gamma * x_hat + beta

Nothing here knows a derivative: autograd differentiates it through mean,
var, sqrt and div, each checked on its own.  The fused ``BatchNorm`` op
(tinygrad_bn/ops/batch_norm.py) must give the same output and the same
gradients (tests/test_batchnorm_grad.py); it is what the layers use, being
one node instead of eight and several times cheaper.
"""
from ..ops.batch_norm import channel_shape, reduction_axes


def batch_norm_composed(x, weight=None, bias=None, eps=1e-5):
    """Training-mode Batch Normalization of x, (N, C, *), built from primitive Tensor ops."""
    axes = reduction_axes(x)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, correction=0)
    x_hat = (x - mean) / (var + eps).sqrt()
    shape = channel_shape(x)
    y = x_hat if weight is None else x_hat * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)
