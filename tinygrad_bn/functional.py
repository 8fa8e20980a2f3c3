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
from .ops import conv as _conv, pad as _pad, pool as _pool  # noqa: E402


def _require_tensor(op, name, value, optional=False):
    if not isinstance(value, Tensor) and not (optional and value is None):
        kind = type(value)
        kind = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {kind}")


def _as_batch(op, x):
    """x as a batch (N, C, H, W), and whether it was a single image (C, H, W) to unwrap again."""
    _require_tensor(op, "input", x)
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of size: "
                           f"{list(x.shape)}")
    return (x, False) if x.ndim == 4 else (x.unsqueeze(0), True)


def _unbatch(y, single):
    return y.squeeze(0) if single else y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (a cross-correlation) of input (N, C, H, W) or (C, H, W) with weight
    (C_out, C/groups, kH, kW), plus bias (C_out,), as ``torch.nn.functional.conv2d``.

    stride, padding, dilation: an int or a pair (height, width); padding may also
    be "valid" (none) or "same" (the output keeps H, W; stride 1 only).  Output size
    H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1.
    """
    x, single = _as_batch("conv2d", input)
    _require_tensor("conv2d", "weight", weight)
    _require_tensor("conv2d", "bias", bias, optional=True)
    windows = _conv.conv2d_windows(x, weight, bias, stride, padding, dilation, groups)
    return _unbatch(_conv.Conv2d.apply(x, weight, bias, windows, groups), single)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out/groups, kH, kW), as ``torch.nn.functional.conv_transpose2d``: the
    adjoint (the input gradient) of conv2d with the same weight and arguments, with
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    """
    x, single = _as_batch("conv_transpose2d", input)
    _require_tensor("conv_transpose2d", "weight", weight)
    _require_tensor("conv_transpose2d", "bias", bias, optional=True)
    windows = _conv.conv_transpose2d_windows(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _unbatch(_conv.ConvTranspose2d.apply(x, weight, bias, windows, groups), single)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """The maximum of every window, per channel, as ``torch.nn.functional.max_pool2d``
    (stride defaults to kernel_size; padding, at most half the window, never wins).

    The gradient goes to one element per window: the first maximum in scan order
    (row by row) among tied ones, the last NaN if there is one, as PyTorch on the
    CPU.  ``return_indices=True`` also returns where each maximum sits, as an int64
    index into the flattened H W plane of the input.
    """
    x, single = _as_batch("max_pool2d", input)
    windows = _pool.pool_windows("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    y = _unbatch(_pool.MaxPool2d.apply(x, windows), single)
    if not return_indices:
        return y
    indices = _pool.input_indices(_pool.window_max(x.data, windows)[1], windows)
    return y, _unbatch(Tensor.wrap(indices, x.device), single)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of every window, per channel, as ``torch.nn.functional.avg_pool2d``:
    the window's sum divided by its size counting the zero padding
    (``count_include_pad``), by the number of input elements in it (otherwise), or
    by ``divisor_override``."""
    x, single = _as_batch("avg_pool2d", input)
    if not x.is_floating_point():
        raise RuntimeError(f"avg_pool2d: expected a floating-point input, got {x.dtype}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    windows = _pool.pool_windows("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = divisor_override if divisor_override is not None else \
        _pool.window_counts(x, windows, count_include_pad)
    return _unbatch(_pool.average_pool(x, windows, divisor), single)


def adaptive_avg_pool2d(input, output_size):
    """The mean over output_size (an int, a pair, None keeping the input's size) windows
    per channel, as ``torch.nn.functional.adaptive_avg_pool2d``: window i along an axis
    of size n covers [floor(i n / n_out), ceil((i + 1) n / n_out)).  Output size 1 is
    the global average pool: the mean over H and W."""
    x, single = _as_batch("adaptive_avg_pool2d", input)
    if not x.is_floating_point():
        raise RuntimeError(f"adaptive_avg_pool2d: expected a floating-point input, got {x.dtype}")
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != 2 or any(s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 0)
                              for s in sizes):
        raise RuntimeError(f"adaptive_avg_pool2d: output_size must be an int or a pair of non-negative ints "
                           f"(or None), but got {output_size!r}")
    (h, w), (ho, wo) = x.shape[2:], [n if s is None else s for n, s in zip(x.shape[2:], sizes)]
    rows, columns = _pool.adaptive_average_matrix(x, h, ho), _pool.adaptive_average_matrix(x, w, wo)
    return _unbatch(rows @ (x @ columns.T), single)          # y = A_H x A_W^T


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
