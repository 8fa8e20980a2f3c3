"""The normalization family beside BatchNorm: LayerNorm, GroupNorm, InstanceNorm1d/2d
(PyTorch's names, arguments, defaults and buffers), Batch Renormalization and ghost
batches (not in PyTorch).

Each normalises groups of its input with the group's mean and biased variance,
x_hat = (x - mu) / sqrt(var + eps), then applies a learned affine map; they differ
in what a group is (ops/normalization.py has the table, docs/normalization.md
the picture):

    LayerNorm       each sample, over its last dims (normalized_shape)
    GroupNorm       each sample and group of C/G channels
    InstanceNorm    each sample and channel, over the spatial axes
    BatchRenorm     each channel, over the batch, corrected towards the running statistics
    GhostBatchNorm  each channel, over each ghost batch of virtual_batch_size samples

The first three do not depend on the other samples of the batch, so they keep no
running statistics and act alike in training and eval (InstanceNorm can keep
them, as in PyTorch).  The last two are BatchNorm variants: running statistics
as BatchNorm1d's, eval mode the same affine map.
"""
import warnings
from dataclasses import dataclass

from .. import functional as F
from .module import Module
from .norm_base import _NormBase, averaging_factors, register_affine, reset_affine


# ------------------------------------------------------------------ LayerNorm, GroupNorm
class LayerNorm(Module):
    """Layer Normalization (Ba, Kiros & Hinton, 2016) over the last dims of the input,
    which must be ``normalized_shape`` (an int or a tuple), as ``torch.nn.LayerNorm``.

    ``elementwise_affine``: a learned ``weight`` (ones) and ``bias`` (zeros) of shape
    normalized_shape, one per normalised element; ``bias=False`` keeps the weight only.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        register_affine(self, shape, elementwise_affine, bias, dtype, device)

    def reset_parameters(self):
        """weight = 1, bias = 0 (in place)."""
        reset_affine(self)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group Normalization (Wu & He, 2018) of (N, C, *) input: ``num_groups`` groups of
    C/num_groups consecutive channels, as ``torch.nn.GroupNorm``; with ``affine`` a
    learned ``weight`` (ones) and ``bias`` (zeros) per channel."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1:
            raise ValueError(f"num_groups must be a positive int, got {num_groups!r}")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        register_affine(self, (num_channels,), affine, bias, dtype, device)

    def reset_parameters(self):
        """weight = 1, bias = 0 (in place)."""
        reset_affine(self)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


# ------------------------------------------------------------------ per-channel layers with running statistics
class _InstanceNorm(_NormBase):
    """InstanceNorm: each (sample, channel) normalised over its spatial values, as PyTorch's.

    Defaults differ from BatchNorm's: no affine map and no running statistics, so
    the layer uses the instance statistics in training and eval alike.  With
    ``track_running_stats=True`` training folds the average over the samples of the
    instance statistics into the running buffers (F.instance_norm), and eval mode
    uses the running statistics instead.  As in PyTorch, ``num_batches_tracked`` is
    kept but never counted, and ``momentum=None`` means a factor of 0: the running
    statistics then never move.  An unbatched input (C, *S) is one sample.  A
    channel count other than num_features is an error with ``affine``, else a
    warning (num_features is then not used)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x):
        self._check_input_dim(x)
        unbatched = x.ndim == self.input_dims[0]
        feature_dim = 0 if unbatched else 1
        if x.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {x.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          f"warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        y = F.instance_norm(x.unsqueeze(0) if unbatched else x, self.running_mean, self.running_var, self.weight,
                            self.bias, self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """InstanceNorm over L of (N, C, L) input, or of one (C, L) sample."""
    input_dims, takes = (2, 3), "(N, C, L) batches or (C, L) samples"


class InstanceNorm2d(_InstanceNorm):
    """InstanceNorm over (H, W) of (N, C, H, W) input, or of one (C, H, W) sample."""
    input_dims, takes = (3, 4), "(N, C, H, W) batches or (C, H, W) samples"


# ------------------------------------------------------------------ Batch Renormalization
@dataclass(frozen=True)
class RenormWarmup:
    """The warm-up of Batch Renormalization's clipping limits used in Ioffe (2017),
    section 4: plain BatchNorm (rmax = 1, dmax = 0) for the first ``bn_steps``
    training steps, "after which these were gradually relaxed" to reach the layer's
    rmax at step ``rmax_steps`` and its dmax at step ``dmax_steps`` (5000, 40000 and
    25000 in the paper; the paper does not say how they were relaxed: here linearly)."""
    bn_steps: int = 5000
    rmax_steps: int = 40000
    dmax_steps: int = 25000

    def __post_init__(self):
        if not 0 <= self.bn_steps < min(self.rmax_steps, self.dmax_steps):
            raise ValueError(f"RenormWarmup: expected 0 <= bn_steps < rmax_steps and bn_steps < dmax_steps, got "
                             f"bn_steps={self.bn_steps}, rmax_steps={self.rmax_steps}, dmax_steps={self.dmax_steps}")

    def limits(self, step, rmax, dmax):
        """(rmax, dmax) at training step ``step`` (0 is the first) for final limits rmax, dmax."""
        def relaxed(end):
            return min(max((step - self.bn_steps) / (end - self.bn_steps), 0.0), 1.0)
        return 1 + (rmax - 1) * relaxed(self.rmax_steps), dmax * relaxed(self.dmax_steps)


class _BatchRenorm(_NormBase):
    """Batch Renormalization (Ioffe, 2017): BatchNorm whose training output is corrected
    towards the running statistics, y = gamma (r x_hat + d) + beta with

        r = clip(sigma_B / sigma, 1/rmax, rmax),   d = clip((mu_B - mu) / sigma, -dmax, dmax),

    mu = running_mean and sigma = sqrt(running_var + eps) from before the batch, r and
    d constants for the gradient (F.batch_renorm, ops/batch_renorm.py).  Unclipped, the
    training output is the eval output (x - mu)/sigma.  rmax = 1, dmax = 0 is BatchNorm.

    The running statistics, ``momentum`` (None: the cumulative average),
    ``num_batches_tracked``, ``affine`` and ``bias`` and eval mode (the affine map with
    the running statistics) are BatchNorm1d's; the running statistics are always
    kept, since r and d need them.  ``warmup`` (a RenormWarmup, or None: the limits
    from the first step) schedules rmax and dmax over num_batches_tracked, so
    ``reset_running_stats()`` restarts it.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, rmax=3.0, dmax=5.0, warmup=None,
                 device=None, dtype=None, *, bias=True):
        if not rmax >= 1 or not dmax >= 0:
            raise ValueError(f"{type(self).__name__}: expected rmax >= 1 and dmax >= 0, got rmax={rmax}, dmax={dmax}")
        if warmup is not None and not isinstance(warmup, RenormWarmup):
            raise TypeError(f"{type(self).__name__}: warmup must be a RenormWarmup or None, "
                            f"got {type(warmup).__name__}")
        super().__init__(num_features, eps, momentum, affine, True, device, dtype, bias=bias)
        self.rmax, self.dmax, self.warmup = rmax, dmax, warmup

    def renorm_limits(self):
        """(rmax, dmax) for the next training batch."""
        if self.warmup is None:
            return self.rmax, self.dmax
        return self.warmup.limits(int(self.num_batches_tracked._data), self.rmax, self.dmax)

    def forward(self, x):
        self._check_input_dim(x)
        if not self.training:
            return F.batch_renorm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        tracked = self.num_batches_tracked
        factor, = averaging_factors(self.momentum, int(tracked._data), 1)
        y = F.batch_renorm(x, self.running_mean, self.running_var, self.weight, self.bias, True, factor, self.eps,
                           *self.renorm_limits())
        tracked._data[...] = tracked._data + 1         # counted once the batch went through
        return y

    def extra_repr(self):
        warmup = "" if self.warmup is None else f", warmup={self.warmup!r}"
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, rmax={self.rmax}, dmax={self.dmax}{warmup}")


class BatchRenorm1d(_BatchRenorm):
    """Batch Renormalization of (N, C) or (N, C, L) input, per channel."""
    input_dims, takes = (2, 3), "(N, C) or (N, C, L) batches"


class BatchRenorm2d(_BatchRenorm):
    """Batch Renormalization of (N, C, H, W) input, per channel (statistics over N, H, W)."""
    input_dims, takes = (4,), "(N, C, H, W) batches"


# ------------------------------------------------------------------ ghost batches
class _GhostBatchNorm(_NormBase):
    """Ghost Batch Normalization (Hoffer, Hubara & Soudry, 2017): in training, the batch
    is cut into consecutive ghost batches of ``virtual_batch_size`` samples, and each
    is normalised by its own statistics and folded into the running statistics, in
    order, exactly as if it had gone through BatchNorm1d as a batch of its own
    (F.ghost_batch_norm): each ghost batch counts in ``num_batches_tracked`` and, for
    ``momentum=None``, in the cumulative average.  The batch size must be a multiple
    of virtual_batch_size.  Eval mode, the buffers and the other arguments are
    BatchNorm1d's; without running statistics eval mode uses ghost batches too.
    """

    def __init__(self, num_features, virtual_batch_size, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        if isinstance(virtual_batch_size, bool) or not isinstance(virtual_batch_size, int) or virtual_batch_size < 1:
            raise ValueError(f"{type(self).__name__}: virtual_batch_size must be a positive int, "
                             f"got {virtual_batch_size!r}")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.virtual_batch_size = virtual_batch_size

    def forward(self, x):
        self._check_input_dim(x)
        arguments = (x, self.virtual_batch_size)
        if not self.track_running_stats:
            return F.ghost_batch_norm(*arguments, None, None, self.weight, self.bias, True, 0.0, self.eps)
        if not self.training:
            return F.ghost_batch_norm(*arguments, self.running_mean, self.running_var, self.weight, self.bias, False,
                                      0.0, self.eps)
        tracked, ghosts = self.num_batches_tracked, x.shape[0] // self.virtual_batch_size
        momenta = averaging_factors(self.momentum, int(tracked._data), ghosts)
        y = F.ghost_batch_norm(*arguments, self.running_mean, self.running_var, self.weight, self.bias, True,
                               momenta, self.eps)
        tracked._data[...] = tracked._data + ghosts    # each ghost batch counts, once they all went through
        return y

    def extra_repr(self):
        return (f"{self.num_features}, virtual_batch_size={self.virtual_batch_size}, eps={self.eps}, "
                f"momentum={self.momentum}, affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class GhostBatchNorm1d(_GhostBatchNorm):
    """Ghost Batch Normalization of (N, C) or (N, C, L) input, per channel."""
    input_dims, takes = (2, 3), "(N, C) or (N, C, L) batches"


class GhostBatchNorm2d(_GhostBatchNorm):
    """Ghost Batch Normalization of (N, C, H, W) input, per channel (statistics over each
    ghost batch's samples and H, W)."""
    input_dims, takes = (4,), "(N, C, H, W) batches"
