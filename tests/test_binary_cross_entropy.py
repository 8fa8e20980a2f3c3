"""softplus, binary_cross_entropy_with_logits (BCEWithLogitsLoss) and binary_cross_entropy on
probabilities (BCELoss): values against NumPy's logaddexp and log, gradcheck and gradgradcheck in the logits and the targets (random upstream gradient,
float64), no overflow and no warning at any magnitude, the derivative at x = 0 (where a
composition through |x| or max(x, 0) would pick a wrong subgradient), PyTorch's errors, and
torch's own results where it is installed."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves


def softplus_reference(a, beta=1.0, threshold=20.0):
    return np.where(beta * a > threshold, a, np.logaddexp(0.0, beta * a) / beta)


def bce_logits_reference(x, y, w=None, pw=None, reduction="mean"):
    """-w (pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), with log sigmoid(x) = -logaddexp(0, -x)."""
    log_sig, log_one_minus = -np.logaddexp(0.0, -x), -np.logaddexp(0.0, x)
    losses = -((1.0 if pw is None else pw) * y * log_sig + (1 - y) * log_one_minus)
    losses = losses if w is None else losses * w
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


@given(data=st.data(), beta=st.sampled_from([1.0, 0.5, 3.0]), threshold=st.sampled_from([20.0, 2.0, math.inf]))
def test_softplus(device, data, beta, threshold):
    x = data.draw(tst.arrays(low=-6.0, high=6.0))
    assume(np.all(np.abs(beta * x - threshold) > 0.05))                  # off the switch at the threshold
    check_op(lambda t: F.softplus(t, beta, threshold), lambda a: softplus_reference(a, beta, threshold), [x],
             device)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_softplus_never_overflows_or_warns(device, dtype):
    x = tg.tensor([-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4], dtype=dtype, requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.softplus(x, threshold=math.inf)
        y.sum().backward()
    values, grads = y.detach().numpy(), x.grad.numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    np.testing.assert_allclose(values, softplus_reference(x.detach().numpy().astype(np.float64), threshold=math.inf),
                               rtol=1e-6, atol=1e-30)
    assert values[3] == pytest.approx(math.log(2)) and grads[3] == 0.5 and grads[-1] == 1.0 and grads[0] == 0.0


@st.composite
def logits_and_targets(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    x = draw(tst.arrays(shape, low=-8.0, high=8.0))
    y = draw(tst.arrays(shape, low=0.0, high=1.0))
    return x, y


@given(pair=logits_and_targets(), reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans())
def test_bce_with_logits_in_logits_and_targets(device, pair, reduction, weighted):
    x, y = pair
    rng = np.random.default_rng(x.size)
    w = rng.random(x.shape[-1:]) + 0.5 if weighted else None
    pw = rng.random(x.shape[-1:]) * 3 if weighted else None
    constants = [None if a is None else tg.tensor(a, dtype=tg.float64, device=device) for a in (w, pw)]

    def op(logits, targets):
        return F.binary_cross_entropy_with_logits(logits, targets, constants[0], reduction=reduction,
                                                  pos_weight=constants[1])
    check_op(op, lambda a, b: bce_logits_reference(a, b, w, pw, reduction), [x, y], device)


def test_bce_with_logits_derivative_at_zero_is_the_sigmoids(device):
    x, y = leaves([np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.5, 1.0])], device)
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.0, -0.5])        # sigmoid(0) - y
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 0.0])         # -x


def test_bce_with_logits_is_finite_far_out(device):
    x = tg.tensor([-1e4, -100.0, 100.0, 1e4], device=device, requires_grad=True)
    y = tg.tensor([1.0, 0.0, 1.0, 0.0], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        losses.sum().backward()
    np.testing.assert_allclose(losses.detach().numpy(), [1e4, 0.0, 0.0, 1e4], atol=1e-30)
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 0.0, 1.0])


def test_bce_with_logits_refuses_what_torch_refuses(device):
    x, y = tg.zeros(3, device=device), tg.zeros(2, device=device)
    with pytest.raises(ValueError, match=r"Target size \(\(2,\)\) must be the same as input size \(\(3,\)\)"):
        F.binary_cross_entropy_with_logits(x, y)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.binary_cross_entropy_with_logits(x, x, reduction="avg")
    with pytest.raises(NotImplementedError, match="expected a floating-point input, got int64"):
        F.binary_cross_entropy_with_logits(tg.tensor([1, 0]), tg.tensor([1, 0]))
    with pytest.raises(TypeError, match="argument 'target' .* must be Tensor, not list"):
        F.binary_cross_entropy_with_logits(x, [0.0, 1.0, 0.0])


def test_bce_with_logits_loss_module_keeps_its_weights_as_buffers(device):
    w, pw = tg.tensor([1.0, 2.0], device=device), tg.tensor([3.0, 0.5], device=device)
    loss_fn = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction="sum")
    assert set(loss_fn.state_dict()) == {"weight", "pos_weight"}
    x, y = tg.tensor([[0.3, -1.2], [2.0, 0.1]], device=device), tg.tensor([[1.0, 0.0], [0.5, 1.0]], device=device)
    expected = F.binary_cross_entropy_with_logits(x, y, w, reduction="sum", pos_weight=pw).item()
    assert loss_fn(x, y).item() == expected
    assert nn.Softplus(beta=2.0)(x).tolist() == F.softplus(x, 2.0).tolist()


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 3)).astype(np.float32) * 4, rng.random((5, 3)).astype(np.float32)
    x[0] = 0.0
    w, pw = rng.random(3).astype(np.float32), (rng.random(3) * 3).astype(np.float32)
    for options in ({}, {"weight": w}, {"pos_weight": pw}, {"weight": w, "pos_weight": pw, "reduction": "sum"}):
        ours_x, ours_y = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)
        theirs_x, theirs_y = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        ours = nn.BCEWithLogitsLoss(**{k: v if k == "reduction" else tg.tensor(v) for k, v in options.items()})
        theirs = torch.nn.BCEWithLogitsLoss(**{k: v if k == "reduction" else torch.tensor(v)
                                               for k, v in options.items()})
        mine, reference = ours(ours_x, ours_y), theirs(theirs_x, theirs_y)
        mine.backward()
        reference.backward()
        assert mine.item() == pytest.approx(reference.item(), rel=1e-6)
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(ours_y.grad.numpy(), theirs_y.grad.numpy(), rtol=1e-5, atol=1e-7)
    z = rng.standard_normal(50).astype(np.float32) * 30
    for beta, threshold in ((1.0, 20.0), (2.0, 5.0)):
        np.testing.assert_allclose(F.softplus(tg.tensor(z), beta, threshold).numpy(),
                                   torch.nn.functional.softplus(torch.tensor(z), beta, threshold).numpy(),
                                   rtol=1e-6, atol=1e-30)


def bce_reference(p, y):
    return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))


@st.composite
def probabilities_and_targets(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_side=4))
    return draw(tst.arrays(shape, low=0.05, high=0.95)), draw(tst.arrays(shape, low=0.0, high=1.0))


@given(pair=probabilities_and_targets(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_bce_in_probabilities_and_targets(device, pair, reduction):
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    check_op(lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction),
             lambda p, y: reduce(bce_reference(p, y)), list(pair), device)


def test_bce_at_zero_and_one_is_finite_as_pytorchs_clamps_make_it(device):
    """l = 100 where the log is clamped; dl/dp = (p - y) / max(p (1 - p), 1e-12 as float32);
    dl/dy = log(1 - p) - log p unclamped, +-inf at the ends (PyTorch's formulas)."""
    p, y = leaves([np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])], device)
    losses = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(losses.detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    losses.sum().backward()
    epsilon = float(np.float32(1e-12))
    np.testing.assert_array_equal(p.grad.numpy(), [-1 / epsilon, 1 / epsilon, 0.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [np.inf, -np.inf, np.inf, -np.inf])


def test_bce_refuses_what_torch_refuses(device):
    p = tg.tensor([0.2, 1.5, 0.3], device=device)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(p, tg.zeros(3, device=device)).item()     # on the GPU: at the next read
    with pytest.raises(ValueError, match=r"Using a target size \(\(2,\)\) that is different to the input size"):
        F.binary_cross_entropy(tg.zeros(3, device=device), tg.zeros(2, device=device))


def test_bce_loss_module_weights_each_element(device):
    p, y = tg.tensor([[0.2, 0.9], [0.6, 0.5]], device=device), tg.tensor([[0.0, 1.0], [1.0, 0.3]], device=device)
    w = tg.tensor([2.0, 0.5], device=device)
    module = nn.BCELoss(weight=w, reduction="sum")
    assert set(module.state_dict()) == {"weight"}
    expected = (bce_reference(p.numpy().astype(np.float64), y.numpy()) * w.numpy()).sum()
    assert module(p, y).item() == pytest.approx(expected, rel=1e-6)


def test_bce_the_same_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        p, y = rng.random((4, 3)).astype(dtype), rng.random((4, 3)).astype(dtype)
        p[0] = [0.0, 1.0, 1e-30]
        w = rng.random(3).astype(dtype)
        ours_p, ours_y = tg.tensor(p, requires_grad=True), tg.tensor(y, requires_grad=True)
        theirs_p, theirs_y = torch.tensor(p, requires_grad=True), torch.tensor(y, requires_grad=True)
        mine = nn.BCELoss(weight=tg.tensor(w))(ours_p, ours_y)
        reference = torch.nn.BCELoss(weight=torch.tensor(w))(theirs_p, theirs_y)
        mine.backward()
        reference.backward()
        assert mine.item() == pytest.approx(reference.item(), rel=1e-6)
        np.testing.assert_allclose(ours_p.grad.numpy(), theirs_p.grad.numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours_y.grad.numpy(), theirs_y.grad.numpy(), rtol=1e-6)
