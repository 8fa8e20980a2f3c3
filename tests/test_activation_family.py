"""The rest of torch's activation functions and modules: values against closed forms in
NumPy, gradcheck and gradgradcheck away from the kinks, PyTorch's gradients at the kinks,
the in-place forms, PReLU's learnt slope, the modules, and torch itself."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def np_sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))


def np_softplus(a):
    return np.logaddexp(0.0, a)


def np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name -> (the function, its closed form in NumPy, whether it is smooth at the drawn points)
FUNCTIONS = {
    "silu": (F.silu, lambda a: a * np_sigmoid(a)),
    "mish": (F.mish, lambda a: a * np.tanh(np_softplus(a))),
    "hardtanh": (lambda x: F.hardtanh(x, -1.5, 2.0), lambda a: np.clip(a, -1.5, 2.0)),
    "relu6": (F.relu6, lambda a: np.clip(a, 0, 6)),
    "hardsigmoid": (F.hardsigmoid, lambda a: np.clip(a / 6 + 0.5, 0, 1)),
    "hardswish": (F.hardswish, lambda a: a * np.clip(a + 3, 0, 6) / 6),
    "logsigmoid": (F.logsigmoid, lambda a: -np_softplus(-a)),
    "softsign": (F.softsign, lambda a: a / (1 + np.abs(a))),
    "softmin": (lambda x: F.softmin(x, dim=-1), lambda a: np_softmax(-a, -1)),
    "selu": (F.selu, lambda a: SELU_SCALE * np.where(a > 0, a, SELU_ALPHA * np.expm1(np.minimum(a, 0)))),
    "celu": (lambda x: F.celu(x, 0.7), lambda a: np.maximum(a, 0) + np.minimum(0, 0.7 * np.expm1(a / 0.7))),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda a: np.where(a > 0.5, a, -2.0)),
    "tanhshrink": (F.tanhshrink, lambda a: a - np.tanh(a)),
    "softshrink": (F.softshrink, lambda a: np.where(a > 0.5, a - 0.5, np.where(a < -0.5, a + 0.5, 0))),
    "hardshrink": (F.hardshrink, lambda a: np.where(np.abs(a) > 0.5, a, 0)),
}
KINKS = {"hardtanh": (-1.5, 2.0), "relu6": (0.0, 6.0), "hardsigmoid": (-3.0, 3.0), "hardswish": (-3.0, 3.0),
         "selu": (0.0,), "celu": (0.0,), "threshold": (0.5,), "softshrink": (-0.5, 0.5), "hardshrink": (-0.5, 0.5),
         "softsign": (0.0,)}
# where the gradient may be 0 at every drawn point (flat pieces; tanhshrink' = tanh^2 at 0;
# softmin of a single element): allowed
ZERO_ALLOWED = {"hardtanh", "relu6", "hardsigmoid", "hardswish", "threshold", "softshrink", "hardshrink",
                "tanhshrink", "softmin"}


def away_from_kinks(name):
    """Inputs in [-7, 7] ([-4, 4] where e^x decays, so the gradient is not ~0 everywhere)
    at least 0.05 from each of the function's kinks."""
    bound = 4.0 if name in ("celu", "selu") else 7.0
    return tst.arrays(low=-bound, high=bound).filter(
        lambda a: all(np.abs(a - k).min(initial=1.0) > 0.05 for k in KINKS.get(name, ())))


@pytest.mark.parametrize("name", FUNCTIONS)
@settings(max_examples=5)
@given(data=st.data())
def test_values_and_gradients(device, name, data):
    function, closed_form = FUNCTIONS[name]
    check_op(function, closed_form, [data.draw(away_from_kinks(name))], device, allow_zero=name in ZERO_ALLOWED)


def gradient_at(device, function, points):
    x = leaves([np.array(points)], device)[0]
    function(x).backward(tg.ones(len(points), dtype=tg.float64, device=device))
    return x.grad.numpy()


def test_gradients_at_the_kinks_are_pytorchs(device):
    """Strictly inside the linear piece counts, the bounds do not (hardtanh, relu6,
    hardsigmoid, hardshrink, softshrink, threshold); hardswish's is 0 at -3 and 1 at 3."""
    np.testing.assert_array_equal(gradient_at(device, F.hardtanh, [-1.0, 0.0, 1.0]), [0, 1, 0])
    np.testing.assert_array_equal(gradient_at(device, F.relu6, [0.0, 3.0, 6.0]), [0, 1, 0])
    np.testing.assert_allclose(gradient_at(device, F.hardsigmoid, [-3.0, 0.0, 3.0]), [0, 1 / 6, 0])
    np.testing.assert_allclose(gradient_at(device, F.hardswish, [-3.0, 0.0, 3.0]), [0, 0.5, 1])
    np.testing.assert_array_equal(gradient_at(device, F.softshrink, [-0.5, 0.5, 1.0]), [0, 0, 1])
    np.testing.assert_array_equal(gradient_at(device, lambda x: F.hardshrink(x, 1.0), [-1.0, 1.0, 2.0]), [0, 0, 1])
    np.testing.assert_array_equal(gradient_at(device, lambda x: F.threshold(x, 1.0, 5.0), [1.0, 2.0]), [0, 1])
    np.testing.assert_array_equal(gradient_at(device, F.softsign, [0.0]), [1])
    weight = tg.tensor([0.25], dtype=tg.float64, device=device)
    np.testing.assert_array_equal(gradient_at(device, lambda x: F.prelu(x, weight), [0.0, 1.0]), [0.25, 1])


def test_prelu_learns_one_slope_or_one_per_channel(device):
    """dL/da = sum of x over the negative inputs of its channel; gradcheck in both arguments."""
    x = np.random.default_rng(0).normal(size=(4, 3, 2))
    for slopes in ([0.25], [0.1, 0.2, 0.3]):
        inputs = leaves([x, np.array(slopes)], device)
        assert tg.gradcheck(F.prelu, inputs) and tg.gradgradcheck(F.prelu, inputs)
        y = F.prelu(*inputs)
        a = np.array(slopes).reshape(-1, 1) if len(slopes) > 1 else np.array(slopes)
        np.testing.assert_allclose(y.detach().numpy(), np.where(x > 0, x, a * x), rtol=1e-15)
    layer = nn.PReLU(3).to(device)
    assert layer.weight.shape == (3,) and layer.weight.tolist() == [0.25] * 3
    layer(tg.tensor(x, dtype=tg.float32, device=device)).sum().backward()
    expected = np.where(x < 0, x, 0).sum(axis=(0, 2))
    np.testing.assert_allclose(layer.weight.grad.numpy(), expected, rtol=1e-5)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        nn.PReLU(4)(tg.ones(2, 3))


@pytest.mark.parametrize("name", ["silu", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish", "selu",
                                  "celu", "relu", "leaky_relu", "elu"])
def test_in_place_forms(device, name):
    a = np.linspace(-4, 4, 9)
    x = tg.tensor(a, device=device)
    expected = getattr(F, name)(x).numpy()
    assert getattr(F, name)(x, inplace=True) is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
    assert x._version[0] == 1


def test_in_place_activations_are_differentiated(device):
    w = leaves([np.array([-1.0, 2.0])], device)[0]
    h = w * 1
    F.relu(h, inplace=True)
    F.silu(h, inplace=True)
    h.sum().backward()
    s = np_sigmoid(2.0)
    np.testing.assert_allclose(w.grad.numpy(), [0.0, s + 2 * s * (1 - s)], rtol=1e-14)


def test_modules_call_their_functions_and_print_as_torch(device):
    x = tg.tensor(np.linspace(-4, 4, 9), device=device)
    pairs = [(nn.SiLU(), F.silu), (nn.Mish(), F.mish), (nn.Hardtanh(-2, 2), lambda t: F.hardtanh(t, -2, 2)),
             (nn.ReLU6(), F.relu6), (nn.Hardsigmoid(), F.hardsigmoid), (nn.Hardswish(), F.hardswish),
             (nn.LogSigmoid(), F.logsigmoid), (nn.Softsign(), F.softsign), (nn.Tanhshrink(), F.tanhshrink),
             (nn.Softmin(0), lambda t: F.softmin(t, 0)), (nn.SELU(), F.selu), (nn.CELU(0.5), lambda t: F.celu(t, 0.5)),
             (nn.Threshold(0.1, 20), lambda t: F.threshold(t, 0.1, 20)), (nn.Softshrink(1.0), lambda t: F.softshrink(t, 1.0)),
             (nn.Hardshrink(), F.hardshrink)]
    for module, function in pairs:
        np.testing.assert_array_equal(module(x).numpy(), function(x).numpy())
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Hardtanh(-2, 2)) == "Hardtanh(min_val=-2, max_val=2)"
    assert repr(nn.Softshrink()) == "Softshrink(0.5)" and repr(nn.PReLU()) == "PReLU(num_parameters=1)"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"


def test_softmax_without_dim_uses_torchs_old_implicit_choice(device):
    """0 for 0-, 1- and 3-d input, 1 otherwise, with the deprecation warning."""
    for shape, dim in [((5,), 0), ((2, 5), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)]:
        x = tg.randn(*shape, device=device)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            implicit = F.softmax(x)
        np.testing.assert_array_equal(implicit.numpy(), F.softmax(x, dim).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        nn.LogSoftmax()(tg.randn(2, 3, device=device))


def test_argument_errors(device):
    x = tg.ones(3, device=device)
    with pytest.raises(ValueError, match="min_val .* cannot be greater than max_val"):
        F.hardtanh(x, 2, 1)
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(x, -1)
    with pytest.raises(TypeError, match="silu\\(\\): argument 'input' \\(position 1\\) must be Tensor"):
        F.silu(np.ones(3))


NAMES = ["silu", "mish", "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "softsign", "softmin",
         "selu", "celu", "tanhshrink", "softshrink", "hardshrink"]


@pytest.mark.parametrize("name", NAMES)
def test_the_same_as_torch(name):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(len(name)).uniform(-7, 7, size=(4, 6))
    upstream = np.random.default_rng(1).normal(size=(4, 6))
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    kwargs = {"dim": 1} if name == "softmin" else {}
    y, ty = getattr(F, name)(x, **kwargs), getattr(torch.nn.functional, name)(tx, **kwargs)
    y.backward(tg.tensor(upstream))
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    # (torch's float64 hardsigmoid backward multiplies by a float32 1/6, 0.1666666716...)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7 if name == "hardsigmoid" else 1e-12,
                               atol=1e-14)


def test_prelu_and_threshold_the_same_as_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    w = np.array([0.1, -0.2, 0.3])
    ours = F.prelu(tg.tensor(a), tg.tensor(w)).numpy()
    theirs = torch.nn.functional.prelu(torch.tensor(a), torch.tensor(w)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    ours = F.threshold(tg.tensor(a), 0.2, -1.0).numpy()
    theirs = torch.nn.functional.threshold(torch.tensor(a), 0.2, -1.0).numpy()
    np.testing.assert_array_equal(ours, theirs)
