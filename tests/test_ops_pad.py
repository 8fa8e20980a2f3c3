"""F.pad in constant mode: against NumPy's np.pad (positive widths) and slicing
(negative ones crop), the round trip pad then crop, gradcheck and gradgradcheck,
the dtype of the fill, the errors, and PyTorch where it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves


@st.composite
def pad_cases(draw, allow_crop=True):
    """(array, pad): pad lists (before, after) for up to ndim trailing axes, last axis first;
    negative widths crop, never below size 0."""
    x = draw(tst.arrays(tst.shapes(min_dims=1, max_dims=3), min_magnitude=0.1))
    pad = []
    for n in reversed(x.shape[x.ndim - draw(st.integers(1, x.ndim)):]):
        before = draw(st.integers(-n if allow_crop else 0, 2))
        after = draw(st.integers(-(n + min(before, 0)) if allow_crop else 0, 2))
        pad += [before, after]
    return x, tuple(pad)


def numpy_pad(x, pad, value):
    """np.pad with the positive widths, then slicing off the negative ones."""
    widths = [(0, 0)] * (x.ndim - len(pad) // 2) + [(pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)]
    out = np.pad(x, [(max(b, 0), max(a, 0)) for b, a in widths], constant_values=value)
    return out[tuple(slice(max(-b, 0), out.shape[i] - max(-a, 0)) for i, (b, a) in enumerate(widths))]


@given(case=pad_cases(), value=st.sampled_from([0.0, 1.5, -2.0]))
def test_pad_equals_numpy_and_its_gradients_are_right(device, case, value):
    x, pad = case
    kept = numpy_pad(np.ones_like(x), pad, 0.0).any()     # something of x survives the crop
    check_op(lambda t: F.pad(t, pad, value=value), lambda a: numpy_pad(a, pad, value), [x], device,
             allow_zero=not kept)


@given(case=pad_cases(allow_crop=False))
def test_cropping_by_the_same_widths_undoes_padding(device, case):
    x, pad = case
    t = tg.tensor(x, device=device)
    back = F.pad(F.pad(t, pad, value=7.0), tuple(-p for p in pad))
    np.testing.assert_array_equal(back.numpy(), x)


def test_the_gradient_of_padding_is_cropping_by_hand(device):
    x, = leaves([np.arange(6.0).reshape(2, 3)], device)
    y = F.pad(x, (1, -1, 0, 2))                     # columns: one added left, one cut right; two rows below
    assert y.shape == (4, 3)
    upstream = np.arange(12.0).reshape(4, 3)
    y.backward(tg.tensor(upstream, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2, 0], [4, 5, 0]])    # the cut column gets 0


def test_integer_tensors_are_filled_with_the_value_cast(device):
    y = F.pad(tg.tensor(np.zeros((2, 2), dtype=np.int64), device=device), (1, 1), value=2.7)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.numpy(), [[2, 0, 0, 2], [2, 0, 0, 2]])


@pytest.mark.parametrize("pad, error, message", [
    ((1,), RuntimeError, "Padding length must be divisible by 2"),
    ((1, 1, 1, 1, 1, 1), RuntimeError, "Padding length should be less than or equal to two times the input "
                                       "dimension but got padding length 6 and input of dimension 2"),
    ((-2, -2), RuntimeError, r"padding \(-2, -2\) of dimension 1 \(size 3\) would leave a negative size -1"),
    ((1.5, 1), TypeError, "argument 'pad' must be a sequence of ints"),
])
def test_pad_errors_name_what_is_wrong(device, pad, error, message):
    x = tg.zeros(2, 3, device=device)
    with pytest.raises(error, match=message):
        F.pad(x, pad)


def test_only_constant_mode_is_implemented():
    with pytest.raises(NotImplementedError, match="mode 'reflect' is not implemented"):
        F.pad(tg.zeros(2, 3), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(tg.zeros(2, 3), (1, 1), mode="foo")
    with pytest.raises(TypeError, match="pad\\(\\): argument 'input' \\(position 1\\) must be Tensor, not numpy.ndarray"):
        F.pad(np.zeros(3), (1, 1))


@given(case=pad_cases(), value=st.sampled_from([0.0, 1.5]))
def test_pad_against_torch(device, case, value):
    torch = pytest.importorskip("torch")
    x, pad = case
    ours = tg.tensor(x, requires_grad=True, device=device)
    theirs = torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = F.pad(ours, pad, value=value), torch.nn.functional.pad(theirs, pad, value=value)
    upstream = np.random.default_rng(0).standard_normal(y_theirs.shape)
    y_ours.backward(tg.tensor(upstream, device=device))
    y_theirs.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(y_ours.detach().numpy(), y_theirs.detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
