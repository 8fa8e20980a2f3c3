"""Hypothesis strategies for property-testing differentiable code.

The test suite of tinygrad_bn is built on these; they are public so you can
property-test an op of your own::

    from hypothesis import given
    from tinygrad_bn.testing import strategies as tst
    import tinygrad_bn as tg

    @given(tst.tensors(shape=tst.shapes(max_dims=2), requires_grad=True))
    def test_my_op_gradient(x):
        assert tg.gradcheck(my_op, (x,))

Values are bounded and finite; small shapes keep numerical gradients cheap.
"""
import numpy
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, e.g. (), (3,), (2, 1, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Tuples of ``num_shapes`` shapes that broadcast together, with size-1 and missing axes."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda s: s.input_shapes)


def _elements(low, high, min_magnitude, width):
    if min_magnitude <= 0:
        return st.floats(low, high, width=width)
    if low >= 0:
        return st.floats(max(low, min_magnitude), high, width=width)
    magnitudes = st.floats(min_magnitude, max(-low, high), width=width)
    return st.tuples(st.sampled_from([-1.0, 1.0]), magnitudes).map(lambda sm: sm[0] * sm[1]).filter(
        lambda v: low <= v <= high)


def arrays(shape=None, dtype=numpy.float64, low=-3.0, high=3.0, min_magnitude=0.0, unique=False):
    """NumPy float arrays with finite elements in [low, high].

    ``min_magnitude`` keeps every |element| at least that large (away from the
    kinks of relu, abs... at 0); ``unique`` makes elements distinct (no ties
    for max/min).  ``shape`` is a shape or a strategy of shapes (default ``shapes()``).
    """
    dtype = numpy.dtype(dtype)
    shape = shapes() if shape is None else shape
    return hnp.arrays(dtype, shape, elements=_elements(low, high, min_magnitude, 8 * dtype.itemsize),
                      unique=unique)


@st.composite
def tensors(draw, shape=None, dtype=numpy.float64, low=-3.0, high=3.0, min_magnitude=0.0, unique=False,
            requires_grad=False, device=None):
    """Tensors with elements as in :func:`arrays`, on ``device``."""
    array = draw(arrays(shape, dtype, low, high, min_magnitude, unique))
    return Tensor(array, requires_grad=requires_grad, device=device, dtype=array.dtype)


def positive_tensors(shape=None, dtype=numpy.float64, low=0.1, high=3.0, requires_grad=False, device=None):
    """Tensors with elements in [low, high], low > 0: the domain of log, sqrt, x ** y."""
    if low <= 0:
        raise ValueError(f"positive_tensors needs low > 0, got {low}")
    return tensors(shape, dtype, low, high, requires_grad=requires_grad, device=device)


def basic_indices(shape):
    """Basic indices for an array of ``shape``: ints, slices, None, Ellipsis."""
    return hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)


@st.composite
def integer_array_indices(draw, shape, max_length=6):
    """A 1-D integer array indexing axis 0 of ``shape``; repeats and negatives included."""
    n = shape[0]
    values = draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=max_length))
    return numpy.asarray(values, dtype=numpy.int64)


def boolean_masks(shape):
    """Boolean arrays of ``shape`` (``x[mask]`` picks the True places)."""
    return hnp.arrays(numpy.bool_, shape)


def indices(shape):
    """Any index this library supports for an array of ``shape`` with at least one axis."""
    return st.one_of(basic_indices(shape), integer_array_indices(shape), boolean_masks(shape))
