"""Activations (functions and modules), softmax/log_softmax, mse_loss and l1_loss: forward against
NumPy, gradcheck and gradgradcheck over drawn shapes, stability for huge inputs, and the
error messages.  (cross_entropy and nll_loss: tests/test_cross_entropy.py.)"""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

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


# ------------------------------------------------------------------- mse
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(pair=tst.shapes(min_dims=1).flatmap(lambda s: st.tuples(tst.arrays(s), tst.arrays(s))))
def test_mse_loss(device, reduction, pair):
    a, b = pair
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    check_op(lambda x, y: F.mse_loss(x, y, reduction=reduction), lambda x, y: reduce((x - y) ** 2), [a, b], device,
             allow_zero=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(pair=tst.shapes(min_dims=1).flatmap(lambda s: st.tuples(tst.arrays(s), tst.arrays(s))))
def test_l1_loss(device, reduction, pair):
    a, b = pair
    assume(np.abs(a - b).min(initial=1.0) > 1e-3)                     # off the kink at a = b
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    check_op(lambda x, y: F.l1_loss(x, y, reduction=reduction), lambda x, y: reduce(np.abs(x - y)), [a, b], device,
             allow_zero=True)


def test_l1_loss_at_equal_values_and_its_module(device):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    y = tg.tensor([1.0, 0.0, 5.0], device=device)
    loss = nn.L1Loss(reduction="sum")(x, y)
    loss.backward()
    assert loss.item() == 4.0 and x.grad.tolist() == [0.0, 1.0, -1.0]    # sign(0) = 0, as PyTorch
    with pytest.raises(ValueError, match=r"l1_loss: input of shape \(3,\) and target of shape \(2,\) differ"):
        F.l1_loss(x, y[:2])


def test_mse_loss_errors():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\) differ"):
        F.mse_loss(tg.zeros(2), tg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(tg.zeros(2), tg.zeros(2), reduction="max")
