"""The normalization family composed from primitive ops: the references the fused ops are tested against.

Each function is its layer's definition written the way it reads, with mean,
var(correction=0), sqrt and div, differentiated by autograd; none shares the
layouts of ops/normalization.py, so a wrong grouping there shows up as a
difference here.  The fused ops (F.layer_norm, F.group_norm, F.instance_norm,
F.batch_renorm, F.ghost_batch_norm) must give the same outputs and the same
first and second derivatives (tests/test_normalization_grad.py).
"""
from ..ops.shape import concatenate
from .batchnorm_reference import batch_norm_composed


def _standardize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, correction=0)
    return (x - mean) / (var + eps).sqrt()


def _affine(x_hat, weight, bias, shape):
    y = x_hat if weight is None else x_hat * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _per_channel(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def layer_norm_composed(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Each sample standardised over its last len(normalized_shape) axes; weight, bias per element."""
    k = len(normalized_shape)
    return _affine(_standardize(x, tuple(range(x.ndim - k, x.ndim)), eps), weight, bias, tuple(normalized_shape))


def instance_norm_composed(x, weight=None, bias=None, eps=1e-5):
    """Each (sample, channel) of x, (N, C, *S), standardised over S; weight, bias per channel."""
    return _affine(_standardize(x, tuple(range(2, x.ndim)), eps), weight, bias, _per_channel(x))


def group_norm_composed(x, num_groups, weight=None, bias=None, eps=1e-5):
    """x, (N, C, *S), as (N, G, rest): each row of C/G channels standardised; weight, bias per channel."""
    groups = x.reshape(x.shape[0], num_groups, -1)
    return _affine(_standardize(groups, (2,), eps).reshape(x.shape), weight, bias, _per_channel(x))


def ghost_batch_norm_composed(x, virtual_batch_size, weight=None, bias=None, eps=1e-5):
    """BatchNorm of each slice of ``virtual_batch_size`` samples on its own, joined again."""
    return concatenate([batch_norm_composed(ghost, weight, bias, eps) for ghost in x.split(virtual_batch_size)])


def batch_renorm_composed(x, running_mean, running_var, weight=None, bias=None, eps=1e-5, rmax=3.0, dmax=5.0):
    """Algorithm 1 of Ioffe (2017) in training: x_hat r + d, r and d detached (stop_gradient)."""
    axes, shape = (0,) + tuple(range(2, x.ndim)), _per_channel(x)
    mean = x.mean(axis=axes, keepdims=True)
    sigma_batch = (x.var(axis=axes, keepdims=True, correction=0) + eps).sqrt()
    sigma = (running_var.reshape(shape) + eps).sqrt()
    r = (sigma_batch / sigma).detach().clamp(1 / rmax, rmax)
    d = ((mean - running_mean.reshape(shape)) / sigma).detach().clamp(-dmax, dmax)
    return _affine((x - mean) / sigma_batch * r + d, weight, bias, shape)
