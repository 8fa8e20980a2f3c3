"""Constant padding: a border of one value around the last axes, or a crop.

Along an axis of size n, widths (before, after) give an axis of size
n + before + after: ``before`` elements of the value, the input, ``after``
elements of the value.  A negative width removes that many elements of the
input instead (as ``torch.nn.functional.pad`` does).

The gradient of padding is cropping, and the gradient of cropping is padding
with zeros: dL/dx = pad(dL/dy, negated widths, value 0).  So Pad's backward
is again a Pad, and a gradient of any order is one.
"""
from ..autograd import Function
from ..backend import device_of, xp_of


def pad_array(a, widths, value=0):
    """``a`` padded (or cropped) by ``widths``, one (before, after) pair per last axis.

    A new array filled with ``value`` (cast to ``a``'s dtype) around a copy of
    what is kept of ``a``; a view of ``a`` when nothing is added.
    """
    lead = a.ndim - len(widths)
    sizes = a.shape[lead:]
    kept = [_kept(n, before, after) for n, (before, after) in zip(sizes, widths)]
    if all(before <= 0 and after <= 0 for before, after in widths):
        return a[(Ellipsis, *kept)]
    shape = a.shape[:lead] + tuple(n + before + after for n, (before, after) in zip(sizes, widths))
    out = xp_of(device_of(a)).full(shape, value, dtype=a.dtype)
    placed = [slice(max(before, 0), max(before, 0) + s.stop - s.start) for (before, _), s in zip(widths, kept)]
    out[(Ellipsis, *placed)] = a[(Ellipsis, *kept)]
    return out


def _kept(n, before, after):
    """The slice of an axis of size n that survives the negative widths (may be empty)."""
    start = max(-before, 0)
    return slice(start, max(n + min(after, 0), start))


class Pad(Function):
    """y = x with ``widths`` (before, after) added to its last axes, filled with ``value``;
    negative widths crop.  dL/dx = Pad(dL/dy, -widths, 0): the added border is
    cut off again, and a cropped element, which did not reach y, gets 0."""

    @staticmethod
    def forward(ctx, x, widths, value):
        return x._view(pad_array(x._data, widths, value))

    @staticmethod
    def backward(ctx, grad):
        widths = ctx.inputs[1]
        return Pad.apply(grad, tuple((-before, -after) for before, after in widths), 0), None, None


def pad_widths(pad, shape):
    """F.pad's ``pad`` (last axis first: (left, right, top, bottom, ...)) as (before, after)
    pairs for the last len(pad) // 2 axes in order; errors name what is wrong."""
    pad = tuple(pad)
    for p in pad:
        if isinstance(p, bool) or not isinstance(p, int):
            raise TypeError(f"pad(): argument 'pad' must be a sequence of ints, got {pad!r}")
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2, got pad={pad}")
    if len(pad) > 2 * len(shape):
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {len(shape)}")
    widths = tuple((pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2))
    lead = len(shape) - len(widths)
    for axis, (n, (before, after)) in enumerate(zip(shape[lead:], widths), lead):
        if n + before + after < 0:
            raise RuntimeError(f"pad(): padding {(before, after)} of dimension {axis} (size {n}) would leave "
                               f"a negative size {n + before + after}; input of shape {tuple(shape)}")
    return widths
