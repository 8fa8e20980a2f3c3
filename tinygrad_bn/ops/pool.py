"""Pooling: the maximum or the mean of every window (ops/windows.py), channel by channel.

Max pooling, y[n, c, i, j] = max of x_pad[n, c] over window (i, j), the padding
filled with -inf so that it never wins.  Each output is one element of its
window, chosen in the forward pass by scanning the kernel offsets in order
(row by row, left to right) and keeping a candidate only when it is strictly
larger, or NaN: among tied maxima the first wins, among NaNs the last, which
are the elements PyTorch's CPU kernel picks.  So max pooling *gathers* one
element per window, and its gradient *scatters* dL/dy back to those elements.
Gather and scatter are linear in what they move and each other's adjoints, so
each is the other's backward; the choice itself is piecewise constant and not
differentiated.

Average pooling is a convolution of every channel with a kernel of ones,
divided by the window's count; Conv2d brings its gradients of any order.

Adaptive average pooling: along an axis of size n, window i of n_out covers
[floor(i n / n_out), ceil((i + 1) n / n_out)) (PyTorch's rule), so windows may
differ in size and overlap.  The mean over a rectangle is separable,
y = A_H x A_W^T, with A (n_out, n) holding 1 / (window size) on each row's
window: two matrix products.
"""
from ..autograd import Function
from ..backend import device_of, xp_of
from ..tensor import Tensor
from .conv import Conv2d
from .pad import pad_array
from .windows import Windows, pair, windows_along


def _lowest(xp, dtype):
    """The fill that never wins a maximum: -inf, or the smallest integer."""
    return xp.iinfo(dtype).min if dtype.kind in "iu" else -xp.inf


def window_max(x, windows):
    """(values, choice) for an array x (N, C, H, W): the maximum of every window and the
    offset a kW + b in the window where it sits (the scan rule above), one vectorised
    comparison per kernel offset."""
    xp = xp_of(device_of(x))
    padded = pad_array(x, windows.padding, _lowest(xp, x.dtype))
    spans = windows.spans
    values = padded[:, :, spans[0][2], spans[0][3]].copy()
    choice = xp.zeros(values.shape, dtype=xp.int64)
    for offset, (_, _, rows, columns) in enumerate(spans[1:], 1):
        candidate = padded[:, :, rows, columns]
        wins = candidate > values
        if x.dtype.kind == "f":
            wins |= xp.isnan(candidate)
        xp.copyto(values, candidate, where=wins)
        xp.copyto(choice, offset, where=wins)
    return values, choice


class MaxPool2d(Function):
    """y = the largest element of every window.  dL/dx = ScatterToWindows(dL/dy): the
    gradient of each output goes to the one element it was taken from."""

    @staticmethod
    def forward(ctx, x, windows):
        values, ctx.choice = window_max(x._data, windows)
        return values

    @staticmethod
    def backward(ctx, grad):
        return ScatterToWindows.apply(grad, ctx.choice, ctx.inputs[1]), None


class GatherFromWindows(Function):
    """y = the element at offset ``choice`` (N, C, H_out, W_out; fixed) of every window
    of x.  dL/dx = ScatterToWindows(dL/dy)."""

    @staticmethod
    def forward(ctx, x, choice, windows):
        padded = pad_array(x._data, windows.padding)
        values = x.xp.zeros(x.shape[:2] + windows.out_size, dtype=x.dtype)
        for offset, (_, _, rows, columns) in enumerate(windows.spans):
            x.xp.copyto(values, padded[:, :, rows, columns], where=choice == offset)
        return values

    @staticmethod
    def backward(ctx, grad):
        choice, windows = ctx.inputs[1:]
        return ScatterToWindows.apply(grad, choice, windows), None, None


class ScatterToWindows(Function):
    """x = zeros with every g[n, c, i, j] added at offset ``choice`` of window (i, j),
    kernel offset by kernel offset (as col2im): the adjoint of GatherFromWindows, so
    dL/dg = GatherFromWindows(dL/dx)."""

    @staticmethod
    def forward(ctx, g, choice, windows):
        (top, bottom), (left, right) = windows.padding
        height, width = windows.in_size
        padded = g.xp.zeros(g.shape[:2] + (top + height + bottom, left + width + right), dtype=g.dtype)
        for offset, (_, _, rows, columns) in enumerate(windows.spans):
            padded[:, :, rows, columns] += (choice == offset) * g._data
        return pad_array(padded, ((-top, -bottom), (-left, -right)))

    @staticmethod
    def backward(ctx, grad):
        choice, windows = ctx.inputs[1:]
        return GatherFromWindows.apply(grad, choice, windows), None, None


def input_indices(choice, windows):
    """For every output of a max pool, the index of its element in the flattened
    (H W) plane of the input, as ``return_indices=True`` gives it (int64)."""
    xp = xp_of(device_of(choice))
    (_, kw), (ho, wo), (sh, sw), (dh, dw) = windows.kernel_size, windows.out_size, windows.stride, windows.dilation
    (top, _), (left, _) = windows.padding
    rows = (choice // kw) * dh + (xp.arange(ho) * sh - top).reshape(ho, 1)
    columns = (choice % kw) * dw + xp.arange(wo) * sw - left
    return rows * windows.in_size[1] + columns


def average_pool(x, windows, divisor):
    """The sum over every window (a convolution with a kernel of ones, each channel
    on its own) times 1 / divisor (a number, or a Tensor (H_out, W_out))."""
    n, c, h, w = x.shape
    ones = Tensor.wrap(x.xp.ones((1, 1) + windows.kernel_size, dtype=x.dtype), x.device)
    sums = Conv2d.apply(x.reshape(n * c, 1, h, w), ones, None, windows, 1)
    return sums.reshape((n, c) + windows.out_size) * (1 / divisor)


def window_counts(x, windows, count_include_pad):
    """The divisor of every output of avg_pool2d, as a Tensor (H_out, W_out), PyTorch's
    rule: the window, clipped to the padded input (a ceil_mode window running past
    the padding counts only up to it); with count_include_pad=False, clipped to
    the input itself."""
    per_axis = []
    for n, k, s, (before, _), count in zip(windows.in_size, windows.kernel_size, windows.stride,
                                            windows.padding, windows.out_size):
        starts = x.xp.arange(count) * s - before
        ends = x.xp.minimum(starts + k, n + before)
        if not count_include_pad:
            starts, ends = x.xp.maximum(starts, 0), x.xp.minimum(ends, n)
        per_axis.append((ends - starts).astype(x.dtype))
    return Tensor.wrap(per_axis[0].reshape(-1, 1) * per_axis[1], x.device)


def adaptive_average_matrix(x, n, n_out):
    """A (n_out, n) in x's dtype and device: row i is 1 / size on window i of n_out
    windows along an axis of size n, 0 elsewhere, so that A v averages v's windows."""
    xp = x.xp
    i = xp.arange(n_out)
    starts, ends = (i * n) // n_out, -((-(i + 1) * n) // n_out)
    j = xp.arange(n)
    inside = (j >= starts.reshape(-1, 1)) & (j < ends.reshape(-1, 1))
    return Tensor.wrap((inside / (ends - starts).reshape(-1, 1)).astype(x.dtype), x.device)


def pool_windows(op, shape, kernel_size, stride, padding, dilation, ceil_mode):
    """The windows of max_pool2d / avg_pool2d on a batched input of ``shape``, after
    checking the arguments (ints or pairs; stride None means kernel_size; padding at
    most half the kernel size, dilation or not, as PyTorch).  With ceil_mode the
    bottom and right padding grow to hold the partial last windows."""
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    for name, values, least in (("kernel_size", kernel, 1), ("stride", stride, 1), ("padding", padding, 0),
                                ("dilation", dilation, 1)):
        if min(values) < least:
            raise RuntimeError(f"{op}: {name} must be {'positive' if least else 'non-negative'}, "
                               f"but got {name}={values}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{op}: pad should be at most half of kernel size, but got pad={padding} and "
                           f"kernel_size={kernel}")
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    in_size = tuple(shape[2:])
    out_size = tuple(windows_along(n, k, s, p, p, d, ceil_mode)
                     for n, k, s, p, d in zip(in_size, kernel, stride, padding, dilation))
    if min(out_size) < 1:
        raise RuntimeError(f"{op}: given input size ({shape[1]}x{in_size[0]}x{in_size[1]}), the calculated output "
                           f"size ({shape[1]}x{out_size[0]}x{out_size[1]}) is too small")
    reach = tuple((count - 1) * s + span for count, s, span in zip(out_size, stride, spans))
    padding = tuple((p, max(p, r - n - p)) for p, r, n in zip(padding, reach, in_size))
    return Windows(in_size, out_size, kernel, stride, padding, dilation)
