"""Instance Normalization (Ulyanov, Vedaldi & Lempitsky, 2016) as one fused op.

For x of shape (N, C, *S) every (sample, channel) is normalised on its own over
its m = prod(S) spatial values (the instance layout of ops/normalization.py):

    y[n, c] = gamma_c * (x[n, c] - mu[n, c]) / sqrt(var[n, c] + eps) + beta_c.

gamma is one number per group, so the backward pass is BatchNorm's closed
form within each (sample, channel).  Running statistics, when given, follow
PyTorch: the batch's statistic of channel c is the average over the samples of
the per-instance ones, the variance unbiased within each instance,

    running_mean = (1 - momentum) running_mean + momentum * mean_n mu[n, c]
    running_var  = (1 - momentum) running_var  + momentum * mean_n var[n, c] m/(m - 1)
"""
from ..autograd import Function, _check_finite, _GradMode
from .batch_norm import update_running_stats
from .normalization import instance_layout, normalize_affine, normalize_affine_backward


class InstanceNorm(Function):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta per (sample, channel) (module
    docstring); ``running_mean`` and ``running_var`` (Tensors or None) are updated in
    place, after the anomaly check of ``tg.detect_anomaly()`` when it is on."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        layout = instance_layout(x._data.shape)
        y, means, variances = normalize_affine(ctx, x, weight, bias, layout, eps)
        if _GradMode.anomaly:
            _check_finite(ctx, (means, variances, y), "forward")
        channels = x.shape[1]
        update_running_stats(running_mean, running_var, means.reshape(-1, channels).mean(axis=0),
                             variances.reshape(-1, channels).mean(axis=0), layout.group_size, momentum)
        return y

    @staticmethod
    def backward(ctx, grad):
        return normalize_affine_backward(ctx, grad) + (None, None, None, None)
