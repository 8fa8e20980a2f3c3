"""Sliding windows over the last two axes, shared by convolution and pooling.

Along one axis of size n, padded by (before, after), a kernel of size k with
dilation d spans d(k - 1) + 1 elements; with stride s its windows start at
0, s, 2s, ... of the padded axis, and as many fit as

    n_out = floor((n + before + after - d(k - 1) - 1) / s) + 1.

Two array moves are all that convolution and pooling need:

    im2col   gathers every window: cols[c, a, b, i, j, n] = x_pad[n, c, i sh + a dh, j sw + b dw]
    col2im   its adjoint: adds each entry of cols back where its window took it from

Both run kernel offset by kernel offset: kH * kW strided slices of the whole
padded batch, no loop over pixels.  The columns keep the batch axis innermost
(the layout (C, H, W, N)): a window row of every image is then one contiguous
run of W_out * N elements, so each slice copies a few long runs however small
the images are, and the product with the kernel comes out as
(C_out, H_out, W_out, N), returned as a transposed view of shape (N, C_out,
H_out, W_out) that the next convolution reads without a copy.
"""
from typing import NamedTuple

from ..backend import device_of, xp_of
from .pad import pad_array


class Windows(NamedTuple):
    """Where the windows of one convolution or pooling sit (all pairs are (height, width))."""
    in_size: tuple       # (H, W) of the input
    out_size: tuple      # (H_out, W_out): the number of windows along each axis
    kernel_size: tuple
    stride: tuple
    padding: tuple       # ((top, bottom), (left, right)), zeros (or the pool's fill) added
    dilation: tuple

    @property
    def spans(self):
        """The slice of the padded input that kernel offset (a, b) reads, for every (a, b)."""
        (kh, kw), (ho, wo), (sh, sw), (dh, dw) = self.kernel_size, self.out_size, self.stride, self.dilation
        return [(a, b, slice(a * dh, a * dh + sh * (ho - 1) + 1, sh), slice(b * dw, b * dw + sw * (wo - 1) + 1, sw))
                for a in range(kh) for b in range(kw)]


def windows_along(n, kernel, stride, before, after, dilation, ceil_mode=False):
    """How many windows fit along an axis (the formula above); with ``ceil_mode`` a
    partial last window counts too, if it starts inside the input or its
    ``before`` padding (PyTorch's pooling rule)."""
    room = n + before + after - dilation * (kernel - 1) - 1
    count = (room + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= n + before:
        count -= 1
    return count


def pair(value, name, op):
    """An int or a sequence of two ints, as the pair (height, width)."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of 2 values to match "
                           f"the 2 spatial dimensions, but got {name}={value!r}")
    return values


def batch_innermost(x, padding=((0, 0), (0, 0)), fill=0):
    """x (N, C, H, W) as a C-contiguous array (C, H', W', N), padded by ((top, bottom),
    (left, right)) filled with ``fill`` (negative widths crop).

    No copy when x's memory already has that layout and nothing is padded (a
    convolution's output).  Otherwise the images are copied a block of 8 at a
    time: a transposing copy of the whole batch at once reads from all N images
    for every short run it writes, more than twice as slow for N = 64 or 128.
    """
    xp = xp_of(device_of(x))
    kept = pad_array(x, tuple((min(before, 0), min(after, 0)) for before, after in padding))   # a view
    (top, bottom), (left, right) = ((max(before, 0), max(after, 0)) for before, after in padding)
    transposed = kept.transpose(1, 2, 3, 0)
    if transposed.flags.c_contiguous and not (top or bottom or left or right):
        return transposed
    n, c, h, w = kept.shape
    out = xp.full((c, top + h + bottom, left + w + right, n), fill, dtype=x.dtype)
    for start in range(0, n, _IMAGES_PER_COPY):
        out[:, top:top + h, left:left + w, start:start + _IMAGES_PER_COPY] = \
            transposed[..., start:start + _IMAGES_PER_COPY]
    return out


_IMAGES_PER_COPY = 8


def im2col(x, windows, fill=0):
    """The windows of x (N, C, H, W) as an array (C, kH, kW, H_out, W_out, N), the padding
    filled with ``fill``.  Reshaped to (C kH kW, H_out W_out N), it is the matrix whose
    product with the kernel reshaped to (C_out, C kH kW) is the convolution."""
    padded = batch_innermost(x, windows.padding, fill)
    cols = xp_of(device_of(x)).empty(x.shape[1:2] + windows.kernel_size + windows.out_size + x.shape[:1],
                                     dtype=x.dtype)
    for a, b, rows, columns in windows.spans:
        cols[:, a, b] = padded[:, rows, columns]
    return cols


def col2im(cols, windows):
    """The adjoint of im2col: an array (N, C, H, W) (a view of (C, H, W, N) memory) that
    holds, at every input place, the sum of the entries of cols (C, kH, kW, H_out, W_out, N)
    taken from it."""
    (top, bottom), (left, right) = windows.padding
    height, width = windows.in_size
    channels, n = cols.shape[0], cols.shape[-1]
    padded = xp_of(device_of(cols)).zeros((channels, top + height + bottom, left + width + right, n),
                                          dtype=cols.dtype)
    for a, b, rows, columns in windows.spans:
        padded[:, rows, columns] += cols[:, a, b]
    return pad_array(padded, ((-top, -bottom), (-left, -right), (0, 0))).transpose(3, 0, 1, 2)
