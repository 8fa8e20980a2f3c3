"""Activations (functions and modules), softmax/log_softmax, mse_loss, l1_loss and smooth_l1_loss: forward against
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


@given(x=tst.arrays(min_magnitude=0.01), alpha=st.sampled_from([1.0, 0.3]))
def test_elu(device, x, alpha):
    check_op(lambda t: F.elu(t, alpha), lambda a: np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))), [x],
             device)


def test_elu_at_zero_and_far_out(device):
    x = tg.tensor([0.0, -800.0, 800.0], requires_grad=True, device=device)
    y = nn.ELU(alpha=0.5)(x)
    y.sum().backward()
    assert y.tolist() == [0.0, -0.5, 800.0] and x.grad.tolist() == [0.5, 0.0, 1.0]    # alpha at 0, as PyTorch


@pytest.mark.parametrize("beta", [1.0, 0.25])
@given(pair=tst.shapes(min_dims=1).flatmap(lambda s: st.tuples(tst.arrays(s), tst.arrays(s))))
def test_smooth_l1_loss(device, beta, pair):
    a, b = pair
    size = np.abs(a - b)
    assume(np.abs(size - beta).min(initial=1.0) > 1e-3)               # off the seam, where the curvature jumps
    reference = lambda x, y: np.where(np.abs(x - y) < beta, 0.5 * (x - y) ** 2 / beta,
                                      np.abs(x - y) - 0.5 * beta).mean()
    check_op(lambda x, y: F.smooth_l1_loss(x, y, beta=beta), reference, [a, b], device, allow_zero=True)


def test_smooth_l1_loss_with_beta_zero_is_l1_and_its_module(device):
    x, y = tg.tensor([0.0, 0.5, -3.0], device=device), tg.tensor([0.0, 0.0, 0.0], device=device)
    assert F.smooth_l1_loss(x, y, beta=0.0).item() == F.l1_loss(x, y).item()
    assert nn.SmoothL1Loss(reduction="none")(x, y).tolist() == [0.0, 0.125, 2.5]
    with pytest.raises(RuntimeError, match="does not support negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)


def test_elu_and_smooth_l1_the_same_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal(20) * 3
    for ours, theirs in ((lambda t: F.elu(t, 0.7), lambda t: torch.nn.functional.elu(t, 0.7)),
                         (lambda t: F.smooth_l1_loss(t, t * 0.5, beta=0.8, reduction="sum"),
                          lambda t: torch.nn.functional.smooth_l1_loss(t, t * 0.5, beta=0.8, reduction="sum"))):
        a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        mine, reference = ours(a), theirs(b)
        mine.sum().backward()
        reference.sum().backward()
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_mse_loss_errors():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\) differ"):
        F.mse_loss(tg.zeros(2), tg.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(tg.zeros(2), tg.zeros(2), reduction="max")
