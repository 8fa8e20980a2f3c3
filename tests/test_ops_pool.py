"""F.max_pool2d, F.avg_pool2d and F.adaptive_avg_pool2d: forward against the window
scans of tests/window_cases.py (padding, dilation, ceil_mode, count_include_pad,
divisor_override), gradcheck and gradgradcheck, the tie rule of max pooling (the
gradient goes to the first maximum in scan order, a NaN wins), return_indices,
the global average pool as the mean over H and W, the errors, and PyTorch where
it is installed."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn.testing import strategies as tst
from opcheck import assert_forward, leaves
from window_cases import adaptive_avg_pool2d_reference, avg_pool2d_reference, max_pool2d_reference, pool_cases


def max_pool_of(case, **extra):
    def pool(x):
        return F.max_pool2d(x, case.kernel_size, case.stride, case.padding, case.dilation, case.ceil_mode, **extra)
    return pool


def avg_pool_of(case, count_include_pad, divisor_override):
    def pool(x):
        return F.avg_pool2d(x, case.kernel_size, case.stride, case.padding, case.ceil_mode, count_include_pad,
                            divisor_override)
    return pool


@given(case=pool_cases())
def test_max_pool2d_equals_the_window_scan_and_its_gradient_is_right(device, case):
    x, = leaves([case.x], device)
    values, indices = max_pool2d_reference(case)
    assert_forward(max_pool_of(case)(x), values)
    y, found = max_pool_of(case, return_indices=True)(x)
    assert found.dtype == np.int64
    np.testing.assert_array_equal(found.numpy(), indices)
    assert tg.gradcheck(max_pool_of(case), [x])


@settings(max_examples=10)
@given(case=pool_cases(max_side=4))
def test_max_pool2d_second_derivatives(device, case):
    """The gradient is linear in the upstream gradient (a scatter to the chosen elements),
    so its derivative with respect to it is checked, and with respect to x it is 0."""
    assert tg.gradgradcheck(max_pool_of(case), leaves([case.x], device))


@given(case=pool_cases(values="integers"))
def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum_in_scan_order(device, case):
    """Integer values make many ties; each window's gradient goes to exactly one element:
    the first maximum, scanning the window row by row (PyTorch's CPU kernel)."""
    x = tg.tensor(case.x, requires_grad=True, device=device)
    y = max_pool_of(case)(x)
    upstream = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(tg.tensor(upstream, device=device))
    _, indices = max_pool2d_reference(case)
    expected = np.zeros(case.x.shape)
    n, c, h, w = case.x.shape
    for (b, ch, i, j), index in np.ndenumerate(indices):
        expected[b, ch, index // w, index % w] += upstream[b, ch, i, j]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_max_pool2d_tie_and_nan_rules_by_hand(device):
    """[[1, 3], [3, 0]]: both 3s tie, the first (row 0) takes the gradient.  A window holding
    NaN gives NaN, taken from its last NaN, as PyTorch's CPU kernel does."""
    x = tg.tensor([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [1.0, 1.0, 1.0]]]], requires_grad=True, device=device)
    y, indices = F.max_pool2d(x, 2, 1, return_indices=True)
    y.sum().backward()
    np.testing.assert_array_equal(indices.numpy(), [[[[1, 1], [3, 5]]]])
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 2, 0], [1, 0, 1], [0, 0, 0]]]])
    nan = float("nan")
    y, indices = F.max_pool2d(tg.tensor([[[[nan, 1.0, 5.0], [nan, 2.0, nan], [1.0, 1.0, 1.0]]]], device=device),
                              2, 1, return_indices=True)
    assert np.isnan(y.numpy()).all()
    np.testing.assert_array_equal(indices.numpy(), [[[[3, 5], [3, 5]]]])


def test_max_pool2d_padding_never_wins(device):
    """Padding is -inf: an all-negative input pools to its own values, not to 0."""
    x = -tg.ones(1, 1, 2, 2, device=device)
    np.testing.assert_array_equal(F.max_pool2d(x, 3, 1, 1).numpy(), -np.ones((1, 1, 2, 2)))
    ints = tg.tensor(np.array([[[[-5, -7], [-9, -6]]]]), device=device)
    np.testing.assert_array_equal(F.max_pool2d(ints, 2, 1, 1).numpy(), [[[[-5, -5, -7], [-5, -5, -6],
                                                                           [-9, -6, -6]]]])


@given(case=pool_cases(dilation=False, values="any"), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, 2, 5]))
def test_avg_pool2d_equals_the_window_mean_and_its_gradient_is_right(device, case, count_include_pad,
                                                                     divisor_override):
    x, = leaves([case.x], device)
    pool = avg_pool_of(case, count_include_pad, divisor_override)
    assert_forward(pool(x), avg_pool2d_reference(case, count_include_pad, divisor_override))
    assert tg.gradcheck(pool, [x])


@settings(max_examples=10)
@given(case=pool_cases(max_side=4, dilation=False, values="any"), count_include_pad=st.booleans())
def test_avg_pool2d_second_derivatives(device, case, count_include_pad):
    assert tg.gradgradcheck(avg_pool_of(case, count_include_pad, None), leaves([case.x], device))


def test_count_include_pad_by_hand(device):
    """A 3x3 window at the corner of a 2x2 input of ones with padding 1 holds 4 ones:
    their mean over the 9 places is 4/9, over the 4 input places 1."""
    x = tg.ones(1, 1, 2, 2, device=device, dtype=tg.float64)
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1).numpy(), np.full((1, 1, 2, 2), 4 / 9))
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).numpy(), np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1, divisor_override=2).numpy(), np.full((1, 1, 2, 2), 2.0))


@given(x=tst.arrays(tst.shapes(min_dims=4, max_dims=4, max_side=5)))
def test_global_average_pool_is_the_mean_over_height_and_width(device, x):
    y = F.adaptive_avg_pool2d(tg.tensor(x, device=device), 1)
    np.testing.assert_allclose(y.numpy(), x.mean(axis=(2, 3), keepdims=True), rtol=1e-12, atol=1e-12)


@given(x=tst.arrays(tst.shapes(min_dims=4, max_dims=4, max_side=5)),
       out_size=st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_adaptive_avg_pool2d_equals_the_window_means_and_its_gradient_is_right(device, x, out_size):
    inputs = leaves([x], device)
    assert_forward(F.adaptive_avg_pool2d(inputs[0], out_size), adaptive_avg_pool2d_reference(x, out_size))
    assert tg.gradcheck(lambda t: F.adaptive_avg_pool2d(t, out_size), inputs)


@settings(max_examples=10)
@given(x=tst.arrays(tst.shapes(min_dims=4, max_dims=4, max_side=3)),
       out_size=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_adaptive_avg_pool2d_second_derivatives(device, x, out_size):
    assert tg.gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, out_size), leaves([x], device))


def test_adaptive_output_size_none_keeps_the_input_size(device):
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    y = F.adaptive_avg_pool2d(tg.tensor(x, device=device), (None, 2))
    np.testing.assert_allclose(y.numpy(), adaptive_avg_pool2d_reference(x, (3, 2)))


@pytest.mark.parametrize("pool", ["max", "avg", "adaptive"])
def test_one_image_pools_as_a_batch_of_one(device, pool):
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 5, 4)), device=device)
    fn = {"max": lambda t: F.max_pool2d(t, 2, 1, 1), "avg": lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True),
          "adaptive": lambda t: F.adaptive_avg_pool2d(t, (2, 3))}[pool]
    np.testing.assert_allclose(fn(x).numpy(), fn(x.unsqueeze(0)).numpy()[0])


POOL_ERRORS = [
    (lambda x: F.max_pool2d(x, 3, padding=2), r"pad should be at most half of kernel size, but got pad=\(2, 2\)"),
    (lambda x: F.max_pool2d(x, 3, padding=2, dilation=2), "pad should be at most half of kernel size"),
    (lambda x: F.avg_pool2d(x, 3, padding=2), "pad should be at most half"),
    (lambda x: F.max_pool2d(x[:, :, :2, :2], 3), r"given input size \(1x2x2\), the calculated output size "
                                                  r"\(1x0x0\) is too small"),
    (lambda x: F.max_pool2d(x, 0), r"kernel_size must be positive, but got kernel_size=\(0, 0\)"),
    (lambda x: F.max_pool2d(x, 2, stride=0), "stride must be positive"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), "dilation must be positive"),
    (lambda x: F.max_pool2d(x, 2, padding=-1), "padding must be non-negative"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), "expected kernel_size to be a single integer value or a list of 2"),
    (lambda x: F.max_pool2d(x[0, 0], 1), r"Expected 3D \(unbatched\) or 4D \(batched\) input to max_pool2d"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), "divisor must be not zero"),
    (lambda x: F.avg_pool2d(x.long(), 2), "avg_pool2d: expected a floating-point input, got int64"),
    (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), "output_size must be an int or a pair"),
    (lambda x: F.adaptive_avg_pool2d(x[0, 0], 1), "input to adaptive_avg_pool2d"),
]


@pytest.mark.parametrize("call, message", POOL_ERRORS)
def test_pool_errors_name_what_is_wrong(device, call, message):
    x = tg.zeros(1, 1, 4, 4, device=device)
    with pytest.raises(RuntimeError, match=message):
        call(x)


def test_non_tensor_input_is_a_type_error():
    with pytest.raises(TypeError, match="max_pool2d\\(\\): argument 'input' \\(position 1\\) must be Tensor, not numpy.ndarray"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2)


# ----------------------------------------------------------------- against PyTorch


def assert_same_as_torch(ours, theirs, x, device):
    torch = pytest.importorskip("torch")
    t_ours = tg.tensor(x, requires_grad=True, device=device)
    t_theirs = torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(t_ours), theirs(t_theirs)
    upstream = np.random.default_rng(0).standard_normal(y_theirs.shape)
    y_ours.backward(tg.tensor(upstream, device=device))
    y_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t_ours.grad.numpy(), t_theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@given(case=pool_cases(values="integers"))
def test_max_pool2d_against_torch(device, case):
    """With integer values, so that the tie rule is compared too."""
    torch = pytest.importorskip("torch")
    x = case.x
    arguments = dict(kernel_size=case.kernel_size, stride=case.stride, padding=case.padding,
                     dilation=case.dilation, ceil_mode=case.ceil_mode)
    assert_same_as_torch(lambda t: F.max_pool2d(t, **arguments),
                         lambda t: torch.nn.functional.max_pool2d(t, **arguments), x, device)
    ours = F.max_pool2d(tg.tensor(x, device=device), return_indices=True, **arguments)[1]
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **arguments)[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@given(case=pool_cases(dilation=False, values="any"), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, 3]))
def test_avg_pool2d_against_torch(device, case, count_include_pad, divisor_override):
    torch = pytest.importorskip("torch")
    arguments = dict(kernel_size=case.kernel_size, stride=case.stride, padding=case.padding,
                     ceil_mode=case.ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override)
    assert_same_as_torch(lambda t: F.avg_pool2d(t, **arguments),
                         lambda t: torch.nn.functional.avg_pool2d(t, **arguments), case.x, device)


@given(x=tst.arrays(tst.shapes(min_dims=4, max_dims=4, max_side=7)),
       out_size=st.tuples(st.integers(1, 8), st.integers(1, 8)))
def test_adaptive_avg_pool2d_against_torch(device, x, out_size):
    torch = pytest.importorskip("torch")
    assert_same_as_torch(lambda t: F.adaptive_avg_pool2d(t, out_size),
                         lambda t: torch.nn.functional.adaptive_avg_pool2d(t, out_size), x, device)
