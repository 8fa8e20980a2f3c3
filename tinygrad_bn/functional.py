"""Functions of tensors that layers are built from, PyTorch's ``torch.nn.functional``.

``import tinygrad_bn.functional as F``.  Each function either calls one fused
op (linear, batch_norm in training, softmax, log_softmax, cross_entropy) or composes primitive ones.
"""
from .ops.batch_norm import BatchNorm, channel_shape
from .ops.cross_entropy import REDUCTIONS, CrossEntropy
from .ops.linear import Linear
from .tensor import Tensor


def linear(x, weight, bias=None):
    """y = x W^T + b for x of shape (..., in_features) and W of shape (out_features, in_features)."""
    return Linear.apply(x, weight, bias)


def sigmoid(x):
    """1 / (1 + e^-x), elementwise."""
    return x.sigmoid()


def relu(x):
    """max(x, 0), elementwise."""
    return x.relu()


def tanh(x):
    return x.tanh()


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return x.leaky_relu(negative_slope)


def softmax(x, dim=-1):
    """e^x / sum(e^x) along ``dim``, stable for large inputs."""
    return x.softmax(dim)


def log_softmax(x, dim=-1):
    """x - log sum(e^x) along ``dim``, stable for large inputs."""
    return x.log_softmax(dim)


def cross_entropy(logits, target, reduction="mean"):
    """-log softmax(logits)[target] per row, for logits (N, C) and int64 class indices (N,);
    ``reduction`` "mean" (over N), "sum" or "none"."""
    if not isinstance(target, Tensor):
        target = Tensor(target, device=logits.device)
    return CrossEntropy.apply(logits, target, reduction)


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2 elementwise, reduced by "mean", "sum" or "none".

    Unlike PyTorch, which broadcasts with a warning, different shapes are an error.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device, dtype=input.dtype)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input of shape {input.shape} and target of shape {target.shape} differ")
    difference = input - target
    squared = difference * difference
    if reduction == "mean":
        return squared.mean()
    return squared.sum() if reduction == "sum" else squared


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch Normalization of x, shape (N, C) or (N, C, L), per channel (axis 1), as
    ``torch.nn.functional.batch_norm``.

    training: normalise with the batch's mean and biased variance (the fused
    ``BatchNorm`` op) and, where the running buffers are given, update them in
    place: running = (1 - momentum) * running + momentum * batch statistic, the
    variance stored being the unbiased one.  Otherwise: the affine map
    y = weight * (x - running_mean) / sqrt(running_var + eps) + bias, which is
    differentiable in x, weight and bias like any composition of ops.
    """
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected a 2D (N, C) or 3D (N, C, L) input, got {x.ndim}D input "
                         f"of shape {tuple(x.shape)}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: expected an input with {t.data.size} channels (the size of "
                             f"{name}), got input of shape {tuple(x.shape)} with {channels} channels")
    if training:
        if x.data.size // channels <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, "
                             f"got input size {tuple(x.shape)}")
        return BatchNorm.apply(x, weight, bias, running_mean, running_var, momentum, eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    shape = channel_shape(x)
    scale = (running_var.detach() + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    y = (x - running_mean.detach().reshape(shape)) * scale.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


# ------------------------------------------------------------ convolution, pooling, padding
# The ops and their derivations: ops/conv.py, ops/pool.py, ops/pad.py, docs/conv.md.
from .ops import pad as _pad  # noqa: E402


def _require_tensor(op, name, value, optional=False):
    if not isinstance(value, Tensor) and not (optional and value is None):
        kind = type(value)
        kind = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {kind}")


def pad(input, pad, mode="constant", value=None):
    """input with ``pad`` = (left, right, top, bottom, ...) elements of ``value`` (default
    0) added to its last len(pad) / 2 dims, last dim first, as
    ``torch.nn.functional.pad`` in "constant" mode; negative numbers crop."""
    _require_tensor("pad", "input", input)
    if mode != "constant":
        if mode in ("reflect", "replicate", "circular"):
            raise NotImplementedError(f"pad: mode {mode!r} is not implemented; tinygrad_bn pads in mode 'constant'")
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    widths = _pad.pad_widths(pad, input.shape)
    return _pad.Pad.apply(input, widths, 0 if value is None else value)
