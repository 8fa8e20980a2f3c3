"""Unary elementwise ops: forward against NumPy, gradcheck and gradgradcheck;
sigmoid's stability for large |x|; derivatives at the kinks (PyTorch's choices)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")   # no overflow, no 0/0


def sigmoid_reference(a):
    """1 / (1 + e^-x) = exp(-log(1 + e^-x)), with NumPy's stable log-add-exp."""
    return np.exp(-np.logaddexp(0.0, -a))


# name -> (the op on a tensor, NumPy's reference, the strategy of inputs)
UNARY = {
    "exp": (lambda t: t.exp(), np.exp, tst.arrays()),
    "log": (lambda t: t.log(), np.log, tst.arrays(low=0.1, high=3.0)),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, tst.arrays(low=0.1, high=3.0)),
    "abs": (lambda t: t.abs(), np.abs, tst.arrays(min_magnitude=0.01)),
    "tanh": (lambda t: t.tanh(), np.tanh, tst.arrays()),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: sigmoid_reference(a), tst.arrays(low=-8.0, high=8.0)),
    "relu": (lambda t: t.relu(), lambda a: np.maximum(a, 0), tst.arrays(min_magnitude=0.01)),
    "leaky_relu": (lambda t: t.leaky_relu(), lambda a: np.where(a > 0, a, 0.01 * a),
                   tst.arrays(min_magnitude=0.01)),
    "leaky_relu_0.2": (lambda t: t.leaky_relu(0.2), lambda a: np.where(a > 0, a, 0.2 * a),
                       tst.arrays(min_magnitude=0.01)),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_op(device, name, data):
    op, reference, arrays = UNARY[name]
    # an all-negative input has a zero relu gradient everywhere: true, and allowed
    check_op(op, reference, [data.draw(arrays)], device, allow_zero=name == "relu")


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_sigmoid_is_finite_for_large_magnitudes(device, dtype):
    x = tg.tensor(np.array([-1000.0, -750.0, -40.0, 0.0, 40.0, 750.0, 1000.0]), dtype=dtype,
                  requires_grad=True, device=device)
    y = x.sigmoid()
    y.backward(tg.ones(7, dtype=dtype, device=device))
    values, grads = y.detach().numpy(), x.grad.numpy()
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(values).all() and np.isfinite(grads).all()
    np.testing.assert_allclose(values, sigmoid_reference(x.detach().numpy().astype(np.float64)), rtol=1e-6)
    np.testing.assert_array_equal(values[[0, 1, -2, -1]], [0.0, 0.0, 1.0, 1.0])
    assert values[3] == 0.5 and grads[3] == 0.25
    np.testing.assert_array_equal(grads[[0, 1, -2, -1]], 0.0)


@given(x=tst.arrays(low=-1000.0, high=1000.0))
def test_sigmoid_over_a_wide_range(device, x):
    """Exact to rounding wherever e^-x is finite; where it overflows (x below about
    -709.78 in float64) the result is 0, as PyTorch's 1 / (1 + e^-x) gives, although
    the true value, below 2.3e-308, would still be a subnormal number."""
    y = tg.tensor(x, device=device).sigmoid().numpy()
    finite = x > -np.log(np.finfo(np.float64).max)
    np.testing.assert_allclose(y[finite], sigmoid_reference(x[finite]), rtol=1e-12, atol=0)
    assert (y[~finite] == 0).all() and (sigmoid_reference(x[~finite]) < np.finfo(np.float64).tiny).all()
    assert ((0 <= y) & (y <= 1)).all()


def test_derivatives_at_zero_follow_pytorch(device):
    """At the kink x = 0: relu' = 0, |x|' = 0, leaky_relu' = the negative slope."""
    for op, expected in [(lambda t: t.relu(), 0.0), (lambda t: t.abs(), 0.0),
                         (lambda t: t.leaky_relu(0.2), 0.2)]:
        x = leaves([np.zeros(3)], device)[0]
        op(x).backward(tg.ones(3, dtype=tg.float64, device=device))
        np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_second_derivative_of_tanh_is_closed_form(device):
    x = leaves([np.linspace(-2.0, 2.0, 5)], device)[0]
    (first,) = tg.autograd.grad(x.tanh(), x, tg.ones(5, dtype=tg.float64, device=device), create_graph=True)
    (second,) = tg.autograd.grad(first, x, tg.ones(5, dtype=tg.float64, device=device))
    t = np.tanh(np.linspace(-2.0, 2.0, 5))
    np.testing.assert_allclose(first.detach().numpy(), 1 - t ** 2, rtol=1e-12)
    np.testing.assert_allclose(second.numpy(), -2 * t * (1 - t ** 2), rtol=1e-12, atol=1e-15)
