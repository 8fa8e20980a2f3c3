"""sum, mean, var (correction 0/1/2), max, min over axis int / tuple /
negative / None, with and without keepdims: forward against NumPy, gradcheck,
gradgradcheck, and the tie rule of max/min (the gradient is split equally)."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves


@st.composite
def axes(draw, ndim):
    """None, one axis, or a tuple of distinct axes, each possibly negative."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


def reduced_count(shape, axis):
    """How many elements each output element of a reduction over ``axis`` summarises."""
    reduced = range(len(shape)) if axis is None else np.atleast_1d(axis)
    return int(np.prod([shape[a] for a in reduced]))


@st.composite
def reduction_case(draw, distinct=False):
    """(array, axis, keepdims); ``distinct`` spaces all elements >= 0.25 apart
    (no ties, and no near-ties that central differences would straddle)."""
    shape = draw(tst.shapes())
    if distinct:
        n = int(np.prod(shape))
        order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
        array = ((order - n / 2) * 0.25 + draw(st.floats(-0.1, 0.1))).reshape(shape)
    else:
        array = draw(tst.arrays(shape))
    return array, draw(axes(len(shape))), draw(st.booleans())


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(case=reduction_case())
def test_sum_and_mean(device, name, case):
    x, axis, keepdims = case
    check_op(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
             lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims), [x], device,
             allow_zero=name == "mean")   # mean is linear: its second derivative is 0


@pytest.mark.parametrize("correction", [0, 1, 2])
@given(case=reduction_case())
def test_var(device, correction, case):
    x, axis, keepdims = case
    assume(reduced_count(x.shape, axis) > correction)
    check_op(lambda t: t.var(axis=axis, keepdims=keepdims, correction=correction),
             lambda a: np.var(a, axis=axis, keepdims=keepdims, ddof=correction), [x], device,
             allow_zero=True)   # the variance of one element (correction 0) is constant


def test_var_defaults_to_the_unbiased_estimate(device):
    x = tg.tensor(np.array([1.0, 2.0, 4.0]), device=device)
    assert x.var().item() == pytest.approx(7.0 / 3.0)


def test_var_with_too_few_elements_for_the_correction_raises(device):
    x = tg.tensor(np.array([[1.0, 2.0]]), device=device)
    with pytest.raises(ValueError, match="correction"):
        x.var(axis=0)
    with pytest.raises(ValueError, match="correction"):
        x.var(correction=2)


@pytest.mark.parametrize("name", ["max", "min"])
@given(case=reduction_case(distinct=True))
def test_amax_and_amin_without_ties(device, name, case):
    x, axis, keepdims = case
    check_op(lambda t: getattr(t, "a" + name)(axis=axis, keepdims=keepdims),
             lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims), [x], device,
             allow_zero=True)   # piecewise linear: the second derivative is 0


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_amax_and_amin_split_ties_equally(device, name, data):
    """Each of the k tied extremes receives 1/k of the upstream gradient (torch.amax's rule)."""
    shape = data.draw(tst.shapes(min_dims=1))
    x = data.draw(tst.arrays(shape).map(np.round))       # few distinct values: many ties
    axis, keepdims = data.draw(axes(len(shape))), data.draw(st.booleans())
    t = leaves([x], device)[0]
    out = getattr(t, "a" + name)(axis=axis, keepdims=keepdims)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(tg.tensor(upstream, device=device))
    extreme = getattr(np, name)(x, axis=axis, keepdims=True)
    winners = (x == extreme)
    expected = winners / winners.sum(axis=axis, keepdims=True) * upstream.reshape(extreme.shape)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12)


def test_amax_ties_by_hand(device):
    x = leaves([np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], device)[0]
    x.amax(dim=1).backward(tg.tensor(np.array([6.0, 9.0]), device=device))
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 3.0, 3.0], [3.0, 3.0, 3.0]])


def test_max_over_everything_splits_ties_as_torch_max():
    """torch.max(x) with no dim distributes the gradient evenly over the tied maxima."""
    x = tg.tensor([[1.0, 3.0], [3.0, 0.0]], dtype=tg.float64, requires_grad=True)
    x.max().backward(tg.tensor(4.0, dtype=tg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 2.0], [2.0, 0.0]])


def test_max_of_an_empty_tensor_raises(device):
    with pytest.raises(ValueError, match="empty"):
        tg.zeros(0, device=device).max()


def test_axis_out_of_range_raises(device):
    x = tg.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        x.sum(axis=2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        x.sum(dim=(1, -1))
