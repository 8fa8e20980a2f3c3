"""nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d and nn.AdaptiveAvgPool2d as layers: the forward
against the nested sums and window scans of tests/window_cases.py, gradients of
the layer's own parameters against central differences, PyTorch's default
initialisation (its distribution, checked by its moments and bounds),
torch's signatures, reprs and argument errors, and torch's outputs where it
is installed."""
import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_bn as tg
from tinygrad_bn import nn
from window_cases import (adaptive_avg_pool2d_reference, avg_pool2d_reference, conv2d_reference, conv_cases,
                          max_pool2d_reference, pool_cases)


def conv_layer_of(case, device):
    """A Conv2d with the case's arguments, its weight and bias set to the case's, float64."""
    c_out, c_group, kh, kw = case.weight.shape
    layer = nn.Conv2d(c_group * case.groups, c_out, (kh, kw), bias=case.bias is not None, device=device,
                      dtype=tg.float64, **case.arguments)
    layer.weight._data[...] = layer.weight.xp.asarray(case.weight)
    if case.bias is not None:
        layer.bias._data[...] = layer.bias.xp.asarray(case.bias)
    return layer


# ------------------------------------------------------------------- Conv2d
@settings(max_examples=10)
@given(case=conv_cases())
def test_conv2d_layer_is_the_nested_sum_and_its_parameters_get_the_right_gradients(device, case):
    layer = conv_layer_of(case, device)
    x = tg.tensor(case.x, device=device, requires_grad=True)
    y = layer(x)
    assert y.dtype == np.float64 and y.device == device
    np.testing.assert_allclose(y.detach().numpy(), conv2d_reference(case.x, case.weight, case.bias,
                                                                     **case.arguments), rtol=1e-10, atol=1e-12)
    assert tg.gradcheck(lambda x, *parameters: layer(x), [x] + list(layer.parameters()))


def test_conv2d_default_initialisation_is_torch_s():
    """kaiming_uniform_(a=sqrt(5)) is U(-b, b) with b = gain sqrt(3 / fan_in), gain =
    sqrt(2 / (1 + 5)), so b = 1/sqrt(fan_in); the bias is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    fan_in counts the input channels of a group: in_channels / groups * kH * kW."""
    layer = nn.Conv2d(64, 128, (3, 5), groups=2)
    fan_in = 32 * 3 * 5
    bound = 1 / math.sqrt(fan_in)
    for values, n in ((layer.weight.detach().numpy(), 128 * 32 * 15), (layer.bias.detach().numpy(), 128)):
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound
        # U(-b, b): variance b^2 / 3; the sample variance has a relative standard error of about sqrt(0.8 / n)
        assert abs(values.var() / (bound ** 2 / 3) - 1) < 5 * math.sqrt(0.8 / n)
        assert abs(values.mean()) < 5 * bound / math.sqrt(3 * n)
    assert layer.weight.shape == (128, 32, 3, 5) and layer.bias.shape == (128,)


def test_conv2d_reset_parameters_draws_from_the_library_seed():
    tg.manual_seed(3)
    first = nn.Conv2d(2, 3, 3).weight.detach().numpy().copy()
    tg.manual_seed(3)
    again = nn.Conv2d(2, 3, 3)
    np.testing.assert_array_equal(again.weight.detach().numpy(), first)
    again.reset_parameters()
    assert not np.array_equal(again.weight.detach().numpy(), first)


def test_conv2d_attributes_and_repr():
    layer = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False)
    assert (layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
            layer.dilation, layer.groups, layer.padding_mode) == (4, 6, (3, 3), (2, 2), (1, 1), (1, 1), 1, "zeros")
    assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "Conv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"
    assert repr(nn.Conv2d(4, 6, (1, 3), dilation=2, groups=2)) == \
        "Conv2d(4, 6, kernel_size=(1, 3), stride=(1, 1), dilation=(2, 2), groups=2)"
    assert repr(nn.Conv2d(1, 1, 3, padding="same")) == "Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=same)"


def test_conv2d_device_and_dtype(device):
    layer = nn.Conv2d(2, 3, 3, padding="same", device=device, dtype=tg.float64)
    assert layer.weight.device == device and layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    assert layer(tg.randn(1, 2, 5, 4, dtype=tg.float64, device=device)).shape == (1, 3, 5, 4)
    assert layer(tg.randn(2, 5, 4, dtype=tg.float64, device=device)).shape == (3, 5, 4)   # one image


@pytest.mark.parametrize("arguments, error, message", [
    (dict(groups=0), ValueError, "groups must be a positive integer"),
    (dict(groups=4), ValueError, r"in_channels must be divisible by groups, got in_channels=6 and groups=4"),
    (dict(groups=3), ValueError, r"out_channels must be divisible by groups, got out_channels=4 and groups=3"),
    (dict(padding="full"), ValueError, r"Invalid padding string 'full', should be one of \('valid', 'same'\)"),
    (dict(padding="same", stride=2), ValueError, r"padding='same' is not supported for strided convolutions"),
    (dict(padding_mode="mirror"), ValueError, r"padding_mode must be one of \('zeros', 'reflect', 'replicate', "
                                              r"'circular'\), but got padding_mode='mirror'"),
    (dict(padding_mode="reflect"), NotImplementedError, r"padding_mode 'reflect' is not implemented"),
])
def test_conv2d_refuses_bad_arguments_as_torch(arguments, error, message):
    with pytest.raises(error, match=message):
        nn.Conv2d(6, 4, 3, **arguments)


def test_conv2d_errors_on_the_input_are_f_conv2d_s():
    with pytest.raises(RuntimeError, match="expected input.* to have 3 channels, but got 2 channels"):
        nn.Conv2d(3, 4, 3)(tg.zeros(1, 2, 5, 5))


# ------------------------------------------------------------------- pooling
@settings(max_examples=10)
@given(case=pool_cases(dilation=False))        # (with dilation a window can lie in the padding alone)
def test_max_pool2d_layer_is_the_window_scan(device, case):
    layer = nn.MaxPool2d(case.kernel_size, case.stride, case.padding, case.dilation, ceil_mode=case.ceil_mode)
    values, indices = max_pool2d_reference(case)
    np.testing.assert_array_equal(layer(tg.tensor(case.x, device=device)).numpy(), values)
    layer.return_indices = True
    np.testing.assert_array_equal(layer(tg.tensor(case.x, device=device))[1].numpy(), indices)


@settings(max_examples=10)
@given(case=pool_cases(dilation=False))
def test_avg_pool2d_layer_is_the_window_mean(device, case):
    for count_include_pad in (True, False):
        layer = nn.AvgPool2d(case.kernel_size, case.stride, case.padding, case.ceil_mode, count_include_pad)
        np.testing.assert_allclose(layer(tg.tensor(case.x, device=device)).numpy(),
                                   avg_pool2d_reference(case, count_include_pad), rtol=1e-12, atol=1e-12)


def test_adaptive_avg_pool2d_layer(device):
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 5))
    for size in ((1, 1), (3, 2), (7, 5)):
        np.testing.assert_allclose(nn.AdaptiveAvgPool2d(size)(tg.tensor(x, device=device)).numpy(),
                                   adaptive_avg_pool2d_reference(x, size), rtol=1e-12)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(tg.tensor(x, device=device)).numpy(),
                               x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)


def test_pooling_strides_default_to_the_kernel_and_reprs():
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d((2, 3)).stride == (2, 3)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == "AdaptiveAvgPool2d(output_size=(2, None))"
    assert list(nn.MaxPool2d(2).parameters()) == [] and nn.AvgPool2d(2).state_dict() == {}


# ------------------------------------------------------------------- against torch
LAYER_ARGUMENTS = [
    ("Conv2d", (3, 16, 3), {}), ("Conv2d", (3, 16, 3), dict(stride=2, padding=1, bias=False)),
    ("Conv2d", (4, 16, (3, 5)), dict(stride=(2, 1), padding=(1, 2), dilation=2, groups=2)),
    ("Conv2d", (3, 16, 3), dict(padding="same")), ("Conv2d", (3, 16, 3), dict(padding="valid")),
    ("MaxPool2d", (2,), {}), ("MaxPool2d", ((2, 3),), dict(stride=1, padding=1, dilation=2, ceil_mode=True)),
    ("AvgPool2d", (2,), {}), ("AvgPool2d", (3, 2, 1, True, False, 4), {}),
    ("AdaptiveAvgPool2d", (1,), {}), ("AdaptiveAvgPool2d", ((2, None),), {}),
]


@pytest.mark.parametrize("name", ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"])
def test_signatures_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = (inspect.signature(getattr(module, name)).parameters for module in (nn, torch.nn))
    assert [(p.name, p.kind, p.default) for p in ours.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]


@pytest.mark.parametrize("name, args, kwargs", LAYER_ARGUMENTS)
def test_reprs_and_outputs_match_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs).double(), getattr(torch.nn, name)(*args, **kwargs).double()
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, args[0] if name == "Conv2d" else 3, 9, 8))
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
