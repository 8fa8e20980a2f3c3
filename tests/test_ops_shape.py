"""Ops that move elements: reshape, transpose/permute/T, flatten,
broadcast_to, indexing (basic, integer arrays, boolean masks), concatenate,
stack.  Forward against NumPy, gradcheck and gradgradcheck."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op, leaves


@given(data=st.data())
def test_reshape(device, data):
    x = data.draw(tst.arrays())
    target = list(data.draw(st.permutations(x.shape)))
    target.insert(data.draw(st.integers(0, len(target))), 1)
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    check_op(lambda t: t.reshape(tuple(target)), lambda a: a.reshape(target), [x], device,
             allow_zero=True)   # linear: the second derivative is 0
    check_op(lambda t: t.reshape(*target), lambda a: a.reshape(target), [x], device, gradgrad=False)


def test_reshape_to_the_wrong_size_raises(device):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        tg.zeros(2, 3, device=device).reshape(4)


@given(data=st.data())
def test_transpose_two_axes(device, data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    dim0, dim1 = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    check_op(lambda t: t.transpose(dim0, dim1), lambda a: np.swapaxes(a, dim0, dim1), [x], device,
             allow_zero=True)


@given(data=st.data())
def test_permute_and_T(device, data):
    x = data.draw(tst.arrays())
    order = data.draw(st.permutations(range(x.ndim)))
    check_op(lambda t: t.permute(*order), lambda a: np.transpose(a, order), [x], device, allow_zero=True)
    check_op(lambda t: t.permute(order), lambda a: np.transpose(a, order), [x], device, gradgrad=False)
    check_op(lambda t: t.T, lambda a: a.T, [x], device, gradgrad=False)


def test_permute_rejects_a_non_permutation(device):
    with pytest.raises(RuntimeError, match="not a permutation"):      # torch: "duplicate dims are not allowed"
        tg.zeros(2, 3, device=device).permute(0, 0)


@given(data=st.data())
def test_flatten(device, data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    start = data.draw(st.integers(0, x.ndim - 1))
    end = data.draw(st.integers(start, x.ndim - 1))
    expected_shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    check_op(lambda t: t.flatten(start, end), lambda a: a.reshape(expected_shape), [x], device,
             allow_zero=True)
    check_op(lambda t: t.flatten(), lambda a: a.ravel(), [x], device, gradgrad=False)


@given(data=st.data())
def test_broadcast_to(device, data):
    """Stretch size-1 axes and add leading ones; the gradient sums them back."""
    x = data.draw(tst.arrays())
    stretched = tuple(data.draw(st.integers(1, 3)) if n == 1 else n for n in x.shape)
    target = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2))) + stretched
    check_op(lambda t: t.broadcast_to(target), lambda a: np.broadcast_to(a, target), [x], device,
             allow_zero=True)


def test_broadcast_to_an_incompatible_shape_raises(device):
    with pytest.raises(ValueError, match="broadcast"):
        tg.zeros(2, 3, device=device).broadcast_to((3, 3))


def check_indexing(x, index, device):
    """x[index] against NumPy; an empty selection has a zero gradient, allowed."""
    assume(x[index].ndim <= 4)
    check_op(lambda t: t[index], lambda a: a[index], [x], device, allow_zero=True)


@given(data=st.data())
def test_getitem_basic(device, data):
    x = data.draw(tst.arrays())
    check_indexing(x, data.draw(tst.basic_indices(x.shape)), device)


@given(data=st.data())
def test_getitem_integer_array_with_repeats(device, data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    check_indexing(x, data.draw(tst.integer_array_indices(x.shape)), device)


@given(data=st.data())
def test_getitem_boolean_mask(device, data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    full_mask = data.draw(tst.boolean_masks(x.shape))
    leading_mask = data.draw(tst.boolean_masks(x.shape[:1]))
    check_indexing(x, full_mask, device)
    check_indexing(x, leading_mask, device)


def test_repeated_indices_accumulate(device):
    x = leaves([np.arange(4.0)], device)[0]
    x[np.array([2, 0, 2, 2, -1])].backward(tg.ones(5, dtype=tg.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 3.0, 1.0])


def test_tensor_indices_act_like_their_arrays(device):
    x = leaves([np.arange(6.0).reshape(2, 3)], device)[0]
    rows = tg.tensor([1, 1, 0], device=device)
    mask = x.detach() > 2.5
    np.testing.assert_array_equal(x[rows].detach().numpy(), np.arange(6.0).reshape(2, 3)[[1, 1, 0]])
    np.testing.assert_array_equal(x[mask].detach().numpy(), [3.0, 4.0, 5.0])
    x[rows, 2].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 1], [0, 0, 2]])


@st.composite
def concatenation_case(draw):
    base = draw(tst.shapes(min_dims=1))
    axis = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    arrays = []
    for n in sizes:
        shape = list(base)
        shape[axis] = n
        arrays.append(draw(tst.arrays(tuple(shape))))
    return arrays, axis


@given(case=concatenation_case())
def test_concatenate(device, case):
    arrays, axis = case
    check_op(lambda *ts: tg.concatenate(ts, axis=axis), lambda *a: np.concatenate(a, axis=axis),
             arrays, device, allow_zero=True)
    check_op(lambda *ts: tg.cat(list(ts), axis), lambda *a: np.concatenate(a, axis=axis),
             arrays, device, gradgrad=False)


@given(data=st.data())
def test_stack(device, data):
    shape = data.draw(tst.shapes())
    arrays = data.draw(st.lists(tst.arrays(shape), min_size=1, max_size=3))
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda *ts: tg.stack(ts, axis=axis), lambda *a: np.stack(a, axis=axis), arrays, device,
             allow_zero=True)


@pytest.mark.parametrize("join", [tg.concatenate, tg.stack], ids=["concatenate", "stack"])
def test_joining_float32_and_float64_gives_each_input_a_gradient_of_its_own_dtype(device, join):
    a = tg.ones(2, requires_grad=True, device=device)
    b = tg.ones(2, dtype=tg.float64, requires_grad=True, device=device)
    out = join([a, b])
    assert out.dtype == tg.float64
    out.backward(tg.ones(out.shape, dtype=tg.float64, device=device))
    assert a.grad.dtype == tg.float32 and b.grad.dtype == tg.float64


def test_joining_nothing_raises():
    with pytest.raises(ValueError, match="at least one"):
        tg.concatenate([])


@pytest.mark.parametrize("index", [[0, 5], tg.tensor([0, 5]), np.array([0, 5]), (Ellipsis, [5]), ([1], [5])])
def test_out_of_range_integer_indices_raise_on_every_device(device, index):
    """NumPy raises for them; CuPy would wrap around: both devices raise NumPy's IndexError."""
    x = tg.arange(9.0, device=device).reshape(3, 3) if isinstance(index, tuple) else tg.arange(3.0, device=device)
    if isinstance(index, tg.Tensor):
        index = index.to(device)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis (0|1) with size 3"):
        x[index]
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        x[index] = 1.0
    assert x.sum().item() == (36.0 if isinstance(index, tuple) else 3.0)      # nothing written


def test_negative_indices_within_range_count_from_the_end(device):
    x = tg.arange(4.0, device=device, requires_grad=True)
    x[[-1, -4]].sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 0 with size 4"):
        x[[-5]]
