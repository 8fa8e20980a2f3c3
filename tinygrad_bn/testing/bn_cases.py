"""BatchNorm inputs to test on, and BatchNorm in plain NumPy to test against.

A case is an input of shape (N, C) or (N, C, L) with N in 2..64 and C in
1..16, per-channel offsets and scales, and (with ``affine``) gamma and beta.
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
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..creation import tensor

MIN_STD = 0.2
# A stream of its own ((CASE_STREAM, seed), not seed): gradcheck draws its upstream
# gradient u from default_rng(0), and an input x equal to u (Hypothesis tries seed 0
# first) makes BN's input gradient exactly zero, since u then lies in span(1, x_hat).
CASE_STREAM = 2015


@dataclass
class Case:
    x: np.ndarray
    weight: np.ndarray = None      # None: affine off
    bias: np.ndarray = None
    seed: int = None               # what make_case built it from (None: built by hand)

    def tensors(self, dtype=np.float64, device="cpu", requires_grad=True):
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
            return f"input of shape {self.x.shape}"
        return f"input of shape {self.x.shape} (seed {self.seed}, affine {'off' if self.weight is None else 'on'})"

    def recipe(self):
        """The call that makes this case again (None for a case built by hand)."""
        if self.seed is None:
            return None
        return f"make_case({self.x.shape}, seed={self.seed}, affine={self.weight is not None})"


def make_case(shape, seed, affine):
    """The case of ``shape`` ((N, C) or (N, C, L), N >= 2) drawn from ``seed``."""
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


@st.composite
def cases(draw, max_elements=64 * 16 * 4, affine=None):
    """A Case with at most ``max_elements`` input elements; ``affine`` None draws it."""
    length = draw(st.none() | st.integers(1, 4))
    per_sample = 1 if length is None else length
    channels = draw(st.integers(1, min(16, max_elements // (2 * per_sample))))
    batch = draw(st.integers(2, min(64, max_elements // (channels * per_sample))))
    shape = (batch, channels) if length is None else (batch, channels, length)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return make_case(shape, seed, draw(st.booleans()) if affine is None else affine)


def reduction_axes(x):
    """Axis 0, and axis 2 of (N, C, L): the axes a channel's statistics run over."""
    return (0,) + tuple(range(2, x.ndim))


def channel_shape(x):
    """(1, C) or (1, C, 1): the shape that broadcasts a per-channel vector against x."""
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
