"""Weight initialisation, in place, with PyTorch's formulas and defaults.

Every function draws from the library's generator (``tg.manual_seed``) on the
host, writes into the tensor with its in-place methods (``uniform_``,
``normal_``, ``fill_``, ``copy_``) under ``no_grad``, so nothing is recorded,
and returns the tensor.

The scaled initialisations keep the variance of activations (forward) or of
gradients (backward) roughly constant from layer to layer.  For a weight of
shape (out, in, *kernel) with r = prod(kernel):
fan_in = in * r and fan_out = out * r.

* Glorot/Xavier: Var(W) = gain^2 * 2 / (fan_in + fan_out)
* He/Kaiming:    Var(W) = gain^2 / fan           (fan = fan_in or fan_out)
* LeCun:         Var(W) = 1 / fan_in
* a uniform U(-b, b) has variance b^2 / 3, so b = sqrt(3) * std.
"""
import math
import numbers

import numpy

from .. import backend
from ..autograd import no_grad

_GAINS = {"linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
          "conv_transpose1d": 1.0, "conv_transpose2d": 1.0, "conv_transpose3d": 1.0,
          "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity, param=None):
    """The factor that scales the standard deviation for a nonlinearity: 1 for linear
    and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (slope ``param``, default 0.01), 3/4 for selu."""
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                         f"{sorted(_GAINS) + ['leaky_relu']}")
    return _GAINS[nonlinearity]


def _fans(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions (shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


@no_grad()
def uniform_(tensor, a=0.0, b=1.0):
    """Fill with draws from U(a, b)."""
    return tensor.uniform_(a, b)


@no_grad()
def normal_(tensor, mean=0.0, std=1.0):
    """Fill with draws from N(mean, std^2)."""
    return tensor.normal_(mean, std)


@no_grad()
def constant_(tensor, val):
    """Fill with ``val``."""
    return tensor.fill_(val)


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-b, b) with b = sqrt(3) * gain / sqrt(fan) (He et al., 2015); gain from
    ``calculate_gain(nonlinearity, a)``, fan from ``mode``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def lecun_normal_(tensor):
    """N(0, 1 / fan_in), untruncated, so the variance is exactly 1 / fan_in
    (LeCun et al., Efficient BackProp; not in PyTorch)."""
    fan_in, _ = _fans(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in))


def orthogonal_(tensor, gain=1.0):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013): the Q of the QR
    decomposition of a normal draw, with signs fixed by diag(R) so Q is uniformly
    distributed.  The tensor is viewed as (shape[0], rest); rows are orthonormal
    when there are fewer rows than columns, columns otherwise."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_ needs a tensor with at least 2 dimensions, got shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    draw = backend.rng().standard_normal((rows, cols))
    if rows < cols:
        draw = draw.T
    q, r = numpy.linalg.qr(draw)
    q *= numpy.sign(numpy.diag(r))
    if rows < cols:
        q = q.T
    with no_grad():
        return tensor.copy_(gain * q.reshape(tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Draws from N(mean, std^2) conditioned on a <= value <= b (a and b in the units of
    the values, as PyTorch's): each draw outside is drawn again until none is left."""
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    rng = backend.rng()
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    with no_grad():
        return tensor.copy_(values)


def eye_(tensor):
    """The identity matrix (ones on the diagonal of a 2-D tensor, zeros elsewhere)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    with no_grad():
        return tensor.copy_(numpy.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """A convolution weight (out, in, kh, kw) that passes its input through: 1 at the
    kernel's centre for each output channel's own input channel (per group), 0 elsewhere."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 and 5-D tensors are supported, got shape {tuple(tensor.shape)}")
    out_per_group = tensor.shape[0] // groups
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups ({groups})")
    weights = numpy.zeros(tensor.shape)
    centre = tuple(n // 2 for n in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            weights[(g * out_per_group + d, d) + centre] = 1
    with no_grad():
        return tensor.copy_(weights)
