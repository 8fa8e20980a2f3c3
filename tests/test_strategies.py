"""The Hypothesis strategies keep their promises (bounds, broadcasting,
min_magnitude, uniqueness, index validity)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst


@given(shape=tst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_their_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(2 <= n <= 4 for n in shape)


@given(shapes=tst.broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    result = np.broadcast_shapes(*shapes)
    assert all(len(s) <= 3 for s in shapes) and len(result) <= 3


@given(x=tst.arrays(low=-2.0, high=5.0))
def test_arrays_are_finite_float64_within_bounds(x):
    assert x.dtype == np.float64 and np.isfinite(x).all()
    assert ((-2.0 <= x) & (x <= 5.0)).all()


@given(x=tst.arrays(dtype=np.float32, low=-1.0, high=1.0))
def test_arrays_of_float32(x):
    assert x.dtype == np.float32 and ((-1.0 <= x) & (x <= 1.0)).all()


@pytest.mark.parametrize("low, high", [(-3.0, 3.0), (0.0, 2.0), (-1.0, 4.0)])
@given(data=st.data())
def test_min_magnitude_is_respected(low, high, data):
    x = data.draw(tst.arrays(low=low, high=high, min_magnitude=0.5))
    assert (np.abs(x) >= 0.5).all() and ((low <= x) & (x <= high)).all()


@given(x=tst.arrays(unique=True))
def test_unique_elements_are_distinct(x):
    assert len(np.unique(x)) == x.size


@given(t=tst.tensors(shape=(2, 3), requires_grad=True), p=tst.positive_tensors(low=0.5, high=2.0))
def test_tensors_and_positive_tensors(t, p):
    assert isinstance(t, tg.Tensor) and t.shape == (2, 3) and t.requires_grad and t.dtype == tg.float64
    assert t.device == tg.get_default_device()          # strategies draw on the default device
    assert not p.requires_grad and ((0.5 <= p.numpy()) & (p.numpy() <= 2.0)).all()


def test_positive_tensors_need_a_positive_lower_bound():
    with pytest.raises(ValueError, match="low > 0"):
        tst.positive_tensors(low=0.0)


@given(data=st.data())
def test_masks_and_indices_fit_their_shape(data):
    shape = data.draw(tst.shapes(min_dims=1))
    x = np.arange(int(np.prod(shape))).reshape(shape)
    mask = data.draw(tst.boolean_masks(shape))
    assert mask.shape == shape and mask.dtype == np.bool_
    rows = data.draw(tst.integer_array_indices(shape))
    assert rows.ndim == 1 and rows.dtype == np.int64 and ((-shape[0] <= rows) & (rows < shape[0])).all()
    x[data.draw(tst.basic_indices(shape))]           # every drawn index is valid for the shape
    x[data.draw(tst.indices(shape))]
