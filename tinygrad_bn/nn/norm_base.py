"""What the per-channel normalization layers keep: the affine parameters, the running
statistics and their resets (PyTorch's ``_NormBase``), shared by BatchNorm1d/2d, the
instance norms, Batch Renormalization and ghost batch normalization; LayerNorm and
GroupNorm share the affine parameters."""
import numpy

from .. import creation
from .module import Module, Parameter


def register_affine(module, shape, affine, bias, dtype, device):
    """``weight`` (ones) and ``bias`` (zeros) of ``shape`` with ``affine`` (no bias with
    ``bias=False``); each None when absent."""
    dtype = numpy.float32 if dtype is None else dtype
    if affine:
        module.weight = Parameter(creation.ones(shape, dtype=dtype, device=device))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(creation.zeros(shape, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)


def reset_affine(module):
    """weight = 1, bias = 0 (in place), where present."""
    if module.weight is not None:
        module.weight._data.fill(1)
    if module.bias is not None:
        module.bias._data.fill(0)


def averaging_factors(momentum, tracked, batches):
    """The factors of the next ``batches`` updates of the running statistics: ``momentum``,
    or for momentum None the cumulative average's 1/(t + 1), ..., 1/(t + batches) after
    t = ``tracked`` batches."""
    if momentum is not None:
        return (momentum,) * batches
    return tuple(1.0 / (tracked + k) for k in range(1, batches + 1))


class _NormBase(Module):
    """What the per-channel normalizations hold, as PyTorch's ``_NormBase``: with ``affine``
    a ``weight`` (ones) and ``bias`` (zeros, absent with ``bias=False``) per channel;
    with ``track_running_stats`` the buffers ``running_mean`` (zeros), ``running_var``
    (ones) and ``num_batches_tracked`` (int64), otherwise None.  Each subclass names
    the numbers of input dims it accepts in ``input_dims``, and in words in ``takes``."""

    input_dims = ()        # the numbers of dims the layer takes, e.g. (2, 3)
    takes = ""             # the same in words, e.g. "(N, C) or (N, C, L) batches"

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device=None, dtype=None, *,
                 bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        register_affine(self, (num_features,), affine, bias, dtype, device)
        dtype = numpy.float32 if dtype is None else dtype
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", creation.zeros((), dtype=numpy.int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        """running_mean = 0, running_var = 1, num_batches_tracked = 0 (in place)."""
        if self.track_running_stats:
            self.running_mean._data.fill(0)
            self.running_var._data.fill(1)
            self.num_batches_tracked._data.fill(0)

    def reset_parameters(self):
        """Reset the running statistics and set weight = 1, bias = 0 (in place)."""
        self.reset_running_stats()
        reset_affine(self)

    def _check_input_dim(self, x):
        """PyTorch's ValueError for an input of the wrong number of dims (its message, then
        what the layer takes and the shape it got)."""
        if x.ndim not in self.input_dims:
            expected = " or ".join(f"{n}D" for n in self.input_dims)
            raise ValueError(f"expected {expected} input (got {x.ndim}D input): {type(self).__name__} "
                             f"normalises {self.takes}, got shape {tuple(x.shape)}")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
