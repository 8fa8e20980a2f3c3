"""Inputs for the normalization family, and the family in plain NumPy to test against.

A NormCase is an input, the layer it is for and that layer's grouping:

    kind        size                                 a group is
    "layer"     the number of normalised last dims   a sample's last ``size`` dims
    "group"     the number of groups G               a sample's C/G consecutive channels
    "instance"  (unused)                             a sample's channel, over its spatial dims
    "ghost"     the number of ghost batches k        a channel of one of k consecutive slices of the batch

The oracle sees each of them as a matrix whose rows are the groups
(``case.rows(x)``): the groups of LayerNorm, GroupNorm and InstanceNorm are
contiguous in memory, so a reshape to (groups, m) lists them; ghost batches
(and BatchNorm, k = 1) need a transpose that brings the channel before the
samples.  That matrix is the oracle's only idea of a group, written with NumPy
reshapes and transposes and nothing of the library, so it cannot share the
library's layouts (ops/normalization.py) or their mistakes.

Every group is guaranteed a spread, as in bn_cases: a group whose values come
out with standard deviation below 0.2 gets a fixed ramp added, and each group
gets an offset and a scale of its own, so 1/sigma and the derivatives stay of
moderate size and the shift and scale of every group are exercised.
``make_norm_case(kind, shape, size, seed, affine)`` builds a case from one seed;
``norm_cases(kind)`` draws shape, size, seed and affine with Hypothesis.
"""
import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from .bn_cases import MIN_STD, Case

NORM_STREAM = 2016          # a seed stream of its own, as bn_cases' CASE_STREAM
KINDS = ("layer", "group", "instance", "ghost")
LAYER_NAMES = {"layer": "LayerNorm", "group": "GroupNorm", "instance": "InstanceNorm", "ghost": "ghost BatchNorm"}


@dataclass
class NormCase(Case):
    kind: str = "layer"
    size: int = 1

    # ------------------------------------------------------------ the groups, as the rows of a matrix
    def _ghost_view(self):
        k = self.size
        n, channels = self.x.shape[0] // k, self.x.shape[1]
        return (k, n, channels, math.prod(self.x.shape[2:]))

    def rows(self, a):
        """``a`` (of the input's shape) as a (groups, m) matrix, one group per row."""
        if self.kind == "ghost":
            return a.reshape(self._ghost_view()).transpose(0, 2, 1, 3).reshape(self.groups, self.group_size)
        return a.reshape(self.groups, self.group_size)

    def unrows(self, rows):
        """The inverse of ``rows``."""
        if self.kind == "ghost":
            k, n, channels, spatial = self._ghost_view()
            return rows.reshape(k, channels, n, spatial).transpose(0, 2, 1, 3).reshape(self.x.shape)
        return rows.reshape(self.x.shape)

    @property
    def group_size(self):
        """m, the number of values in a group."""
        shape = self.x.shape
        if self.kind == "layer":
            return math.prod(shape[len(shape) - self.size:])
        if self.kind == "group":
            return shape[1] // self.size * math.prod(shape[2:])
        if self.kind == "instance":
            return math.prod(shape[2:])
        return shape[0] // self.size * math.prod(shape[2:])

    @property
    def groups(self):
        return self.x.size // self.group_size

    # ------------------------------------------------------------ gamma and beta
    @property
    def normalized_shape(self):
        """LayerNorm's normalized_shape: the input's last ``size`` dims."""
        return self.x.shape[self.x.ndim - self.size:]

    @property
    def affine_shape(self):
        """The shape of weight and bias: per element of normalized_shape (LayerNorm), else per channel."""
        return self.normalized_shape if self.kind == "layer" else (self.x.shape[1],)

    def broadcast(self, vector):
        """weight or bias, or an array of their shape, broadcastable against the input."""
        if self.kind == "layer":
            return vector
        return vector.reshape((1, -1) + (1,) * (self.x.ndim - 2))

    @property
    def shared_axes(self):
        """The input axes weight and bias are shared along: dweight, dbias are sums over them."""
        if self.kind == "layer":
            return tuple(range(self.x.ndim - self.size))
        return (0,) + tuple(range(2, self.x.ndim))

    # ------------------------------------------------------------ messages
    def describe(self):
        """'GroupNorm with 2 groups on an input of shape (4, 6, 3) (seed 7, affine on)', for messages."""
        what = {"layer": f"LayerNorm over the last {self.size} dims", "group": f"GroupNorm with {self.size} groups",
                "instance": "InstanceNorm", "ghost": f"ghost BatchNorm with {self.size} ghost batches"}[self.kind]
        seed = "" if self.seed is None else f"seed {self.seed}, "
        return f"{what} on an input of shape {tuple(self.x.shape)} ({seed}affine {'off' if self.weight is None else 'on'})"

    def recipe(self):
        """The call that makes this case again (None for a case built by hand)."""
        if self.seed is None:
            return None
        return (f"make_norm_case({self.kind!r}, {tuple(self.x.shape)}, size={self.size}, seed={self.seed}, "
                f"affine={self.weight is not None})")


def make_norm_case(kind, shape, size, seed, affine):
    """The case of ``kind`` on an input of ``shape`` drawn from ``seed`` (every group of at least 2 values)."""
    rng = np.random.default_rng((NORM_STREAM, seed))
    case = NormCase(rng.standard_normal(shape), kind=kind, size=size, seed=seed)
    rows = case.rows(case.x)
    ramp = np.linspace(-1.5, 1.5, case.group_size)
    rows = np.where(rows.std(axis=1, keepdims=True) < MIN_STD, rows + ramp, rows)
    scale = np.exp(rng.uniform(np.log(0.5), np.log(3.0), (case.groups, 1)))
    case.x = case.unrows(rows * scale + rng.uniform(-5, 5, (case.groups, 1)))
    if affine:
        n = math.prod(case.affine_shape)
        gamma = rng.uniform(0.25, 2.0, n) * rng.choice([-1.0, 1.0], n)
        case.weight = gamma.reshape(case.affine_shape)
        case.bias = rng.uniform(-2, 2, n).reshape(case.affine_shape)
    return case


def _dims(draw, count, budget, low=1, high=5):
    """``count`` sizes in [low, high] whose product stays within ``budget`` (as far as low allows)."""
    dims = []
    for _ in range(count):
        n = draw(st.integers(low, max(low, min(high, budget))))
        budget = max(budget // n, 1)
        dims.append(n)
    return dims


@st.composite
def norm_cases(draw, kind, max_elements=256, affine=None):
    """A NormCase of ``kind`` with at most about ``max_elements`` input elements and
    groups of at least 2 values; ``affine`` None draws it."""
    if kind == "layer":
        normalized = _dims(draw, draw(st.integers(1, 2)), max_elements // 2)
        if math.prod(normalized) == 1:
            normalized[-1] = 2
        lead = _dims(draw, draw(st.integers(0, 2)), max_elements // math.prod(normalized))
        shape, size = tuple(lead + normalized), len(normalized)
    elif kind == "group":
        groups = draw(st.integers(1, 4))
        per_group = draw(st.integers(1, 3))
        spatial = _dims(draw, draw(st.integers(0, 2)), max_elements // (2 * groups * per_group))
        if per_group * math.prod(spatial) == 1:
            per_group = 2
        batch = _dims(draw, 1, max_elements // (groups * per_group * math.prod(spatial)))[0]
        shape, size = (batch, groups * per_group) + tuple(spatial), groups
    elif kind == "instance":
        spatial = _dims(draw, draw(st.integers(1, 2)), max_elements // 2)
        if math.prod(spatial) == 1:
            spatial[-1] = 2
        channels = _dims(draw, 1, max_elements // math.prod(spatial), high=4)[0]
        batch = _dims(draw, 1, max_elements // (channels * math.prod(spatial)), high=4)[0]
        shape, size = (batch, channels) + tuple(spatial), 1
    else:
        length = draw(st.none() | st.integers(1, 3))
        per_sample = 1 if length is None else length
        channels = _dims(draw, 1, max_elements // (2 * per_sample), high=4)[0]
        ghosts = draw(st.integers(1, 4))
        low = 1 if per_sample > 1 else 2
        n = draw(st.integers(low, max(low, max_elements // (ghosts * channels * per_sample))))
        shape, size = (ghosts * n, channels) + (() if length is None else (length,)), ghosts
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return make_norm_case(kind, shape, size, seed, draw(st.booleans()) if affine is None else affine)


def numpy_group_normalize(case, x=None, eps=1e-5):
    """x_hat (of the input's shape) and the biased variance of each group (a column of
    the rows matrix), the textbook way on the case's input (or on ``x``)."""
    rows = case.rows(case.x if x is None else x)
    mean, var = rows.mean(axis=1, keepdims=True), rows.var(axis=1, keepdims=True)
    return case.unrows((rows - mean) / np.sqrt(var + eps)), var
