"""The methods made of other ops (composite.py): values against NumPy, gradcheck and
gradgradcheck, PyTorch's shapes, errors and integer answers, and torch itself."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op


def _np_diag_vector(v, k):
    return np.diag(v, k)


def _np_logsumexp(a, axis, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


# name -> (the method call, NumPy's reference, the input's shape)
COMPOSITE = {
    "tril": (lambda t: t.tril(), np.tril, (3, 4)),
    "tril_-1": (lambda t: t.tril(-1), lambda a: np.tril(a, -1), (2, 3, 4)),
    "triu_1": (lambda t: t.triu(1), lambda a: np.triu(a, 1), (4, 3)),
    "diagonal": (lambda t: t.diagonal(), np.diagonal, (3, 4)),
    "diagonal_offset": (lambda t: t.diagonal(1, 0, 2), lambda a: np.diagonal(a, 1, 0, 2), (3, 2, 4)),
    "diagonal_negative": (lambda t: t.diagonal(-2), lambda a: np.diagonal(a, -2), (4, 3)),
    "diag_of_matrix": (lambda t: t.diag(1), lambda a: np.diag(a, 1), (3, 4)),
    "diag_of_vector": (lambda t: t.diag(), lambda a: _np_diag_vector(a, 0), (4,)),
    "diag_of_vector_k": (lambda t: t.diag(-1), lambda a: _np_diag_vector(a, -1), (3,)),
    "trace": (lambda t: t.trace(), np.trace, (3, 4)),
    "flip": (lambda t: t.flip(0, 2), lambda a: np.flip(a, (0, 2)), (2, 3, 4)),
    "fliplr": (lambda t: t.fliplr(), np.fliplr, (2, 3)),
    "roll": (lambda t: t.roll(2, 1), lambda a: np.roll(a, 2, 1), (3, 4)),
    "roll_two_dims": (lambda t: t.roll((1, -3), (0, 1)), lambda a: np.roll(a, (1, -3), (0, 1)), (3, 4)),
    "roll_flat": (lambda t: t.roll(-5), lambda a: np.roll(a, -5), (3, 4)),
    "select": (lambda t: t.select(1, -1), lambda a: a[:, -1], (3, 4)),
    "outer": (lambda t: t.outer(t * 2), lambda a: np.outer(a, a * 2), (3,)),       # (products of the
    "dot": (lambda t: t.dot(t.flip(0)), lambda a: a @ a[::-1], (5,)),               # input with itself:
    "bmm": (lambda t: t.bmm(t.transpose(1, 2)), lambda a: a @ a.transpose(0, 2, 1), (2, 3, 4)),  # not all 0)
    "logsumexp": (lambda t: t.logsumexp(1), lambda a: _np_logsumexp(a, 1), (3, 4)),
    "logsumexp_keepdim": (lambda t: t.logsumexp((0, 2), keepdim=True),
                          lambda a: _np_logsumexp(a, (0, 2), True), (2, 3, 2)),
}


@pytest.mark.parametrize("name", COMPOSITE)
@settings(max_examples=5)
@given(data=st.data())
def test_composite_values_and_gradients(device, name, data):
    call, reference, shape = COMPOSITE[name]
    array = data.draw(tst.arrays(shape=shape, min_magnitude=0.1 if name in ("outer", "dot", "bmm") else 0.0))
    check_op(call, reference, [array], device)


def test_unbind_gives_every_slice_and_their_gradients_meet(device):
    a = np.arange(6.0).reshape(2, 3)
    x = tg.tensor(a, requires_grad=True, device=device)
    columns = x.unbind(1)
    assert len(columns) == 3 and all(c.shape == (2,) for c in columns)
    np.testing.assert_array_equal(columns[2].detach().numpy(), a[:, 2])
    (columns[0] * 1 + columns[2] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 3], [1, 0, 3]])


def test_logsumexp_does_not_overflow_and_keeps_minus_infinity(device):
    big = tg.tensor([1000.0, 1000.0], device=device)
    assert big.logsumexp(0).item() == pytest.approx(1000 + np.log(2))
    row = tg.tensor([[-np.inf, 0.0], [-np.inf, -np.inf]], device=device)
    with np.errstate(divide="ignore"):
        out = row.logsumexp(1).numpy()
    assert out[0] == 0.0 and out[1] == -np.inf


def test_product_shape_checks_name_what_is_wrong(device):
    v, m = tg.ones(3, device=device), tg.ones(2, 3, device=device)
    with pytest.raises(RuntimeError, match="outer: other must be a vector"):
        v.outer(m)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        v.dot(tg.ones(4, device=device))
    with pytest.raises(RuntimeError, match="bmm: self must be a batch of matrices"):
        m.bmm(m)
    with pytest.raises(RuntimeError, match=r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\]"):
        tg.ones(2, 2, 3, device=device).bmm(tg.ones(2, 2, 3, device=device))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        v.tril()
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        m.diagonal(0, 1, -1)
    with pytest.raises(RuntimeError, match="roll: shifts and dimensions must align"):
        m.roll((1, 2), 0)
    with pytest.raises(RuntimeError, match="trace: expected a matrix"):
        v.trace()


def test_new_tensors_take_dtype_and_device_from_self(device):
    x = tg.ones(2, 3, dtype=tg.float64, device=device)
    for made in (x.new_zeros(4), x.new_ones((2, 2)), x.new_empty(1, 2), x.new_full((3,), 7.0), x.new_tensor([1, 2])):
        assert made.dtype == tg.float64 and made.device == device and not made.requires_grad
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_zeros(2, 2).tolist() == [[0.0, 0.0]] * 2
    assert x.new_ones(2, dtype=tg.int64).dtype == tg.int64
    assert x.new_zeros(2, requires_grad=True).requires_grad
    assert tg.tensor([1], device=device).new_tensor([2.7]).tolist() == [2]      # int64 from self
    copied = np.array([1.0, 2.0])
    made = x.new_tensor(copied)
    copied[0] = 5
    assert made.tolist() == [1.0, 2.0]


def test_nonzero_argwhere_and_unique(device):
    x = tg.tensor([[0, 3, 0], [2, 0, 2]], device=device)
    assert x.nonzero().tolist() == [[0, 1], [1, 0], [1, 2]] and x.nonzero().dtype == tg.int64
    assert tg.argwhere(x).tolist() == x.nonzero().tolist()
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 1, 1] and x[rows, cols].tolist() == [3, 2, 2]
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    assert values.tolist() == [0, 2, 3] and counts.tolist() == [3, 2, 1]
    assert inverse.shape == x.shape and values[inverse].tolist() == x.tolist()
    assert tg.unique(tg.tensor([3.0, 1.0, 3.0], device=device)).tolist() == [1.0, 3.0]
    rows_unique = tg.tensor([[1, 2], [1, 2], [0, 5]], device=device).unique(dim=0)
    assert rows_unique.tolist() == [[0, 5], [1, 2]]


def test_hstack_and_vstack(device):
    a, b = tg.tensor([1.0, 2.0], device=device), tg.tensor([3.0], device=device)
    assert tg.hstack([a, b]).tolist() == [1.0, 2.0, 3.0]
    m = tg.ones(2, 1, device=device)
    assert tg.hstack((m, m * 2)).tolist() == [[1.0, 2.0], [1.0, 2.0]]
    assert tg.vstack([a, a * 2]).tolist() == [[1.0, 2.0], [2.0, 4.0]]
    assert tg.vstack([tg.ones(1, 2, device=device), a]).shape == (2, 2)


CALLS = [("tril", (1,)), ("triu", (-1,)), ("diagonal", (1,)), ("diag", ()), ("trace", ()), ("flip", ((0,),)),
         ("roll", (3, 1)), ("roll", (-2,)), ("select", (0, 2)), ("logsumexp", (1,)), ("fliplr", ()), ("flipud", ())]


@pytest.mark.parametrize("name,args", CALLS)
def test_the_same_as_torch(name, args):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(4, 5))
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = getattr(tg, name)(x, *args), getattr(torch, name)(tx, *args)
    upstream = np.random.default_rng(1).normal(size=tuple(ty.shape))
    y.backward(tg.tensor(upstream))
    ty.backward(torch.tensor(upstream))
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13)


def test_integer_answers_the_same_as_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[0, 3, 0, 3], [2, 0, 2, 7]])
    assert tg.nonzero(tg.tensor(a)).tolist() == torch.nonzero(torch.tensor(a)).tolist()
    ours = tg.unique(tg.tensor(a), return_inverse=True, return_counts=True)
    theirs = torch.unique(torch.tensor(a), return_inverse=True, return_counts=True)
    assert [t.tolist() for t in ours] == [t.tolist() for t in theirs]
    v = np.array([1.0, 2.0, 3.0])
    assert tg.diag(tg.tensor(v), 1).tolist() == torch.diag(torch.tensor(v), 1).tolist()
    assert tg.vstack([tg.tensor(v)] * 2).tolist() == torch.vstack([torch.tensor(v)] * 2).tolist()


def test_memory_layout_queries(device):
    x = tg.ones(2, 3, dtype=tg.float64, device=device)
    assert x.is_contiguous() and not x.T.is_contiguous() and x.T.contiguous().is_contiguous()
    assert x.stride() == (3, 1) and x.T.stride() == (1, 3) and x.stride(-2) == 3
    assert x.element_size() == x.itemsize == 8 and x.nbytes == 48
    assert tg.ones(4, dtype=tg.int8, device=device).element_size() == 1


def test_memory_layout_the_same_as_torch():
    torch = pytest.importorskip("torch")
    x, t = tg.ones(2, 3, 4), torch.ones(2, 3, 4)
    for ours, theirs in [(x, t), (x.permute(2, 0, 1), t.permute(2, 0, 1)), (x[:, 1], t[:, 1])]:
        assert ours.stride() == theirs.stride() and ours.is_contiguous() == theirs.is_contiguous()
    assert x.element_size() == t.element_size() and x.nbytes == t.nbytes


MORE = {
    "narrow": (lambda t: t.narrow(1, -3, 2), lambda a: a[:, -3:-1], (3, 4)),
    "movedim": (lambda t: t.movedim((0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0)), (2, 3, 4)),
    "tile": (lambda t: t.tile((2, 1, 2)), lambda a: np.tile(a, (2, 1, 2)), (3, 2)),
    "repeat_interleave": (lambda t: t.repeat_interleave(2, dim=1), lambda a: np.repeat(a, 2, axis=1), (2, 3)),
    "repeat_interleave_counts": (lambda t: t.repeat_interleave(tg.tensor([0, 2, 1], device=t.device), dim=0),
                                 lambda a: np.repeat(a, [0, 2, 1], axis=0), (3, 2)),
    "masked_select": (lambda t: t.masked_select(tg.tensor([True, False, True], device=t.device)),
                      lambda a: a[:, [0, 2]].reshape(-1), (2, 3)),
    "take": (lambda t: t.take(tg.tensor([[5, 0], [1, 1]], device=t.device)), lambda a: a.reshape(-1)[[[5, 0], [1, 1]]],
             (2, 3)),
    "median": (lambda t: t.median(), lambda a: np.sort(a.reshape(-1))[(a.size - 1) // 2], (3, 4)),
    "median_dim": (lambda t: t.median(1).values, lambda a: np.sort(a, axis=1)[:, (a.shape[1] - 1) // 2], (3, 4)),
}


@pytest.mark.parametrize("name", MORE)
@settings(max_examples=5)
@given(data=st.data())
def test_more_composites(device, name, data):
    call, reference, shape = MORE[name]
    if name.startswith("median"):        # well apart, so that gradcheck's nudges keep the same median
        order = data.draw(st.permutations(range(int(np.prod(shape)))))
        array = np.array(order, dtype=float).reshape(shape) * 0.37 - 2
    else:
        array = data.draw(tst.arrays(shape=shape))
    check_op(call, reference, [array], device)


def test_integer_queries_and_errors(device):
    x = tg.tensor([[0, 3, 0], [2, 0, 2]], device=device)
    assert x.count_nonzero().item() == 3 and x.count_nonzero(dim=0).tolist() == [1, 1, 1]
    assert x.clamp_min(1).tolist() == [[1, 3, 1], [2, 1, 2]] and x.clamp_max(1).tolist() == [[0, 1, 0], [1, 0, 1]]
    values, indices = tg.tensor([[3.0, 1.0, 2.0, 4.0]], device=device).median(dim=1, keepdim=True)
    assert values.tolist() == [[2.0]] and indices.tolist() == [[2]]            # the lower middle of 4
    with pytest.raises(IndexError, match="exceeds dimension size"):
        x.narrow(1, 2, 2)
    with pytest.raises(RuntimeError, match="should contain the same number of dims"):
        x.movedim((0, 1), 0)


def test_meshgrid_in_both_indexings(device):
    a, b, c = (tg.arange(n, device=device) for n in (3, 4, 2))
    for indexing in ("ij", "xy"):
        ours = tg.meshgrid(a, b, c, indexing=indexing)
        expected = np.meshgrid(np.arange(3), np.arange(4), np.arange(2), indexing=indexing)
        assert [g.tolist() for g in ours] == [e.tolist() for e in expected]
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        tg.meshgrid(a, b)
    with pytest.raises(ValueError, match='indexing must be one of "xy" or "ij"'):
        tg.meshgrid(a, b, indexing="yx")


def test_more_the_same_as_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).normal(size=(3, 4))
    calls = [lambda m, t: t.narrow(0, 1, 2), lambda m, t: t.movedim(1, 0), lambda m, t: t.tile((2, 2)),
             lambda m, t: t.repeat_interleave(3, dim=1), lambda m, t: m.median(t), lambda m, t: t.median(0).values,
             lambda m, t: t.median(0).indices, lambda m, t: m.count_nonzero(t > 0, dim=1),
             lambda m, t: m.masked_select(t, t > 0)]
    for call in calls:
        assert call(tg, tg.tensor(a)).tolist() == call(torch, torch.tensor(a)).tolist()
    grids = tg.meshgrid(tg.arange(3), tg.arange(2), indexing="xy")
    theirs = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="xy")
    assert [g.tolist() for g in grids] == [g.tolist() for g in theirs]


FORMULAS = {
    "lerp": (lambda x, y: x.lerp(y, 0.3), lambda a, b: a + 0.3 * (b - a)),
    "addcmul": (lambda x, y: x.addcmul(y, y, value=0.5), lambda a, b: a + 0.5 * b * b),
    "addcdiv": (lambda x, y: x.addcdiv(x, y * y + 1, value=2), lambda a, b: a + 2 * a / (b * b + 1)),
    "xlogy": (lambda x, y: x.xlogy(y * y + 0.5), lambda a, b: a * np.log(b * b + 0.5)),
    "logit": (lambda x, y: (x.sigmoid() * 0.9 + 0.05).logit(), lambda a, b: np.log((p := 0.9 / (1 + np.exp(-a)) + 0.05)
                                                                                   / (1 - p))),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_small_formulas(device, name):
    call, reference = FORMULAS[name]
    a, b = np.random.default_rng(11).normal(size=(2, 3)), np.random.default_rng(12).normal(size=(2, 3))
    check_op(call, reference, [a, b], device)


def test_nan_handling(device):
    with np.errstate(all="ignore"):
        x = tg.tensor([[1.0, np.nan, 3.0], [np.inf, -np.inf, np.nan]], device=device)
    finite = tg.tensor([[1.0, np.nan, 3.0]], device=device)
    assert finite.nansum().item() == 4.0 and finite.nanmean().item() == 2.0
    replaced = x.nan_to_num(nan=0.5, posinf=9.0, neginf=-9.0)
    assert replaced.tolist() == [[1.0, 0.5, 3.0], [9.0, -9.0, 0.5]]
    assert x.nan_to_num()[1, 0].item() == np.finfo(np.float32).max
    assert tg.xlogy(tg.tensor([0.0, 2.0], device=device), tg.tensor([0.0, np.e], device=device)).tolist() == \
        [0.0, pytest.approx(2.0)]
    w = tg.tensor([1.0, np.nan, np.inf], requires_grad=True, device=device)
    w.nan_to_num().sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 0.0]


def test_small_formulas_the_same_as_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[0.2, 0.0, 0.9], [np.nan, 0.5, 0.1]])
    b = np.array([[0.3, 0.0, 2.0], [1.0, 0.4, 0.7]])
    calls = [lambda m, x, y: x.lerp(y, 0.3), lambda m, x, y: x.addcmul(y, y, value=0.5),
             lambda m, x, y: m.xlogy(x, y), lambda m, x, y: x.logit(eps=1e-3), lambda m, x, y: x.nansum(1),
             lambda m, x, y: x.nanmean(), lambda m, x, y: (x / (y - y)).nan_to_num()]
    for call in calls:
        with np.errstate(all="ignore"):
            ours, theirs = call(tg, tg.tensor(a), tg.tensor(b)).numpy(), call(torch, torch.tensor(a), torch.tensor(b)).numpy()
        np.testing.assert_allclose(ours, theirs, equal_nan=True, rtol=1e-13)
