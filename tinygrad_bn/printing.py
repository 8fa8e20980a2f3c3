"""How a tensor prints: PyTorch's format, so that a student's output looks the same.

    tensor([0.1000, 0.2500, 3.0000])          4 decimals, padded to one width
    tensor([1., 2.])                          whole numbers: no decimals
    tensor([1.0000e-05, 1.0000e+00])          scientific notation when the magnitudes
                                              span more than 1000x, or reach 1e8, or go below 1e-4
    tensor([1, 2], dtype=int32)               the dtype named unless it is float32, int64 or bool
    tensor([0., 1., 2.,  ..., 997., 998., 999.])   more than 1000 elements: the first and
                                              last 3 along every dim

Lines break at 80 characters.  ``set_printoptions`` changes these numbers (and
``profile="full"`` prints every element).
"""
import math

import numpy

from . import backend


class _Options:
    precision, threshold, edgeitems, linewidth, sci_mode = 4, 1000, 3, 80, None


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """``torch.set_printoptions``: digits after the point, the element count above which a
    tensor is summarised, the items kept at each end of a dim when it is, the line width,
    a profile ("default", "short", "full") applied first, and sci_mode (True, False, or
    None to choose per tensor)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        for name, value in _PROFILES[profile].items():
            setattr(_Options, name, value)
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            setattr(_Options, name, value)
    _Options.sci_mode = sci_mode


class _Formatter:
    """One width and one notation for every element of an array (see the module docstring)."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.whole = True
        self.scientific = False
        if not self.floating:
            self.width = max((len(str(v)) for v in values.ravel().tolist()), default=1)
            return
        self.width = 1
        finite = values[numpy.isfinite(values) & (values != 0)].astype(numpy.float64)
        if finite.size == 0:
            return
        magnitude = numpy.abs(finite)
        spread = magnitude.max() / magnitude.min() > 1000 or magnitude.max() > 1e8
        self.whole = bool(numpy.all(finite == numpy.ceil(finite)))
        self.scientific = spread if self.whole else (spread or magnitude.min() < 1e-4)
        if _Options.sci_mode is not None:
            self.scientific = _Options.sci_mode
        self.width = max(len(self._text(v)) for v in finite.tolist())

    def _text(self, value):
        if self.floating and not (math.isnan(value) or math.isinf(value)):
            if self.scientific:
                return f"{value:.{_Options.precision}e}"
            if self.whole:
                return f"{value:.0f}."
            return f"{value:.{_Options.precision}f}"
        if self.floating:
            return f"{value:.0f}" if math.isinf(value) else "nan"
        return str(value)

    def format(self, value):
        return self._text(value).rjust(self.width)


def _summarized(values, edge):
    """The first and last ``edge`` entries along every dim (what a summarised print shows)."""
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            values = numpy.concatenate([numpy.take(values, range(edge), axis),
                                        numpy.take(values, range(size - edge, size), axis)], axis)
    return values


def _vector(values, indent, summarize, formatter):
    per_line = max(1, (_Options.linewidth - indent) // (formatter.width + 2))
    items = values.tolist()
    edge = _Options.edgeitems
    if summarize and len(items) > 2 * edge:
        texts = [formatter.format(v) for v in items[:edge]] + [" ..."] + [formatter.format(v) for v in items[-edge:]]
    else:
        texts = [formatter.format(v) for v in items]
    lines = [", ".join(texts[i:i + per_line]) for i in range(0, len(texts), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values, indent, summarize, formatter):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    edge = _Options.edgeitems
    rows = range(values.shape[0])
    if summarize and values.shape[0] > 2 * edge:
        rows = list(range(edge)) + [None] + list(range(values.shape[0] - edge, values.shape[0]))
    parts = ["..." if i is None else _nested(values[i], indent + 1, summarize, formatter) for i in rows]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def tensor_repr(tensor):
    """``repr(tensor)`` as PyTorch writes it (the grad_fn named by this library's op)."""
    values = backend.to_numpy(tensor._data)
    prefix = "tensor("
    suffixes = []
    if tensor.device != backend.CPU:
        suffixes.append("device='cuda:0'")
    default_dtype = values.dtype in (numpy.float32, numpy.int64, numpy.bool_)
    if values.size == 0:
        body = "[]"
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype not in (numpy.float32, numpy.int64):
            suffixes.append(f"dtype={values.dtype}")
    else:
        if not default_dtype:
            suffixes.append(f"dtype={values.dtype}")
        summarize = values.size > _Options.threshold
        shown = _summarized(values, _Options.edgeitems) if summarize else values
        body = _nested(values, len(prefix), summarize, _Formatter(shown))
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > _Options.linewidth:
            text += ",\n" + " " * len(prefix) + suffix
            line = len(prefix) + len(suffix)
        else:
            text += ", " + suffix
            line += len(suffix) + 2
    return text + ")"
