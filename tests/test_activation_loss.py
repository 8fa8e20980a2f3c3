"""Activations (functions and modules), softmax/log_softmax, cross_entropy and mse_loss:
forward against NumPy, gradcheck and gradgradcheck over drawn shapes, the closed-form
cross-entropy gradient, stability for huge logits, and the error messages."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op


def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def np_log_softmax(a, axis):
    return a - np.logaddexp.reduce(a, axis=axis, keepdims=True)


ACTIVATIONS = [
    (F.sigmoid, nn.Sigmoid(), np_sigmoid),
    (F.tanh, nn.Tanh(), np.tanh),
    (F.relu, nn.ReLU(), lambda a: np.maximum(a, 0)),
    (F.leaky_relu, nn.LeakyReLU(), lambda a: np.where(a > 0, a, 0.01 * a)),
    (lambda x: F.leaky_relu(x, 0.2), nn.LeakyReLU(0.2), lambda a: np.where(a > 0, a, 0.2 * a)),
]


@pytest.mark.parametrize("function, module, reference", ACTIVATIONS, ids=lambda v: repr(v)[:20])
@given(x=tst.arrays(min_magnitude=0.05))       # away from the kinks of relu at 0
def test_activations_functions_and_modules(device, function, module, reference, x):
    dead = function is F.relu and (x < 0).all()      # relu of negatives has zero gradient
    check_op(function, reference, [x], device, allow_zero=dead)
    check_op(module, reference, [x], device, gradgrad=False, allow_zero=dead)


def test_identity_returns_its_input():
    x = tg.randn(3)
    assert nn.Identity()(x) is x


def test_module_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)" and repr(nn.Sigmoid()) == "Sigmoid()"


@st.composite
def array_and_dim(draw):
    a = draw(tst.arrays(tst.shapes(min_dims=1, max_dims=3)))
    return a, draw(st.integers(-a.ndim, a.ndim - 1))


@given(array_and_dim())
def test_softmax(device, case):
    a, dim = case
    single = a.shape[dim] == 1                         # softmax over one element is constantly 1
    check_op(lambda x: F.softmax(x, dim), lambda v: np.exp(np_log_softmax(v, dim)), [a], device,
             allow_zero=single)
    check_op(nn.Softmax(dim), lambda v: np.exp(np_log_softmax(v, dim)), [a], device, gradgrad=False,
             allow_zero=single)


@given(array_and_dim())
def test_log_softmax(device, case):
    a, dim = case
    single = a.shape[dim] == 1                         # log_softmax over one element is constantly 0
    check_op(lambda x: F.log_softmax(x, dim), lambda v: np_log_softmax(v, dim), [a], device,
             allow_zero=single)
    check_op(nn.LogSoftmax(dim), lambda v: np_log_softmax(v, dim), [a], device, gradgrad=False,
             allow_zero=single)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_softmax_stable_for_huge_inputs(dtype):
    x = tg.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype=dtype)
    np.testing.assert_allclose(F.softmax(x, 1).numpy(), [[1, 0, 0], [1 / 3] * 3], rtol=1e-6)
    np.testing.assert_allclose(F.log_softmax(x, 1).numpy(), [[0, -1e4, -2e4], [-np.log(3)] * 3], rtol=1e-6)


# ------------------------------------------------------------------- cross entropy
@st.composite
def logits_and_targets(draw, low=-3.0, high=3.0):
    n, c = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    logits = draw(tst.arrays((n, c), low=low, high=high))
    target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    return logits, target


def np_cross_entropy(z, t, reduction):
    losses = -np_log_softmax(z, 1)[np.arange(len(t)), t]
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=logits_and_targets())
def test_cross_entropy_forward_gradcheck_gradgradcheck(device, reduction, case):
    z, t = case
    target = tg.tensor(t, device=device)
    # with one class the loss is identically 0: nothing to check but the forward value
    check_op(lambda x: F.cross_entropy(x, target, reduction), lambda v: np_cross_entropy(v, t, reduction),
             [z], device, allow_zero=z.shape[1] == 1)


@given(case=logits_and_targets(low=-50.0, high=50.0))
def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n(device, case):
    z, t = case
    logits = tg.tensor(z, requires_grad=True, device=device)
    F.cross_entropy(logits, tg.tensor(t, device=device)).backward()
    softmax = np.exp(np_log_softmax(z, 1))
    rows = np.arange(len(t))
    # (softmax - onehot) / N, with the target entry written as p_t - 1 = -sum_{j != t} p_j,
    # which does not cancel when p_t ~ 1; the library computes p_t - 1 directly, good to
    # a few ulps of 1.0, hence the absolute tolerance
    others = softmax.copy()
    others[rows, t] = 0
    expected = softmax.copy()
    expected[rows, t] = -others.sum(axis=1)
    np.testing.assert_allclose(logits.grad.numpy(), expected / len(t), rtol=1e-10,
                               atol=4 * np.finfo(np.float64).eps / len(t))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_cross_entropy_finite_for_huge_logits(dtype):
    logits = tg.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(logits, tg.tensor([2, 0]))
    loss.backward()
    # by hand: row 0 loses 1e4 - (-1e4) = 2e4; row 1 loses 1e4 + log 2
    np.testing.assert_allclose(loss.item(), (2e4 + 1e4 + np.log(2)) / 2, rtol=1e-6)
    np.testing.assert_allclose(logits.grad.numpy(), [[0.5, 0, -0.5], [-0.5, 0.25, 0.25]], atol=1e-6)


def test_cross_entropy_keeps_float32():
    loss = F.cross_entropy(tg.randn(4, 3, requires_grad=True), tg.tensor([0, 1, 2, 0]))
    assert loss.dtype == np.float32


@pytest.mark.parametrize("target, error, message", [
    ([0, 3], IndexError, r"target 3 is out of bounds.*\[0, 3\).*C = 3"),
    ([-1, 0], IndexError, r"target -1 is out of bounds.*C = 3"),
    ([0.0, 1.0], TypeError, "integer class indices.*float32"),
    ([0, 1, 2], ValueError, r"target of shape \(3,\).*logits of shape \(2, 3\).*expected \(2,\)"),
])
def test_cross_entropy_errors(target, error, message):
    with pytest.raises(error, match=message):
        F.cross_entropy(tg.zeros(2, 3), tg.tensor(target))


def test_cross_entropy_rejects_bad_logits_and_reduction():
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        F.cross_entropy(tg.zeros(3), tg.tensor([0]))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(tg.zeros(1, 3), tg.tensor([0]), reduction="avg")


# ------------------------------------------------------------------- mse
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(pair=tst.shapes(min_dims=1).flatmap(lambda s: st.tuples(tst.arrays(s), tst.arrays(s))))
def test_mse_loss(device, reduction, pair):
    a, b = pair
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    check_op(lambda x, y: F.mse_loss(x, y, reduction), lambda x, y: reduce((x - y) ** 2), [a, b], device,
             allow_zero=True)


def test_mse_loss_errors():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\) differ"):
        F.mse_loss(tg.zeros(2), tg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(tg.zeros(2), tg.zeros(2), reduction="max")
