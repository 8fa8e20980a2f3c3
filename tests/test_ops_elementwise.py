"""Unary elementwise ops: forward against NumPy, gradcheck and gradgradcheck;
sigmoid's stability for large |x|; derivatives at the kinks (PyTorch's choices);
the piecewise-constant functions (floor, ceil, trunc, round, sign) and their
zero gradient; atan2; the in-place forms; integer inputs."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

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

# the rest of torch's unary functions: fewer examples each (the suite's time), the same three checks
MORE_UNARY = {
    "log1p": (lambda t: t.log1p(), np.log1p, tst.arrays(low=-0.9, high=3.0)),
    "expm1": (lambda t: t.expm1(), np.expm1, tst.arrays()),
    "log2": (lambda t: t.log2(), np.log2, tst.arrays(low=0.1, high=3.0)),
    "log10": (lambda t: t.log10(), np.log10, tst.arrays(low=0.1, high=3.0)),
    "reciprocal": (lambda t: t.reciprocal(), lambda a: 1 / a, tst.arrays(min_magnitude=0.2)),
    "rsqrt": (lambda t: t.rsqrt(), lambda a: 1 / np.sqrt(a), tst.arrays(low=0.1, high=3.0)),
    "square": (lambda t: t.square(), np.square, tst.arrays(min_magnitude=0.1)),   # 0 at 0
    "frac": (lambda t: t.frac(), lambda a: a - np.trunc(a),                 # away from its jumps
             tst.arrays(low=-0.95, high=0.95, min_magnitude=0.05)),
    "sin": (lambda t: t.sin(), np.sin, tst.arrays()),
    "cos": (lambda t: t.cos(), np.cos, tst.arrays(min_magnitude=0.1)),   # cos'(0) = 0
    "tan": (lambda t: t.tan(), np.tan, tst.arrays(low=-1.2, high=1.2)),
    "asin": (lambda t: t.asin(), np.arcsin, tst.arrays(low=-0.9, high=0.9)),
    "acos": (lambda t: t.acos(), np.arccos, tst.arrays(low=-0.9, high=0.9)),
    "atan": (lambda t: t.atan(), np.arctan, tst.arrays()),
    "sinh": (lambda t: t.sinh(), np.sinh, tst.arrays()),
    "cosh": (lambda t: t.cosh(), np.cosh, tst.arrays(min_magnitude=0.1)),
    "asinh": (lambda t: t.asinh(), np.arcsinh, tst.arrays()),
    "acosh": (lambda t: t.acosh(), np.arccosh, tst.arrays(low=1.1, high=3.0)),
    "atanh": (lambda t: t.atanh(), np.arctanh, tst.arrays(low=-0.9, high=0.9)),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_op(device, name, data):
    op, reference, arrays = UNARY[name]
    # an all-negative input has a zero relu gradient everywhere: true, and allowed
    check_op(op, reference, [data.draw(arrays)], device, allow_zero=name == "relu")


@pytest.mark.parametrize("name", MORE_UNARY)
@settings(max_examples=5)
@given(data=st.data())
def test_more_unary_ops(device, name, data):
    op, reference, arrays = MORE_UNARY[name]
    check_op(op, reference, [data.draw(arrays)], device)


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


@given(y=tst.arrays(shape=(3, 4), min_magnitude=0.1), x=tst.arrays(shape=(4,), min_magnitude=0.1))
def test_atan2_values_and_gradients(device, y, x):
    """The angle of (x, y), broadcast; the partial derivatives x / r^2 and -y / r^2.
    (y stays away from 0, where the angle jumps from pi to -pi for x < 0.)"""
    check_op(lambda a, b: tg.atan2(a, b), np.arctan2, [y, x], device)


ROUNDING = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": np.round, "sign": np.sign}


@pytest.mark.parametrize("name", ROUNDING)
@given(a=tst.arrays(low=-5.0, high=5.0))
def test_piecewise_constant_functions_have_zero_gradient(device, name, a):
    """NumPy's values; the output is in the graph (requires grad, as in torch) and the
    gradient that reaches x through it is 0, as the numerical derivative between jumps."""
    x = leaves([a], device)[0]
    y = getattr(x, name)()
    np.testing.assert_array_equal(y.detach().numpy(), ROUNDING[name](a))
    assert y.requires_grad and y.dtype == np.float64
    (y * x).backward(tg.ones(a.shape, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), ROUNDING[name](a))   # d(f(x) x)/dx = f(x) + 0


def test_round_halves_to_even_and_to_decimals(device):
    x = tg.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.567], device=device)
    assert x.round().tolist() == [0.0, 2.0, 2.0, -0.0, -2.0, 3.0]
    assert x.round(decimals=2).tolist()[-1] == pytest.approx(2.57)
    assert tg.round(x, decimals=1).tolist()[:2] == [0.5, 1.5]


def test_integer_inputs_follow_torch(device):
    """Whole numbers stay integers under rounding and square; the transcendental
    functions and reciprocal give float32."""
    n = tg.tensor([-3, 0, 2], device=device)
    for name in ("floor", "ceil", "trunc", "round", "sign", "square"):
        out = getattr(n, name)()
        assert out.dtype == tg.int64, name
    assert n.sign().tolist() == [-1, 0, 1] and n.square().tolist() == [9, 0, 4]
    assert n.floor() is not n and n.floor()._data is not n._data
    positive = tg.tensor([1, 3], device=device)
    for name in ("sin", "cos", "atan", "log1p", "expm1", "sinh", "reciprocal", "rsqrt", "log2"):
        assert getattr(positive, name)().dtype == tg.float32, name
    assert positive.reciprocal().tolist()[1] == pytest.approx(1 / 3)


@pytest.mark.parametrize("name", ["sin", "log1p", "floor", "round", "rsqrt", "atanh"])
def test_in_place_forms_write_into_the_tensor(device, name):
    a = np.array([0.25, 0.5, 0.75])
    x = tg.tensor(a, device=device)
    view = x[1:]
    expected = getattr(x, name)().numpy()
    assert getattr(x, name + "_")() is x
    np.testing.assert_array_equal(x.numpy(), expected)
    np.testing.assert_array_equal(view.numpy(), expected[1:])      # views see it
    assert x._version[0] == 1


def test_in_place_form_of_a_float_function_refuses_an_integer_tensor(device):
    n = tg.tensor([1, 2], device=device)
    with pytest.raises(RuntimeError, match="float32 can't be cast to the desired output type int64"):
        n.sin_()
    assert n.tolist() == [1, 2]


def test_in_place_forms_are_differentiated_in_a_graph(device):
    """h = 2w, then h.exp_(): d sum(exp(2w)) / dw = 2 exp(2w)."""
    w = leaves([np.array([0.1, -0.3])], device)[0]
    h = w * 2
    h.exp_()
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.exp(2 * np.array([0.1, -0.3])), rtol=1e-14)


def test_outside_the_domain_gives_nan_without_a_warning(device):
    x = tg.tensor([2.0, 0.5], device=device)
    assert np.isnan(x.asin().numpy()[0]) and np.isnan(x.acosh().numpy()[1])
    assert np.isnan(x.atanh().numpy()[0]) and np.isnan(x.acos().numpy()[0])


@pytest.mark.parametrize("name", ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
                                  "acosh", "atanh", "log1p", "expm1", "log2", "log10", "reciprocal",
                                  "rsqrt", "square", "frac", "floor", "ceil", "trunc", "round", "sign"])
def test_values_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    domain = {"asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atanh": (-0.9, 0.9), "acosh": (1.1, 3.0),
              "log1p": (-0.9, 3.0), "log2": (0.1, 3.0), "log10": (0.1, 3.0), "rsqrt": (0.1, 3.0),
              "tan": (-1.2, 1.2)}.get(name, (-3.0, 3.0))
    a = np.random.default_rng(len(name)).uniform(*domain, size=(3, 5))
    upstream = np.random.default_rng(1).normal(size=(3, 5))
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = getattr(tg, name)(x), getattr(torch, name)(tx)
    y.backward(tg.tensor(upstream))
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-15)
