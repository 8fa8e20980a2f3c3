"""Normalization over some axes: the one computation behind BatchNorm, ghost batches,
InstanceNorm, GroupNorm and LayerNorm.

Every member of the family views its input x in some shape (a reshape, no copy),
splits the axes of that view into the axes one group's statistics run over and
the axes that tell the groups apart, and normalises every group of m values on
its own:

    mu      = (1/m) sum_i x_i
    var     = (1/m) sum_i (x_i - mu)^2            (biased: the group's own spread)
    x_hat_i = (x_i - mu) / sqrt(var + eps)
    y_i     = gamma_i * x_hat_i + beta_i

with gamma and beta broadcast from their own shape.  For x of shape (N, C, *S),
S the spatial axes (none for (N, C)), viewed with the spatial axes as one of
size L = prod S (left out when there are none), and LayerNorm's (*B, *D):

    layout          view of x                 statistics over        gamma, beta
    batch           (N, C, L)                 N and L                per channel (1, C, 1)
    ghost, k        (k, N/k, C, L)            N/k and L              per channel (1, 1, C, 1)
    instance        (N, C, L)                 L                      per channel (1, C, 1)
    group, G        (N, G, C/G, L)            C/G and L              per channel (1, G, C/G, 1)
    layer, D        (prod B, prod D)          prod D                 per element (1, prod D)

One axis for what runs together in memory is also what NumPy reduces fastest.

Backward.  Within one group the derivation of docs/batchnorm.md holds as it is:
with dxhat_i = gamma_i dy_i and sigma = sqrt(var + eps),

    dx_i   = 1/sigma * (dxhat_i - mean_j dxhat_j - x_hat_i mean_j dxhat_j x_hat_j)
    dgamma = sum of dy * x_hat over the axes gamma is shared along
    dbeta  = sum of dy over the same axes.

When gamma is one number per group (batch, ghost and instance layouts), it
factors out of the two group means, and the group sums of dy and dy x_hat serve
dx, dgamma and dbeta alike (BatchNorm's closed form, ops/batch_norm.py):

    dx_i = gamma/sigma * (dy_i - mean_j dy_j - x_hat_i mean_j dy_j x_hat_j).

Otherwise (LayerNorm's per-element gamma, GroupNorm's per-channel gamma in a
group of several channels) dxhat = gamma dy is formed first.
"""
import math
from functools import lru_cache
from typing import NamedTuple

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor


class Layout(NamedTuple):
    """How a normalization groups its input: x is viewed in shape ``view``, each group's
    statistics run over ``axes`` of that view, and gamma and beta are viewed in shape
    ``affine``: size 1 along the ``shared_axes`` they are shared along, so that dgamma
    and dbeta are sums over those.  The rest follows from these three, computed once:
    ``group_size`` m, the number of values in a group; ``gamma_per_group``, whether
    gamma is one number per group (shared along all the statistics axes); and
    ``across_groups``, the shared axes that are not statistics axes."""
    view: tuple
    axes: tuple
    affine: tuple
    shared_axes: tuple
    group_size: int
    gamma_per_group: bool
    across_groups: tuple


def _layout(view, axes, affine):
    shared = tuple(a for a, n in enumerate(affine) if n == 1)
    return Layout(view, axes, affine, shared, math.prod(view[a] for a in axes), all(a in shared for a in axes),
                  tuple(a for a in shared if a not in axes))


# The layouts of the table above, each computed once per input shape.
def _flat(shape):
    """(N, C, L) for (N, C, *S), L = prod S; (N, C) as it is."""
    return shape[:2] + ((math.prod(shape[2:]),) if len(shape) > 2 else ())


@lru_cache(maxsize=256)
def batch_layout(shape):
    """BatchNorm: one group per channel, over the batch and the spatial axes."""
    view = _flat(shape)
    return _layout(view, (0,) + tuple(range(2, len(view))), (1, shape[1]) + (1,) * (len(view) - 2))


@lru_cache(maxsize=256)
def ghost_layout(shape, ghosts):
    """Ghost batches: BatchNorm within each of ``ghosts`` consecutive slices of the batch."""
    view = (ghosts, shape[0] // ghosts) + _flat(shape)[1:]
    return _layout(view, (1,) + tuple(range(3, len(view))), (1, 1, shape[1]) + (1,) * (len(view) - 3))


@lru_cache(maxsize=256)
def instance_layout(shape):
    """InstanceNorm: one group per sample and channel, over the spatial axes."""
    view = _flat(shape)
    return _layout(view, tuple(range(2, len(view))), (1, shape[1]) + (1,) * (len(view) - 2))


@lru_cache(maxsize=256)
def group_layout(shape, groups):
    """GroupNorm: one group per sample and group of C/G consecutive channels."""
    batch, channels = shape[0], shape[1]
    view = (batch, groups, channels // groups) + _flat(shape)[2:]
    return _layout(view, tuple(range(2, len(view))), (1, groups, channels // groups) + (1,) * (len(view) - 3))


@lru_cache(maxsize=256)
def layer_layout(shape, normalized_ndim):
    """LayerNorm: one group per sample, over the last ``normalized_ndim`` axes."""
    lead = len(shape) - normalized_ndim
    features = math.prod(shape[lead:])
    return _layout((math.prod(shape[:lead]), features), (1,), (1, features))


def normalize(x, layout, eps):
    """(x_hat, 1/sigma, mu, var) per group of ``layout`` for x in its view (biased var;
    statistics keep size-1 axes).  x may be an array or a Tensor: the same arithmetic
    serves the fast forward and the recorded recomputation of the double backward."""
    axes, m = layout.axes, layout.group_size
    mean = x.sum(axis=axes, keepdims=True) * (1 / m)
    centered = x - mean
    var = (centered * centered).sum(axis=axes, keepdims=True) * (1 / m)
    inv_sigma = (var + eps) ** -0.5
    return centered * inv_sigma, inv_sigma, mean, var


def normalize_backward(dy, x_hat, inv_sigma, gamma, layout):
    """(dx, dgamma, dbeta) of y = gamma x_hat + beta (module docstring), arrays or
    Tensors alike, all in the view's layout: dgamma and dbeta are summed over the
    axes gamma is shared along, with size-1 axes kept.  ``gamma`` (in the layout's
    affine shape) is None without affine (gamma = 1)."""
    axes, m, per_group = layout.axes, layout.group_size, layout.gamma_per_group or gamma is None
    if per_group:                            # gamma factors out of the group sums
        g, scale = dy, (inv_sigma if gamma is None else gamma * inv_sigma)
    else:                                    # dxhat = gamma dy first
        g, scale = dy * gamma, inv_sigma
    g_sum = g.sum(axis=axes, keepdims=True)
    g_xhat_sum = (g * x_hat).sum(axis=axes, keepdims=True)
    dx = (g - x_hat * (g_xhat_sum * (1 / m)) - g_sum * (1 / m)) * scale
    if not per_group:
        return dx, (dy * x_hat).sum(axis=layout.shared_axes, keepdims=True), dy.sum(axis=layout.shared_axes,
                                                                                     keepdims=True)
    rest = layout.across_groups              # the group sums of dy x_hat and dy are dgamma and dbeta per group
    if not rest:
        return dx, g_xhat_sum, g_sum
    return dx, g_xhat_sum.sum(axis=rest, keepdims=True), g_sum.sum(axis=rest, keepdims=True)


# ------------------------------------------------------------------ the fused op's two halves
def normalize_affine(ctx, x, weight, bias, layout, eps):
    """The forward pass of a fused normalization: (y, mu, var), y = gamma x_hat + beta
    as an array of x's shape, mu and var per group in the view's layout.  Saves on
    ``ctx`` what ``normalize_affine_backward`` needs."""
    data = x._data
    reshaped = data.shape != layout.view
    if reshaped:
        data = data.reshape(layout.view)
    x_hat, inv_sigma, mean, var = normalize(data, layout, eps)
    y = x_hat * weight._data.reshape(layout.affine) if weight is not None else x_hat.copy()
    if bias is not None:
        y += bias._data.reshape(layout.affine)
    ctx.layout, ctx.eps = layout, eps
    ctx.save_for_backward(x, weight, x_hat, inv_sigma)   # x_hat, 1/sigma: arrays for the fast path
    return (y.reshape(x._data.shape) if reshaped else y), mean, var


def backward_operands(ctx, grad):
    """What a fused normalization's backward computes with: (dy, x_hat, 1/sigma, gamma)
    in the view's layout, gamma None without affine.  Normally the saved arrays; under
    create_graph Tensors, with x_hat and 1/sigma recomputed from x by recorded ops, so
    that the gradient is itself differentiable in x, gamma and dy."""
    x, weight, x_hat, inv_sigma = ctx.saved_tensors
    layout = ctx.layout
    if is_grad_enabled():
        x_hat, inv_sigma, _, _ = normalize(x.reshape(layout.view), layout, ctx.eps)
        gamma = None if weight is None else weight.reshape(layout.affine)
        return grad.reshape(layout.view), x_hat, inv_sigma, gamma
    gamma = None if weight is None else weight._data.reshape(layout.affine)
    dy = grad._data
    return (dy if dy.shape == layout.view else dy.reshape(layout.view)), x_hat, inv_sigma, gamma


def input_gradients(ctx, dx, dgamma, dbeta):
    """(dx, dweight, dbias) shaped as x, weight and bias, the op's first three arguments
    (Tensors; None for an absent weight or bias), from the view's layout."""
    x, weight, bias = ctx.inputs[:3]
    if dx.shape != x._data.shape:
        dx = dx.reshape(x._data.shape)
    dgamma = None if weight is None else dgamma.reshape(weight._data.shape)
    dbeta = None if bias is None else dbeta.reshape(bias._data.shape)
    if isinstance(dx, Tensor):
        return dx, dgamma, dbeta
    device = x.device
    return (Tensor.wrap(dx, device), None if dgamma is None else Tensor.wrap(dgamma, device),
            None if dbeta is None else Tensor.wrap(dbeta, device))


def normalize_affine_backward(ctx, grad):
    """(dx, dweight, dbias) of ``normalize_affine`` for upstream gradient ``grad``."""
    return input_gradients(ctx, *normalize_backward(*backward_operands(ctx, grad), ctx.layout))


class Normalize(Function):
    """y = gamma * x_hat + beta, x normalised in the groups ``layout`` describes (module
    docstring); the fused op of F.layer_norm and F.group_norm, which keep no running
    statistics.  ``weight`` and ``bias`` (Tensors or None) have the layer's own shape."""

    @staticmethod
    def forward(ctx, x, weight, bias, layout, eps):
        return normalize_affine(ctx, x, weight, bias, layout, eps)[0]

    @staticmethod
    def backward(ctx, grad):
        return normalize_affine_backward(ctx, grad) + (None, None)
