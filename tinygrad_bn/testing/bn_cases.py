"""BatchNorm inputs to test on, and BatchNorm in plain NumPy to test against.

A case is an input with N in 2..64 and C in 1..16, per-channel offsets and
scales, and (with ``affine``) gamma and beta.  Its shape is one BatchNorm1d
takes, (N, C) or (N, C, L) (``BATCHNORM1D_NDIMS``), or the (N, C, H, W) of
BatchNorm2d (``BATCHNORM2D_NDIMS``), with L, H, W in 1..4.
``make_case(shape, seed, affine)`` builds it from one seed, so any case a
test or an exercise check reports can be made again by hand; ``cases()``
draws shape, seed and affine with Hypothesis.

Every channel is guaranteed a spread: a channel whose values come out with
standard deviation below 0.2 gets a fixed ramp added, and since the standard
deviation of centred vectors is a norm, the sum then has standard deviation
at least std(ramp) - 0.2 >= 0.67 (before the channel's scale).  That keeps
1/sigma, and so every derivative, of moderate size.

The NumPy functions at the end are the oracle: they use nothing of the
library, so they cannot share its mistakes.
"""
import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..creation import tensor

MIN_STD = 0.2
# A stream of its own ((CASE_STREAM, seed), not seed): gradcheck draws its upstream
# gradient u from default_rng(0), and an input x equal to u (Hypothesis tries seed 0
# first) makes BN's input gradient exactly zero, since u then lies in span(1, x_hat).
CASE_STREAM = 2015
BATCHNORM1D_NDIMS = (2, 3)      # (N, C) and (N, C, L)
BATCHNORM2D_NDIMS = (4,)        # (N, C, H, W)


@dataclass
class Case:
    x: np.ndarray
    weight: np.ndarray = None      # None: affine off
    bias: np.ndarray = None
    seed: int = None               # what make_case built it from (None: built by hand)

    def tensors(self, dtype=np.float64, device=None, requires_grad=True):
        """(x, weight, bias) as tensors; weight and bias None without affine."""
        def make(a):
            return None if a is None else tensor(a, dtype=dtype, device=device, requires_grad=requires_grad)
        return make(self.x), make(self.weight), make(self.bias)

    @property
    def channels(self):
        return self.x.shape[1]

    @property
    def group_size(self):
        """m, the number of values each channel's statistics run over."""
        return self.x.size // self.channels

    def describe(self):
        """'input of shape (4, 3) (seed 7, affine on)', for messages."""
        if self.seed is None:
            return f"input of shape {tuple(self.x.shape)}"
        return f"input of shape {tuple(self.x.shape)} (seed {self.seed}, affine {'off' if self.weight is None else 'on'})"

    def recipe(self):
        """The call that makes this case again (None for a case built by hand)."""
        if self.seed is None:
            return None
        return f"make_case({tuple(self.x.shape)}, seed={self.seed}, affine={self.weight is not None})"


def make_case(shape, seed, affine):
    """The case of ``shape`` ((N, C), (N, C, L) or (N, C, H, W), N >= 2) drawn from ``seed``."""
    batch, channels = shape[0], shape[1]
    rng = np.random.default_rng((CASE_STREAM, seed))
    values = rng.standard_normal(shape)
    ramp = np.linspace(-1.5, 1.5, batch).reshape((batch, 1) + (1,) * (len(shape) - 2))
    too_flat = values.std(axis=reduction_axes(values), keepdims=True) < MIN_STD
    values = np.where(too_flat, values + ramp, values)
    scale = np.exp(rng.uniform(np.log(0.5), np.log(3.0), channels)).reshape(channel_shape(values))
    offset = rng.uniform(-5, 5, channels).reshape(channel_shape(values))
    x = values * scale + offset
    if not affine:
        return Case(x, seed=seed)
    gamma = rng.uniform(0.25, 2.0, channels) * rng.choice([-1.0, 1.0], channels)
    return Case(x, gamma, rng.uniform(-2, 2, channels), seed=seed)


def spatial_sizes(ndims=BATCHNORM1D_NDIMS, max_per_sample=16):
    """The sizes after (N, C) of an input whose rank is in ``ndims``: () for (N, C),
    (L,) for (N, C, L), (H, W) for (N, C, H, W); each size in 1..4 and their
    product at most ``max_per_sample``."""
    size = st.integers(1, 4)
    by_rank = {2: st.just(()), 3: st.tuples(size), 4: st.tuples(size, size)}
    return st.one_of([by_rank[n] for n in ndims]).filter(lambda sizes: math.prod(sizes) <= max_per_sample)


@st.composite
def cases(draw, max_elements=64 * 16 * 4, affine=None, ndims=BATCHNORM1D_NDIMS):
    """A Case with at most ``max_elements`` input elements, of a rank in ``ndims``;
    ``affine`` None draws it."""
    spatial = draw(spatial_sizes(ndims, max_elements // 2))
    per_sample = math.prod(spatial)
    channels = draw(st.integers(1, min(16, max_elements // (2 * per_sample))))
    batch = draw(st.integers(2, min(64, max_elements // (channels * per_sample))))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return make_case((batch, channels) + spatial, seed, draw(st.booleans()) if affine is None else affine)


def reduction_axes(x):
    """Every axis but the channel axis 1: the axes a channel's statistics run over."""
    return (0,) + tuple(range(2, x.ndim))


def channel_shape(x):
    """(1, C), (1, C, 1) or (1, C, 1, 1): the shape that broadcasts a per-channel vector against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def numpy_normalize(x, eps=1e-5):
    """x_hat and the biased variance per channel (keepdims), the textbook way."""
    axes = reduction_axes(x)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), var


def numpy_affine(x_hat, weight, bias):
    """gamma * x_hat + beta per channel (weight or bias None: left out)."""
    y = x_hat if weight is None else x_hat * weight.reshape(channel_shape(x_hat))
    return y if bias is None else y + bias.reshape(channel_shape(x_hat))
