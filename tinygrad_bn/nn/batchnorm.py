"""BatchNorm1d and BatchNorm2d, and Algorithm 2 of Ioffe & Szegedy (population statistics for inference).

Both layers are one class, ``_BatchNorm``, and differ only in the inputs
they take: BatchNorm1d the (N, C) outputs of fully connected layers or
(N, C, L) sequences, BatchNorm2d the (N, C, H, W) feature maps of
convolutions.  Either way channel c is normalised over every value it has
in the batch (m = N, N * L or N * H * W: section 3.2 of the paper, "per
feature map" for convolutions) with one gamma and one beta per channel.

In training, each channel is normalised with the mini-batch's own mean and
biased variance (the fused op of tinygrad_bn/ops/batch_norm.py); every
training batch also folds its statistics into the running buffers,

    running_mean = (1 - momentum) * running_mean + momentum * mu_B
    running_var  = (1 - momentum) * running_var  + momentum * m/(m-1) * sigma_B^2

PyTorch's convention: ``momentum`` is the weight of the *new* batch, so the
default 0.1 is a decay of 0.9.  ``momentum=None`` gives every batch the
weight 1/num_batches_tracked: a plain cumulative average.  In eval mode the
running statistics replace the batch's, and the layer is the fixed affine map
y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta.
"""
from .. import backend
from .. import functional as F
from ..autograd import no_grad
from ..tensor import Tensor
from .norm_base import _NormBase


class _BatchNorm(_NormBase):
    """Batch Normalization over the channels (axis 1) of a batch, with PyTorch's
    arguments, defaults, buffers and update rule: what BatchNorm1d and BatchNorm2d
    share (the parameters and buffers come from ``_NormBase``).  A subclass says which
    inputs it takes, in ``input_dims`` and ``takes``.

    ``affine``: learn a per-channel scale ``weight`` (ones) and shift ``bias``
    (zeros); with ``bias=False`` (keyword-only, as in PyTorch 2) only the scale,
    and ``bias`` is None.
    ``track_running_stats``: keep ``running_mean`` (zeros), ``running_var`` (ones)
    and ``num_batches_tracked`` (int64); without them the layer always uses
    batch statistics, also in eval mode, and the three buffers are None.

    A training batch counts in ``num_batches_tracked`` once it went through:
    an empty batch (no values per channel) counts and changes no statistic, a
    batch that raises (one value per channel, eps <= 0, NaN statistics under
    ``tg.detect_anomaly()``) changes nothing at all.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x):
        if not isinstance(x, Tensor):
            F._expect_tensors("batch_norm", ("input",), x)
        if x._data.ndim not in self.input_dims:
            self._check_input_dim(x)
        # the registries are read directly: a step of a small network is short
        # enough that Module.__getattr__ (one per name) would show in its time
        params, buffers = self._parameters, self._buffers
        weight, bias = params["weight"], params["bias"]
        if not self.training and self.track_running_stats:          # eval: the running statistics
            return F.batch_norm(x, buffers["running_mean"], buffers["running_var"], weight, bias,
                                False, 0.0, self.eps)
        if not self.track_running_stats:                            # batch statistics, nothing kept
            return F.batch_norm(x, None, None, weight, bias, True, 0.0, self.eps)
        tracked = buffers["num_batches_tracked"]
        if self.momentum is None:            # the cumulative average needs the count on the host
            factor = 1.0 / (int(backend.to_numpy(tracked._data)) + 1)
        else:
            factor = self.momentum
        y = F.batch_norm(x, buffers["running_mean"], buffers["running_var"], weight, bias, True, factor, self.eps)
        tracked._data += 1                    # counted once the batch went through, on its device
        return y

class BatchNorm1d(_BatchNorm):
    """Batch Normalization of (N, C) or (N, C, L) input: channel c is normalised over
    its N (or N * L) values.  Arguments, buffers and modes: ``_BatchNorm``."""

    input_dims, takes = (2, 3), "(N, C) or (N, C, L) batches"


class BatchNorm2d(_BatchNorm):
    """Batch Normalization of feature maps (N, C, H, W): channel c is normalised over
    its N * H * W values, every position of every image (section 3.2 of Ioffe &
    Szegedy), with one gamma and beta per channel.  Arguments, buffers and modes:
    ``_BatchNorm``."""

    input_dims, takes = (4,), "(N, C, H, W) batches"


def recompute_population_stats(model, batches):
    """Algorithm 2 of Ioffe & Szegedy: set the running statistics of every BatchNorm1d
    and BatchNorm2d (that keeps them) to population statistics over ``batches``
    (input Tensors, or tuples whose first item is the input, as a data loader
    yields them); returns the model.

    For each layer, with mu_B and sigma_B^2 the mean and biased variance of its
    input on batch B (the model running with batch statistics, as in training):

        E[x]   = average over B of mu_B
        Var[x] = m/(m-1) * average over B of sigma_B^2

    This is the cumulative average (``momentum=None``) of the unbiased batch
    variances, so each layer is reset and run with momentum None over the
    batches, under ``no_grad``.  Everything else (modes, momenta,
    ``num_batches_tracked``, parameters) is left as it was; if a batch raises
    (or there is none), the running statistics are restored too.
    """
    layers = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    saved = [(m.training, m.momentum, m.running_mean._data.copy(), m.running_var._data.copy(),
              m.num_batches_tracked._data.copy()) for m in layers]
    finished = False
    try:
        for m in layers:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        seen = 0
        with no_grad():
            for batch in batches:
                model(batch if isinstance(batch, Tensor) else batch[0])
                seen += 1
        if seen == 0:
            raise ValueError("recompute_population_stats: batches is empty, there is nothing to average")
        finished = True
    finally:
        for m, (training, momentum, mean, var, tracked) in zip(layers, saved):
            m.train(training)
            m.momentum = momentum
            m.num_batches_tracked._data[...] = tracked
            if not finished:
                m.running_mean._data[...] = mean
                m.running_var._data[...] = var
    return model
