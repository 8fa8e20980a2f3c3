"""add, sub, mul, div, neg, pow: forward against NumPy, gradcheck and
gradgradcheck over Hypothesis-drawn (broadcasting, size-1, 0-d) shapes."""
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves

BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]


@st.composite
def broadcasting_pair(draw, min_magnitude=0.0):
    """Operands of broadcastable shapes; ``min_magnitude`` keeps zeros (a zero
    gradient everywhere, or a division by zero) out."""
    shape_x, shape_y = draw(tst.broadcastable_shapes())
    return draw(tst.arrays(shape_x, min_magnitude=min_magnitude)), \
        draw(tst.arrays(shape_y, min_magnitude=min_magnitude))


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
@given(data=st.data())
def test_binary_tensor_tensor_with_broadcasting(device, op, data):
    x, y = data.draw(broadcasting_pair(min_magnitude=0.0 if op in (operator.add, operator.sub) else 0.5))
    check_op(op, op, [x, y], device)


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
@given(x=tst.arrays(min_magnitude=0.5), c=st.sampled_from([-2.5, -1.0, 0.5, 3.0]))
def test_binary_tensor_scalar_both_sides(device, op, x, c):
    check_op(lambda t: op(t, c), lambda a: op(a, c), [x], device)
    check_op(lambda t: op(c, t), lambda a: op(c, a), [x], device)


def test_binary_methods_match_operators(device):
    x, y = leaves([np.array([1.5, 2.0]), np.array([-3.0, 0.5])], device)
    for method, op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                       ("div", operator.truediv), ("pow", operator.pow)]:
        np.testing.assert_array_equal(getattr(x, method)(y).detach().numpy(), op(x, y).detach().numpy())


@given(x=tst.arrays())
def test_neg(device, x):
    check_op(lambda t: -t, np.negative, [x], device)
    check_op(lambda t: t.neg(), np.negative, [x], device)


@given(data=st.data())
def test_pow_tensor_exponent(device, data):
    """x ** y with both differentiated: the base stays positive (d/dy needs log x)."""
    shape_x, shape_y = data.draw(tst.broadcastable_shapes())
    x = data.draw(tst.arrays(shape_x, low=0.2, high=3.0))
    y = data.draw(tst.arrays(shape_y, low=-2.0, high=2.0, min_magnitude=0.1))   # 1 ** 0: zero gradients
    check_op(operator.pow, np.power, [x, y], device)


@given(x=tst.arrays(low=0.2, high=3.0), c=st.sampled_from([-1.5, -1.0, 0.5, 2.0, 2.5]))
def test_pow_scalar_exponent_positive_base(device, x, c):
    check_op(lambda t: t ** c, lambda a: a ** c, [x], device)


@given(x=tst.arrays(min_magnitude=0.1), c=st.sampled_from([1, 2, 3]))
def test_pow_integer_exponent_any_sign_base(device, x, c):
    check_op(lambda t: t ** c, lambda a: a ** c, [x], device)


@given(x=tst.arrays(), c=st.sampled_from([0.5, 2.0, 3.0]))
def test_pow_scalar_base(device, x, c):
    check_op(lambda t: c ** t, lambda a: c ** a, [x], device)


def test_pow_gradients_by_hand(device):
    x, y = leaves([np.array([2.0, 3.0]), np.array([3.0, 0.5])], device)
    (x ** y).backward(tg.tensor(np.ones(2), device=device))
    np.testing.assert_allclose(x.grad.numpy(), [3.0 * 2.0 ** 2, 0.5 * 3.0 ** -0.5])
    np.testing.assert_allclose(y.grad.numpy(), [8.0 * np.log(2.0), np.sqrt(3.0) * np.log(3.0)])


def test_pow_of_negative_base_with_tensor_exponent_differentiates_the_base_only(device):
    """d/dy of x ** y needs log x; when y needs no gradient a negative base is fine."""
    x = leaves([np.array([-2.0, -1.5])], device)[0]
    y = tg.tensor(np.array([2.0, 3.0]), device=device)
    (x ** y).backward(tg.tensor(np.ones(2), device=device))
    np.testing.assert_allclose(x.grad.numpy(), [2.0 * -2.0, 3.0 * 1.5 ** 2])
    assert y.grad is None
