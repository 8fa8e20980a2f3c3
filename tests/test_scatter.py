"""scatter, scatter_add and their in-place forms, as torch's: values against a loop over
the index written out, gradcheck and gradgradcheck in self and src (float64, random upstream
gradient), a number as the source, PyTorch's errors (an out-of-range index raises on every
device and an in-place call that fails changes nothing), torch's own results where installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from opcheck import leaves


@st.composite
def scatter_cases(draw, unique):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axis = draw(st.integers(0, ndim - 1))
    index_shape = tuple(draw(st.integers(1 if not unique else 1, n)) for n in shape)
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if unique:               # along the axis, each line of the index a part of a permutation
        index = np.moveaxis(np.stack([rng.permutation(shape[axis])[:index_shape[axis]]
                                      for _ in np.ndindex(*np.delete(index_shape, axis))], -1)
                            .reshape((index_shape[axis],) + tuple(np.delete(index_shape, axis))), 0, axis)
    else:
        index = rng.integers(0, shape[axis], index_shape)
    return rng.standard_normal(shape), axis, index, rng.standard_normal(src_shape)


def written_out(x, axis, index, src, add):
    out = x.copy()
    for position in np.ndindex(*index.shape):
        target = list(position)
        target[axis] = index[position]
        if add:
            out[tuple(target)] += src[position]
        else:
            out[tuple(target)] = src[position]
    return out


@given(case=scatter_cases(unique=True))
def test_scatter(device, case):
    x, axis, index, src = case
    a, s = leaves([x, src], device)
    i = tg.tensor(index, device=device)
    np.testing.assert_array_equal(a.scatter(axis, i, s).detach().numpy(), written_out(x, axis, index, src, False))
    assert tg.gradcheck(lambda a, s: a.scatter(axis, i, s), [a, s])
    assert tg.gradgradcheck(lambda a, s: a.scatter(axis, i, s), [a, s], allow_zero=True)


@given(case=scatter_cases(unique=False))
def test_scatter_add_accumulates_repeated_indices(device, case):
    x, axis, index, src = case
    a, s = leaves([x, src], device)
    i = tg.tensor(index, device=device)
    np.testing.assert_allclose(a.scatter_add(axis, i, s).detach().numpy(), written_out(x, axis, index, src, True),
                               rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(lambda a, s: tg.scatter_add(a, axis, i, s), [a, s])
    assert tg.gradgradcheck(lambda a, s: a.scatter_add(axis, i, s), [a, s], allow_zero=True)


def test_a_number_as_the_source_and_the_in_place_forms(device):
    x = tg.zeros(2, 4, device=device)
    index = tg.tensor([[2], [3]], device=device)
    np.testing.assert_array_equal(x.scatter(1, index, 1.5).numpy(), [[0, 0, 1.5, 0], [0, 0, 0, 1.5]])
    np.testing.assert_array_equal(x.scatter(1, index, value=2.0).numpy(), [[0, 0, 2, 0], [0, 0, 0, 2]])
    version = x._version[0]
    assert x.scatter_(1, index, 1.0) is x and x._version[0] == version + 1
    x.scatter_add_(1, index, tg.ones(2, 1, device=device))
    np.testing.assert_array_equal(x.numpy(), [[0, 0, 2, 0], [0, 0, 0, 2]])
    one_hot = tg.zeros(3, 4, device=device).scatter_(1, tg.tensor([[1], [0], [3]], device=device), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4)[[1, 0, 3]])


def test_pytorchs_errors(device):
    x = tg.zeros(2, 3, device=device)
    src = tg.ones(2, 3, device=device)
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        x.scatter(1, tg.tensor([[0]], dtype=tg.int32, device=device), src)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter(1, tg.tensor([0], device=device), src)
    with pytest.raises(RuntimeError, match="to be smaller than self"):
        x.scatter(1, tg.zeros(3, 1, dtype=tg.int64, device=device), src)
    with pytest.raises(RuntimeError, match="Expected src of self's dtype"):
        x.scatter(1, tg.zeros(2, 1, dtype=tg.int64, device=device), src.double())
    with pytest.raises(TypeError, match="src must be a Tensor, got float"):
        x.scatter_add(1, tg.zeros(2, 1, dtype=tg.int64, device=device), 1.0)
    with pytest.raises(NotImplementedError, match="reduce="):
        x.scatter(1, tg.zeros(2, 1, dtype=tg.int64, device=device), src, reduce="add")
    for bad in (3, -1):
        with pytest.raises(IndexError, match=f"index {bad} is out of bounds for dimension 1 with size 3"):
            x.scatter_(1, tg.tensor([[0], [bad]], device=device), src)
        assert not x.numpy().any() and x._version[0] == 0                     # nothing written
    w = tg.zeros(2, 3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.scatter_(1, tg.zeros(2, 1, dtype=tg.int64, device=device), 1.0)


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, src = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
    index = np.array([[0, 1, 2, 0, 1], [2, 0, 1, 1, 0]])
    upstream = rng.standard_normal((3, 5))
    for name in ("scatter", "scatter_add"):
        # scatter: one row of the index (torch leaves repeated targets undefined) and a source of its
        # shape (torch 2.13's backward refuses a larger source)
        rows = 1 if name == "scatter" else 2
        ours = [tg.tensor(a, requires_grad=True) for a in (x, src[:rows])]
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, src[:rows])]
        out = getattr(ours[0], name)(0, tg.tensor(index[:rows]), ours[1])
        expected = getattr(theirs[0], name)(0, torch.tensor(index[:rows]), theirs[1])
        out.backward(tg.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)
