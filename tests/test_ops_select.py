"""maximum/minimum (ties split the gradient equally), where (no gradient to
the condition), comparisons (boolean, never differentiated)."""
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves


@st.composite
def untied_pair(draw):
    """Broadcastable operands at least 0.25 apart everywhere: x on the grid of
    multiples of 1/2, y on the same grid shifted by 1/4."""
    shape_x, shape_y = draw(tst.broadcastable_shapes())
    x = np.round(draw(tst.arrays(shape_x)) * 2) / 2
    y = np.round(draw(tst.arrays(shape_y)) * 2) / 2 + 0.25
    return x, y


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(pair=untied_pair())
def test_maximum_and_minimum(device, name, pair):
    check_op(getattr(tg, name), getattr(np, name), list(pair), device,
             allow_zero=True)   # piecewise linear: second derivatives are 0 (d/du is not)
    check_op(lambda a, b: getattr(a, name)(b), getattr(np, name), list(pair), device, gradgrad=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data())
def test_ties_split_the_gradient_equally(device, name, data):
    x = data.draw(tst.arrays())
    upstream = data.draw(tst.arrays(x.shape))
    a, b = leaves([x, x.copy()], device)
    getattr(tg, name)(a, b).backward(tg.tensor(upstream, device=device))
    np.testing.assert_array_equal(a.grad.numpy(), upstream / 2)
    np.testing.assert_array_equal(b.grad.numpy(), upstream / 2)


def test_maximum_with_broadcasting_and_a_tie_by_hand(device):
    a, b = leaves([np.array([[1.0, 2.0]]), np.array([[1.0], [3.0]])], device)
    out = tg.maximum(a, b)            # [[1 (tie), 2 (a)], [3 (b), 3 (b)]]
    out.backward(tg.tensor(np.array([[10.0, 20.0], [30.0, 40.0]]), device=device))
    np.testing.assert_array_equal(a.grad.numpy(), [[5.0, 20.0]])
    np.testing.assert_array_equal(b.grad.numpy(), [[5.0], [70.0]])


def test_maximum_with_a_scalar(device):
    x = leaves([np.array([-1.0, 0.5, 2.0])], device)[0]
    x.maximum(0.5).backward(tg.ones(3, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 1.0])


@given(data=st.data())
def test_where(device, data):
    shape_c, shape_x, shape_y = data.draw(tst.broadcastable_shapes(num_shapes=3))
    condition = data.draw(tst.boolean_masks(shape_c))
    x, y = data.draw(tst.arrays(shape_x)), data.draw(tst.arrays(shape_y))
    check_op(lambda a, b: tg.where(condition, a, b), lambda a, b: np.where(condition, a, b), [x, y], device,
             allow_zero=True)
    check_op(lambda a, b: a.where(tg.tensor(condition, device=device), b),
             lambda a, b: np.where(condition, a, b), [x, y], device, gradgrad=False)


def test_where_sends_no_gradient_to_the_condition(device):
    s = leaves([np.array([-1.0, 2.0, -3.0])], device)[0]
    x, y = leaves([np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])], device)
    tg.where(s > 0, x * s, y).backward(tg.ones(3, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(s.grad.numpy(), [0.0, 2.0, 0.0])   # only through x * s


def test_where_with_scalars(device):
    x = leaves([np.array([1.0, -2.0])], device)[0]
    out = tg.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 0.0])
    assert out.dtype == tg.float64


COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda f: f.__name__)
@given(data=st.data())
def test_comparisons_are_boolean_and_not_differentiable(device, op, data):
    shape_x, shape_y = data.draw(tst.broadcastable_shapes())
    x = np.round(data.draw(tst.arrays(shape_x)))          # rounded: equal elements occur
    y = np.round(data.draw(tst.arrays(shape_y)))
    a, b = leaves([x, y], device)
    for out, expected in [(op(a, b), op(x, y)), (op(a, 1.0), op(x, 1.0)), (op(1.0, a), op(1.0, x))]:
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), expected)
