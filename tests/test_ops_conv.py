"""F.conv2d and F.conv_transpose2d: forward against the nested sums of their
definitions (tests/window_cases.py), the output-size formula, gradcheck and
gradgradcheck over drawn shapes, strides, paddings, dilations and groups, the
adjoint identity <conv(x), y> = <x, conv_transpose(y)>, "same" padding, inputs
of any memory layout, the errors, and PyTorch where it is installed."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn.ops.conv import Conv2d
from tinygrad_bn.testing import strategies as tst
from opcheck import assert_forward, leaves
from window_cases import conv2d_reference, conv_cases, conv_transpose2d_reference, pairs_1_2


def conv_inputs(case, device):
    arrays = [case.x, case.weight] + ([] if case.bias is None else [case.bias])
    return leaves(arrays, device)


def reads_only_padding(case):
    """Whether no window reaches the input (then, without bias, every gradient is 0)."""
    return case.bias is None and not conv2d_reference(np.ones_like(case.x), np.ones_like(case.weight), None,
                                                      **case.arguments).any()


def conv_of(case):
    def conv(x, w, b=None):
        return F.conv2d(x, w, b, **case.arguments)
    return conv


@given(case=conv_cases())
def test_conv2d_equals_the_nested_sum_and_its_gradient_is_right(device, case):
    inputs = conv_inputs(case, device)
    assert_forward(conv_of(case)(*inputs), conv2d_reference(case.x, case.weight, case.bias, **case.arguments))
    assert tg.gradcheck(conv_of(case), inputs, allow_zero=reads_only_padding(case))


@settings(max_examples=8)
@given(case=conv_cases(max_batch=1, max_side=4))
def test_conv2d_second_derivatives(device, case):
    assert tg.gradgradcheck(conv_of(case), conv_inputs(case, device), allow_zero=reads_only_padding(case))


@given(case=conv_cases(), unbatched=st.booleans())
def test_output_size_is_the_formula(device, case, unbatched):
    """H_out = floor((H + 2p - d(k - 1) - 1) / s) + 1, per axis; one image (C, H, W) works too."""
    x = tg.tensor(case.x[0] if unbatched else case.x, device=device)
    y = F.conv2d(x, tg.tensor(case.weight, device=device), **case.arguments)
    expected = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in
                     zip(case.x.shape[2:], case.padding, case.dilation, case.weight.shape[2:], case.stride))
    assert y.shape == ((case.weight.shape[0],) if unbatched else (case.x.shape[0], case.weight.shape[0])) + expected


def transpose_arguments(case):
    """conv_transpose2d's arguments for the adjoint of ``case``'s convolution, the
    output_padding chosen so that its output has x's size again."""
    out_size = conv2d_reference(case.x, case.weight, None, **case.arguments).shape[2:]
    output_padding = tuple(n - ((m - 1) * s - 2 * p + d * (k - 1) + 1) for n, m, s, p, d, k in
                           zip(case.x.shape[2:], out_size, case.stride, case.padding, case.dilation,
                               case.weight.shape[2:]))
    return dict(stride=case.stride, padding=case.padding, output_padding=output_padding, groups=case.groups,
                dilation=case.dilation), out_size


@given(case=conv_cases(), data=st.data())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(device, case, data):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for any x and y: the closed form of
    "the transposed convolution is the input gradient of the convolution"."""
    arguments, out_size = transpose_arguments(case)
    y = data.draw(tst.arrays((case.x.shape[0], case.weight.shape[0]) + out_size))
    x_t, w_t, y_t = (tg.tensor(a, device=device) for a in (case.x, case.weight, y))
    forward = (F.conv2d(x_t, w_t, **case.arguments) * y_t).sum().item()
    adjoint = (x_t * F.conv_transpose2d(y_t, w_t, **arguments)).sum().item()
    assert forward == pytest.approx(adjoint, rel=1e-10, abs=1e-10)


@st.composite
def transpose_cases(draw, max_side=4):
    """conv_transpose2d operands: input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW),
    an output_padding below stride or dilation, and padding that leaves an output."""
    case = draw(conv_cases(max_side=max_side))
    c_in, c_group = case.weight.shape[0], case.x.shape[1] // case.groups
    weight = draw(tst.arrays((c_in, c_group) + case.weight.shape[2:], min_magnitude=0.1))
    x = draw(tst.arrays((case.x.shape[0], c_in) + tuple(draw(st.integers(1, 3)) for _ in range(2)), min_magnitude=0.1))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(case.stride, case.dilation))
    bias = draw(tst.arrays((c_group * case.groups,))) if case.bias is not None else None
    out = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, s, p, d, k, e in
           zip(x.shape[2:], case.stride, case.padding, case.dilation, weight.shape[2:], output_padding)]
    padding = tuple(p if o >= 1 else 0 for p, o in zip(case.padding, out))
    return x, weight, bias, dict(stride=case.stride, padding=padding, output_padding=output_padding,
                                 groups=case.groups, dilation=case.dilation)


def lands_only_in_padding(case):
    """Whether everything the scatter adds falls in the cropped padding (then, without
    bias, the output and every gradient are 0)."""
    x, weight, bias, arguments = case
    return bias is None and not conv_transpose2d_reference(np.ones_like(x), np.ones_like(weight), None,
                                                           **arguments).any()


def transpose_of(arguments):
    def conv_transpose(x, w, b=None):
        return F.conv_transpose2d(x, w, b, **arguments)
    return conv_transpose


@given(case=transpose_cases())
def test_conv_transpose2d_equals_the_scatter_definition_and_its_gradient_is_right(device, case):
    x, weight, bias, arguments = case
    inputs = leaves([a for a in (x, weight, bias) if a is not None], device)
    assert_forward(transpose_of(arguments)(*inputs), conv_transpose2d_reference(x, weight, bias, **arguments))
    assert tg.gradcheck(transpose_of(arguments), inputs, allow_zero=lands_only_in_padding(case))


@settings(max_examples=8)
@given(case=transpose_cases(max_side=3))
def test_conv_transpose2d_second_derivatives(device, case):
    x, weight, bias, arguments = case
    inputs = leaves([a for a in (x[:1], weight, bias) if a is not None], device)
    assert tg.gradgradcheck(transpose_of(arguments), inputs, allow_zero=lands_only_in_padding(case))


@given(kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), dilation=pairs_1_2,
       size=st.tuples(st.integers(1, 5), st.integers(1, 5)))
def test_same_padding_keeps_the_size_and_pads_the_odd_one_at_the_end(device, kernel, dilation, size):
    """"same": d(k - 1) zeros in all per axis, the extra one of an odd total at the bottom/right."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2) + size), rng.standard_normal((3, 2) + kernel)
    y = F.conv2d(tg.tensor(x, device=device), tg.tensor(w, device=device), padding="same", dilation=dilation)
    widths = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    expected = conv2d_reference(np.pad(x, [(0, 0), (0, 0)] + widths), w, None, (1, 1), (0, 0), dilation, 1)
    assert y.shape == (1, 3) + size
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    if all(d * (k - 1) < n for k, d, n in zip(kernel, dilation, size)):          # "valid": no padding at all
        valid = F.conv2d(tg.tensor(x, device=device), tg.tensor(w, device=device), padding="valid",
                         dilation=dilation)
        np.testing.assert_allclose(valid.numpy(), conv2d_reference(x, w, None, (1, 1), (0, 0), dilation, 1),
                                   rtol=1e-12, atol=1e-12)


def test_inputs_of_any_memory_layout_give_the_same_result(device):
    """A transposed view, a sliced one, and a convolution's own output (whose memory
    keeps the batch innermost) all convolve as their contiguous copies do."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 4, 2))                  # held as (C, H, W, N): the input is x.transpose(3, 0, 1, 2)
    w1, w2 = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal((2, 2, 3, 3))
    layouts = {"transposed": tg.tensor(x, device=device).permute(3, 0, 1, 2),
               "sliced": tg.tensor(np.concatenate([x, x], axis=3), device=device).permute(3, 0, 1, 2)[:2]}
    expected = conv2d_reference(x.transpose(3, 0, 1, 2), w1, None, (1, 1), (1, 1), (1, 1), 1)
    for name, t in layouts.items():
        np.testing.assert_allclose(F.conv2d(t, tg.tensor(w1, device=device), padding=1).numpy(), expected,
                                   rtol=1e-12, atol=1e-12, err_msg=name)
    first = F.conv2d(layouts["transposed"], tg.tensor(w1, device=device), padding=1)
    second = F.conv2d(first, tg.tensor(w2, device=device), stride=2)
    np.testing.assert_allclose(second.numpy(), conv2d_reference(expected, w2, None, (2, 2), (0, 0), (1, 1), 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True), (False, False, True)])
def test_only_the_gradients_that_are_needed_are_computed(needs):
    x, w, b = (tg.randn(*shape, dtype=tg.float64, requires_grad=need)
               for shape, need in zip(((1, 2, 4, 4), (3, 2, 3, 3), (3,)), needs))
    out = F.conv2d(x, w, b)
    grads = Conv2d.backward(out.grad_fn, tg.ones(*out.shape, dtype=tg.float64))
    assert [g is not None for g in grads[:3]] == list(needs)


def test_gradients_by_hand():
    """A 1x1 kernel is a linear map of the channels at every place: y = W x, so
    dL/dx = W^T g and dL/dW = sum over places of g x^T, written out with einsum."""
    rng = np.random.default_rng(2)
    x, w, g = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((4, 3, 1, 1)), rng.standard_normal((2, 4, 4, 5))
    tx, tw = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    F.conv2d(tx, tw).backward(tg.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), np.einsum("oc,nohw->nchw", w[:, :, 0, 0], g), rtol=1e-12)
    np.testing.assert_allclose(tw.grad.numpy()[:, :, 0, 0], np.einsum("nohw,nchw->oc", g, x), rtol=1e-12)


@pytest.mark.parametrize("stride", [1, 2])
def test_an_empty_batch_gives_an_empty_output_and_a_zero_weight_gradient(device, stride):
    x = tg.zeros(0, 3, 5, 5, device=device, requires_grad=True)
    w = tg.ones(4, 3, 3, 3, device=device, requires_grad=True)
    y = F.conv2d(x, w, padding=1, stride=stride)
    size = {1: 5, 2: 3}[stride]                             # floor((5 + 2 - 2 - 1) / s) + 1
    assert y.shape == (0, 4, size, size)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 3, 3, 3)))


def test_float32_stays_float32(device):
    x = tg.randn(2, 3, 5, 5, device=device, requires_grad=True)
    w = tg.randn(4, 3, 3, 3, device=device, requires_grad=True)
    y = F.conv2d(x, w, tg.zeros(4, device=device), stride=2, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


CONV_ERRORS = [
    (dict(x=(1, 3, 8, 8), w=(2, 4, 3, 3)), RuntimeError,
     r"Given groups=1, weight of size \[2, 4, 3, 3\], expected input\[1, 3, 8, 8\] to have 4 channels, "
     r"but got 3 channels instead"),
    (dict(x=(1, 3, 2, 2), w=(2, 3, 3, 3)), RuntimeError,
     r"padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater"),
    (dict(x=(1, 3, 2, 2), w=(2, 3, 3, 3), dilation=2, padding=1), RuntimeError, r"\(4 x 4\). Kernel size: \(5 x 5\)"),
    (dict(x=(1, 4, 8, 8), w=(3, 2, 3, 3), groups=2), RuntimeError,
     r"Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size \[3, 2, 3, 3\]"),
    (dict(x=(1, 3, 8, 8), w=(4, 1, 3, 3), groups=2), RuntimeError, r"expected input\[1, 3, 8, 8\] to have 2 channels"),
    (dict(x=(1, 3, 8, 8), w=(4, 3, 3, 3), groups=0), RuntimeError, "groups must be a positive integer"),
    (dict(x=(1, 1, 3, 8, 8), w=(3, 1, 3, 3)), RuntimeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[1, 1, 3, 8, 8\]"),
    (dict(x=(8, 8), w=(3, 1, 3, 3)), RuntimeError, r"input of size: \[8, 8\]"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3)), RuntimeError, r"4-D weight .* got weight of size \[3, 3, 3\]"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), b=(4,)), RuntimeError,
     r"expected bias to be 1-dimensional with 3 elements, but got bias of size \[4\]"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), stride=0), RuntimeError, r"stride must be positive, but got stride=\(0, 0\)"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), padding=-1), RuntimeError, "padding must be non-negative"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), dilation=(1, 0)), RuntimeError, "dilation must be positive"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), stride=(1, 2, 3)), RuntimeError,
     r"expected stride to be a single integer value or a list of 2 values"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), stride=2, padding="same"), RuntimeError,
     "padding='same' is not supported for strided convolutions"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 3, 3), padding="full"), RuntimeError, "Invalid padding string: 'full'"),
    (dict(x=(1, 3, 8, 8), w=(3, 3, 0, 3)), RuntimeError, "kernel size should be greater than zero"),
]


@pytest.mark.parametrize("arguments, error, message", CONV_ERRORS)
def test_conv2d_errors_name_what_is_wrong(device, arguments, error, message):
    arguments = dict(arguments)
    x, w = tg.zeros(arguments.pop("x"), device=device), tg.zeros(arguments.pop("w"), device=device)
    b = tg.zeros(arguments.pop("b"), device=device) if "b" in arguments else None
    with pytest.raises(error, match=message):
        F.conv2d(x, w, b, **arguments)


def test_dtype_mismatches_are_refused_with_both_dtypes(device):
    x64, w32 = tg.zeros(1, 3, 8, 8, device=device, dtype=tg.float64), tg.zeros(2, 3, 3, 3, device=device)
    with pytest.raises(RuntimeError, match="input float64 and weight float32"):
        F.conv2d(x64, w32)
    with pytest.raises(RuntimeError, match=r"Input type \(float32\) and bias type \(float64\) should be the same"):
        F.conv2d(tg.zeros(1, 3, 8, 8, device=device), w32, tg.zeros(2, device=device, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="input float64 and weight float32"):
        F.conv_transpose2d(x64, tg.zeros(3, 2, 3, 3, device=device))


def test_non_tensor_arguments_are_a_type_error():
    with pytest.raises(TypeError, match="conv2d\\(\\): argument 'input' \\(position 1\\) must be Tensor, not numpy.ndarray"):
        F.conv2d(np.zeros((1, 3, 8, 8)), tg.zeros(2, 3, 3, 3))
    with pytest.raises(TypeError, match="argument 'weight' \\(position 2\\) must be Tensor, not list"):
        F.conv2d(tg.zeros(1, 3, 8, 8), [[1.0]])
    with pytest.raises(TypeError, match="conv_transpose2d\\(\\): argument 'input' \\(position 1\\) must be Tensor"):
        F.conv_transpose2d(np.zeros((1, 3, 8, 8)), tg.zeros(3, 2, 3, 3))


TRANSPOSE_ERRORS = [
    (dict(x=(1, 3, 4, 4), w=(2, 2, 3, 3)),
     r"Given transposed=1, weight of size \[2, 2, 3, 3\], expected input\[1, 3, 4, 4\] to have 2 channels, "
     r"but got 3 channels instead"),
    (dict(x=(1, 2, 4, 4), w=(2, 2, 3, 3), output_padding=1),
     r"output padding must be smaller than either stride or dilation"),
    (dict(x=(1, 2, 1, 1), w=(2, 2, 3, 3), padding=2),
     r"Given input size per channel: \(1 x 1\). Calculated output size per channel: \(-1 x -1\). "
     r"Output size is too small"),
    (dict(x=(1, 3, 4, 4), w=(3, 2, 3, 3), groups=2), r"expected weight to be divisible by 2 at dimension 0"),
    (dict(x=(1, 2, 4, 4), w=(2, 2, 3, 3), b=(3,)), r"expected bias to be 1-dimensional with 2 elements"),
    (dict(x=(4, 4), w=(2, 2, 3, 3)), r"input to conv_transpose2d, but got input of size: \[4, 4\]"),
]


@pytest.mark.parametrize("arguments, message", TRANSPOSE_ERRORS)
def test_conv_transpose2d_errors_name_what_is_wrong(device, arguments, message):
    arguments = dict(arguments)
    x, w = tg.zeros(arguments.pop("x"), device=device), tg.zeros(arguments.pop("w"), device=device)
    b = tg.zeros(arguments.pop("b"), device=device) if "b" in arguments else None
    with pytest.raises(RuntimeError, match=message):
        F.conv_transpose2d(x, w, b, **arguments)
    with pytest.raises(TypeError, match="argument 'padding' must be an int or a pair of ints, not str"):
        F.conv_transpose2d(tg.zeros(1, 2, 4, 4, device=device), tg.zeros(2, 2, 3, 3, device=device), padding="same")


def test_output_padding_below_the_dilation_is_allowed(device):
    """output_padding must be below the stride *or* the dilation (PyTorch's rule)."""
    x, w = np.ones((1, 2, 4, 4)), np.ones((2, 2, 3, 3))
    arguments = dict(stride=1, padding=0, output_padding=1, groups=1, dilation=2)
    y = F.conv_transpose2d(tg.tensor(x, device=device), tg.tensor(w, device=device), **arguments)
    np.testing.assert_allclose(y.numpy(), conv_transpose2d_reference(x, w, None, **{**arguments,
                               "stride": (1, 1), "padding": (0, 0), "output_padding": (1, 1), "dilation": (2, 2)}))


# ----------------------------------------------------------------- against PyTorch


def torch_gradients(torch_fn, arrays, upstream):
    import torch
    tensors = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    out = torch_fn(*tensors)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), [None if t is None else t.grad.numpy() for t in tensors]


def assert_same_as_torch(ours, torch_fn, arrays, device):
    tensors = [None if a is None else tg.tensor(a, requires_grad=True, device=device) for a in arrays]
    out = ours(*tensors)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(tg.tensor(upstream, device=device))
    expected, expected_grads = torch_gradients(torch_fn, arrays, upstream)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10, atol=1e-10)
    for t, g in zip(tensors, expected_grads):
        if t is not None:
            np.testing.assert_allclose(t.grad.numpy(), g, rtol=1e-10, atol=1e-10)


@given(case=conv_cases(max_side=5))
def test_conv2d_against_torch(device, case):
    torch = pytest.importorskip("torch")
    assert_same_as_torch(lambda x, w, b: F.conv2d(x, w, b, **case.arguments),
                         lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **case.arguments),
                         [case.x, case.weight, case.bias], device)


@given(case=transpose_cases())
def test_conv_transpose2d_against_torch(device, case):
    torch = pytest.importorskip("torch")
    x, weight, bias, arguments = case
    assert_same_as_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **arguments),
                         lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **arguments),
                         [x, weight, bias], device)


@settings(max_examples=10)
@given(kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), dilation=pairs_1_2)
def test_same_padding_against_torch(device, kernel, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2) + kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch warns that even kernels need a padded copy
        assert_same_as_torch(lambda x, w: F.conv2d(x, w, padding="same", dilation=dilation),
                             lambda x, w: torch.nn.functional.conv2d(x, w, padding="same", dilation=dilation),
                             [x, w], device)
