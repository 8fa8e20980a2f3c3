"""Hypothesis cases for the convolution and pooling tests, and the references they
are checked against: each op written out as the nested sum (or scan) of its
definition in plain NumPy loops, with no im2col, no matrix product and no
output-size formula (a window exists where it fits).
"""
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from tinygrad_bn.testing import strategies as tst

pairs_1_2 = st.tuples(st.integers(1, 2), st.integers(1, 2))


@dataclass
class ConvCase:
    x: np.ndarray          # (N, C, H, W)
    weight: np.ndarray     # (C_out, C/groups, kH, kW)
    bias: np.ndarray       # (C_out,) or None
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int

    @property
    def arguments(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)


@st.composite
def conv_cases(draw, max_batch=2, max_side=6, max_channels=2, bias=None):
    """A conv2d case with at least one window: N <= max_batch, groups 1-2 with 1..max_channels
    channels per group in and out, kernel 1-3, stride, dilation 1-2, padding 0-2."""
    groups = draw(st.integers(1, 2))
    c_group, c_out_group = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    stride, dilation = draw(pairs_1_2), draw(pairs_1_2)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    sizes = []
    for k, d, p in zip(kernel, dilation, padding):
        least = max(1, d * (k - 1) + 1 - 2 * p)             # the padded input must hold one window
        sizes.append(draw(st.integers(least, max(least, max_side))))
    n = draw(st.integers(1, max_batch))
    x = draw(tst.arrays((n, groups * c_group) + tuple(sizes), min_magnitude=0.1))
    weight = draw(tst.arrays((groups * c_out_group, c_group) + kernel, min_magnitude=0.1))
    with_bias = draw(st.booleans()) if bias is None else bias
    b = draw(tst.arrays((groups * c_out_group,))) if with_bias else None
    return ConvCase(x, weight, b, stride, padding, dilation, groups)


def padded(x, padding, value=0.0):
    (ph, pw) = padding
    out = np.full(x.shape[:2] + (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), value)
    out[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    return out


def window_starts(size, span, stride):
    """Every start of a window of ``span`` elements that fits in ``size``, stride apart."""
    return list(range(0, size - span + 1, stride))


def conv2d_reference(x, weight, bias, stride, padding, dilation, groups):
    """y[n, o, i, j] = b[o] + sum_{c, a, e} w[o, c, a, e] x_pad[n, g C/G + c, i sh + a dh, j sw + e dw]."""
    (sh, sw), (dh, dw) = stride, dilation
    x_pad = padded(x, padding)
    c_out, c_group, kh, kw = weight.shape
    rows = window_starts(x_pad.shape[2], dh * (kh - 1) + 1, sh)
    columns = window_starts(x_pad.shape[3], dw * (kw - 1) + 1, sw)
    y = np.zeros((x.shape[0], c_out, len(rows), len(columns)))
    for n in range(x.shape[0]):
        for o in range(c_out):
            first = (o // (c_out // groups)) * c_group
            for i, top in enumerate(rows):
                for j, left in enumerate(columns):
                    total = 0.0 if bias is None else bias[o]
                    for c in range(c_group):
                        for a in range(kh):
                            for e in range(kw):
                                total += weight[o, c, a, e] * x_pad[n, first + c, top + a * dh, left + e * dw]
                    y[n, o, i, j] = total
    return y


def conv_transpose2d_reference(x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The scatter definition: every x[n, c, i, j] adds x * w[c, o, a, e] at place
    (i sh + a dh, j sw + e dw) of output channel g C_out/G + o of a zero canvas, which is
    then cropped by ``padding`` on each side (output_padding extends the bottom and right)."""
    (sh, sw), (ph, pw), (eh, ew), (dh, dw) = stride, padding, output_padding, dilation
    n, c_in, h, w = x.shape
    _, c_out_group, kh, kw = weight.shape
    canvas = np.zeros((n, c_out_group * groups, (h - 1) * sh + dh * (kh - 1) + 1 + eh,
                       (w - 1) * sw + dw * (kw - 1) + 1 + ew))
    for b in range(n):
        for c in range(c_in):
            first = (c // (c_in // groups)) * c_out_group
            for i in range(h):
                for j in range(w):
                    for o in range(c_out_group):
                        for a in range(kh):
                            for e in range(kw):
                                canvas[b, first + o, i * sh + a * dh, j * sw + e * dw] += \
                                    x[b, c, i, j] * weight[c, o, a, e]
    out = canvas[:, :, ph:canvas.shape[2] - ph, pw:canvas.shape[3] - pw]
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


@dataclass
class PoolCase:
    x: np.ndarray          # (N, C, H, W)
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    ceil_mode: bool


def pooled_count(size, kernel, stride, padding, dilation, ceil_mode):
    """Windows along an axis by counting them: every start (a multiple of the stride in the
    padded axis) whose window fits; with ceil_mode, when those leave elements uncovered
    at the end, one more (partial) window, if it starts inside the input or the left padding."""
    span, padded_size = dilation * (kernel - 1) + 1, size + 2 * padding
    starts = window_starts(padded_size, span, stride)
    partial = starts[-1] + stride
    if ceil_mode and starts[-1] + span < padded_size and partial < size + padding:
        starts.append(partial)
    return len(starts)


@st.composite
def pool_cases(draw, max_side=6, dilation=True, values="distinct"):
    """A pooling case with at least one window.  ``values``: "distinct" spaces them all
    >= 0.25 apart (no ties, and no near-ties that central differences would straddle),
    "integers" makes many ties, "any" draws them freely."""
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(pairs_1_2)
    dilations = draw(pairs_1_2) if dilation else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    least = [max(1, d * (k - 1) + 1 - 2 * p) for k, d, p in zip(kernel, dilations, padding)]
    sizes = tuple(draw(st.integers(n, max(n, max_side))) for n in least)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + sizes
    if values == "distinct":
        n = int(np.prod(shape))
        order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
        x = ((order - n / 2) * 0.25).reshape(shape)
    else:
        x = draw(tst.arrays(shape))
        x = np.round(x) if values == "integers" else x
    return PoolCase(x, kernel, stride, padding, dilations, ceil_mode)


def pool_windows_reference(case):
    """For every output (i, j): the list of (row, column) places of the input its window covers
    (padding excluded) and the window's extent clipped to the padded input, torch's way."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = case.kernel_size, case.stride, case.padding, case.dilation
    h, w = case.x.shape[2:]
    rows = pooled_count(h, kh, sh, ph, dh, case.ceil_mode)
    columns = pooled_count(w, kw, sw, pw, dw, case.ceil_mode)
    windows = {}
    for i in range(rows):
        for j in range(columns):
            places = [(i * sh - ph + a * dh, j * sw - pw + e * dw) for a in range(kh) for e in range(kw)]
            windows[i, j] = [(r, c) for r, c in places if 0 <= r < h and 0 <= c < w]
    return rows, columns, windows


def max_pool2d_reference(case):
    """(values, flat indices): per window, scanning its places row by row, the first
    maximum (a later element must be strictly larger to replace it); a NaN always replaces."""
    rows, columns, windows = pool_windows_reference(case)
    n, c = case.x.shape[:2]
    values, indices = np.zeros((n, c, rows, columns)), np.zeros((n, c, rows, columns), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for (i, j), places in windows.items():
                best, where = -np.inf, None
                for r, col in places:
                    v = case.x[b, ch, r, col]
                    if where is None or v > best or np.isnan(v):
                        best, where = v, (r, col)
                values[b, ch, i, j], indices[b, ch, i, j] = best, where[0] * case.x.shape[3] + where[1]
    return values, indices


def avg_pool2d_reference(case, count_include_pad=True, divisor_override=None):
    """Per window, the sum of its input places divided by: divisor_override; else the
    number of places in the window clipped to the padded input (count_include_pad);
    else the number of input places in it."""
    (kh, kw), (sh, sw), (ph, pw) = case.kernel_size, case.stride, case.padding
    h, w = case.x.shape[2:]
    rows, columns, windows = pool_windows_reference(case)
    out = np.zeros(case.x.shape[:2] + (rows, columns))
    for (i, j), places in windows.items():
        top, left = i * sh - ph, j * sw - pw
        clipped = (min(top + kh, h + ph) - top) * (min(left + kw, w + pw) - left)
        divisor = divisor_override or (clipped if count_include_pad else len(places))
        out[:, :, i, j] = sum(case.x[:, :, r, c] for r, c in places) / divisor
    return out


def adaptive_avg_pool2d_reference(x, out_size):
    """Window i of n_out along an axis of size n covers [floor(i n / n_out), ceil((i + 1) n / n_out))."""
    def bounds(n, n_out):
        return [(i * n // n_out, -(-(i + 1) * n // n_out)) for i in range(n_out)]
    out = np.zeros(x.shape[:2] + tuple(out_size))
    for i, (top, bottom) in enumerate(bounds(x.shape[2], out_size[0])):
        for j, (left, right) in enumerate(bounds(x.shape[3], out_size[1])):
            out[:, :, i, j] = x[:, :, top:bottom, left:right].mean(axis=(2, 3))
    return out
