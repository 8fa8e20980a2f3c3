"""Ghost Batch Normalization (Hoffer, Hubara & Soudry, 2017, Algorithm 1) as one fused op.

A training batch of N samples is cut into k consecutive ghost (virtual) batches
of N/k samples, and each is normalised with its own statistics, exactly as
BatchNorm would normalise it as a batch of its own: for x of shape (N, C, *S),
viewed as (k, N/k, C, *S), every (ghost batch, channel) is one group of
m = N/k * prod(S) values (the ghost layout of ops/normalization.py),

    y = gamma * (x - mu_ghost) / sqrt(var_ghost + eps) + beta,

so the forward and backward passes are BatchNorm's within each ghost batch.
The ghost batches then fold into the running statistics one after the other,
in order, each as one BatchNorm step with its own factor:

    for l = 1 .. k:  running = (1 - f_l) running + f_l statistic_l     (variance: unbiased, m/(m - 1))

With one factor f for all ghost batches that is running = (1 - f)^k running +
sum_l f (1 - f)^(k - l) statistic_l: what BatchNorm's buffers hold after the k
ghost batches went through it one at a time, as in the authors' training code
(github.com/eladhoffer/bigBatch, main_gbn.py), which runs the model on each
ghost batch in turn.  The composed reference
(nn/normalization_reference.py) runs BatchNorm on each slice of N/k samples and
concatenates.
"""
from ..autograd import Function, _check_finite, _GradMode
from .batch_norm import update_running_stats
from .normalization import ghost_layout, normalize_affine, normalize_affine_backward


class GhostBatchNorm(Function):
    """BatchNorm within each of ``len(momenta)`` ghost batches (module docstring);
    ``momenta`` holds the averaging factor of each ghost batch, in order.  Under
    ``tg.detect_anomaly()`` a NaN or Inf in any ghost batch's statistics or the output
    raises before the running statistics change."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momenta, eps):
        ghosts = len(momenta)
        layout = ghost_layout(x._data.shape, ghosts)
        y, means, variances = normalize_affine(ctx, x, weight, bias, layout, eps)
        if _GradMode.anomaly:
            _check_finite(ctx, (means, variances, y), "forward")
        for mean, var, momentum in zip(means.reshape(ghosts, -1), variances.reshape(ghosts, -1), momenta):
            update_running_stats(running_mean, running_var, mean, var, layout.group_size, momentum)
        return y

    @staticmethod
    def backward(ctx, grad):
        return normalize_affine_backward(ctx, grad) + (None, None, None, None)
