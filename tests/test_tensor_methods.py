"""The Tensor methods and tg.* functions a PyTorch user reaches for, with PyTorch's
signatures and results: dim=/keepdim= (and NumPy's aliases), max/min with indices,
argmax, shape methods, clamp, logic, casts, formatting, and PyTorch's errors for
out-of-range dims.  Values against NumPy; gradients against central differences;
the same expressions against torch itself where it is installed."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op


# ------------------------------------------------------------------ dim= and its aliases
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "any", "all"])
def test_dim_and_keepdim_and_numpy_aliases_agree(device, name):
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4) % 5, device=device)
    torch_style = getattr(x, name)(dim=1, keepdim=True)
    numpy_style = getattr(x, name)(axis=1, keepdims=True)
    positional = getattr(x, name)(1, keepdim=True) if name not in ("var", "std") else torch_style
    np.testing.assert_array_equal(torch_style.numpy(), numpy_style.numpy())
    np.testing.assert_array_equal(torch_style.numpy(), positional.numpy())
    assert torch_style.shape == (2, 1, 4)
    with pytest.raises(TypeError, match="both dim= and its alias axis="):
        getattr(x, name)(dim=1, axis=1)


def test_std_and_var_corrections(device):
    a = np.array([[1.0, 4.0, 2.0], [0.0, -3.0, 5.0]])
    x = tg.tensor(a, device=device, dtype=tg.float64)
    np.testing.assert_allclose(x.std().item(), a.std(ddof=1))
    np.testing.assert_allclose(x.std(1, correction=0).numpy(), a.std(axis=1))
    np.testing.assert_allclose(x.var(0, unbiased=False).numpy(), a.var(axis=0))
    np.testing.assert_allclose(x.var(0, True).numpy(), a.var(axis=0, ddof=1))


@st.composite
def spaced_arrays(draw, shape):
    """Arrays whose elements are 0.25 apart: no ties, no near-ties central differences would straddle."""
    shape = draw(shape)
    n = int(np.prod(shape))
    return np.array(draw(st.permutations(range(n))), dtype=np.float64).reshape(shape) * 0.25 - n / 8


@given(data=spaced_arrays(st.tuples(st.integers(2, 4), st.integers(1, 3))))
def test_std_is_differentiable(device, data):
    check_op(lambda t: t.std(0), lambda a: a.std(axis=0, ddof=1), [data], device)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(2), lambda x: x.mean(-3), lambda x: x.softmax(2), lambda x: x.log_softmax(dim=-3),
    lambda x: x.unsqueeze(3), lambda x: x.unsqueeze(-4), lambda x: x.squeeze(2), lambda x: x.transpose(0, 5),
    lambda x: x.permute(0, 2), lambda x: x.flatten(2), lambda x: x.argmax(2), lambda x: x.max(2),
    lambda x: tg.cat([x, x], dim=2), lambda x: tg.stack([x, x], dim=3), lambda x: x.size(2),
    lambda x: x.split(1, dim=2), lambda x: x.chunk(2, dim=-3), lambda x: x.any(2),
])
def test_out_of_range_dims_raise_index_error_naming_the_range(device, call):
    x = tg.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-\d, \d\], but got -?\d\)"):
        call(x)


def test_zero_dimensional_tensors_take_dims_minus_one_and_zero(device):
    s = tg.tensor(3.0, device=device)
    assert s.sum(0).item() == 3.0 and s.sum(-1).item() == 3.0 and s.unsqueeze(0).shape == (1,)
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        s.sum(1)


# ------------------------------------------------------------------ max, min, argmax
def test_max_with_dim_returns_values_and_indices(device):
    x = tg.tensor([[1.0, 7.0, 7.0], [4.0, -2.0, 0.0]], device=device)
    out = x.max(dim=1)
    values, indices = out                                     # a named tuple, as torch.return_types.max
    assert type(out).__name__ == "max" and out.values is values and out.indices is indices
    np.testing.assert_array_equal(values.numpy(), [7.0, 4.0])
    assert indices.tolist() == [1, 0] and indices.dtype == tg.int64          # the first maximum
    low = x.min(0, keepdim=True)
    assert low.values.shape == (1, 3) and low.indices.tolist() == [[0, 1, 1]]
    assert x.max().item() == 7.0 and x.min().item() == -2.0
    np.testing.assert_array_equal(x.max(tg.zeros(2, 3, device=device)).numpy(), np.maximum(x.numpy(), 0))


def test_max_with_dim_sends_the_gradient_to_the_returned_index():
    """torch: the gradient of max(dim) goes to the element at indices (not split over ties)."""
    x = tg.tensor([[3.0, 3.0, 1.0], [0.0, 2.0, 2.0]], dtype=tg.float64, requires_grad=True)
    x.max(1).values.backward(tg.tensor([5.0, 7.0], dtype=tg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[5.0, 0.0, 0.0], [0.0, 7.0, 0.0]])


@given(data=spaced_arrays(tst.shapes(min_dims=1)), dim=st.integers(-3, 2), keepdim=st.booleans())
def test_max_and_min_with_dim_against_numpy_and_gradcheck(device, data, dim, keepdim):
    dim = dim % data.ndim
    for name in ("max", "min"):
        check_op(lambda t: getattr(t, name)(dim, keepdim).values,
                 lambda a: getattr(np, name)(a, axis=dim, keepdims=keepdim), [data], device, allow_zero=True)
        idx = getattr(tg.tensor(data, device=device), name)(dim, keepdim).indices
        expected = getattr(np, "arg" + name)(data, axis=dim)
        np.testing.assert_array_equal(idx.numpy(), np.expand_dims(expected, dim) if keepdim else expected)


def test_argmax_and_argmin(device):
    x = tg.tensor([[1.0, 9.0, 9.0], [8.0, -2.0, 0.0]], device=device)
    assert x.argmax().item() == 1 and x.argmin().item() == 4          # of the flattened tensor
    assert x.argmax(dim=1).tolist() == [1, 0] and x.argmin(0, keepdim=True).tolist() == [[0, 1, 1]]
    assert tg.argmax(x, 1).tolist() == [1, 0]
    accuracy = (x.argmax(1) == tg.tensor([1, 1], device=device)).float().mean()
    assert f"{accuracy:.2f}" == "0.50"
    with pytest.raises(IndexError, match="empty"):
        tg.zeros(0, device=device).argmax()


# ------------------------------------------------------------------ shapes
def test_view_clone_t_contiguous(device):
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, device=device, dtype=tg.float64)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,) and x.view((1, 6)).shape == (1, 6)
    assert x.t().shape == (3, 2) and tg.tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"):
        tg.zeros(1, 2, 3).t()
    c = x.clone()
    assert c.grad_fn is not None and not np.shares_memory(c._data, x._data)
    assert x.contiguous() is x and x.t().contiguous()._data.flags.c_contiguous
    (c * 2 + x.t().contiguous().t()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0))


def test_expand_repeat_chunk_split(device):
    x = tg.tensor([[1.0], [2.0]], device=device)
    assert x.expand(2, 3).tolist() == [[1, 1, 1], [2, 2, 2]] and x.expand(4, -1, 3).shape == (4, 2, 3)
    assert x.expand_as(tg.zeros(2, 5)).shape == (2, 5)
    np.testing.assert_array_equal(x.repeat(2, 3).numpy(), np.tile(x.numpy(), (2, 3)))
    assert x.repeat(3, 1, 1).shape == (3, 2, 1)
    y = tg.arange(10, device=device)
    assert [p.tolist() for p in y.chunk(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.tolist() for p in y.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.tolist() for p in y.split([2, 8])] == [[0, 1], [2, 3, 4, 5, 6, 7, 8, 9]]
    with pytest.raises(RuntimeError, match="sum exactly to 10"):
        y.split([2, 3])


@given(data=tst.arrays(tst.shapes(min_dims=1, max_dims=2, max_side=3)),
       repeats=st.lists(st.integers(1, 3), min_size=2, max_size=3))
def test_repeat_gradient(device, data, repeats):
    repeats = repeats[:max(len(repeats), data.ndim)] if len(repeats) >= data.ndim else repeats + [1]
    if len(repeats) < data.ndim:
        return
    check_op(lambda t: t.repeat(*repeats), lambda a: np.tile(a, repeats), [data], device)


@given(data=tst.arrays(tst.shapes(min_dims=1, max_dims=3)), pieces=st.integers(1, 4))
def test_split_pieces_rejoin_and_are_differentiable(device, data, pieces):
    step = -(-data.shape[-1] // pieces)
    reversed_pieces = [data[..., i:i + step] for i in range(0, data.shape[-1], step)][::-1]
    check_op(lambda t: tg.cat(t.chunk(pieces, dim=-1)[::-1], dim=-1) * 2,
             lambda a: np.concatenate(reversed_pieces, axis=-1) * 2, [data], device)


def test_gather_picks_along_a_dim_and_scatters_its_gradient():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=tg.float64, requires_grad=True)
    index = tg.tensor([[2, 2], [0, 1]])
    out = x.gather(1, index)
    np.testing.assert_array_equal(out.detach().numpy(), [[3.0, 3.0], [4.0, 5.0]])
    out.backward(tg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0, 3.0], [3.0, 4.0, 0.0]])   # repeats add


def test_squeeze_unsqueeze_flatten_with_dims(device):
    x = tg.zeros(2, 1, 3, 1, device=device)
    assert x.squeeze().shape == (2, 3) and x.squeeze(1).shape == (2, 3, 1) and x.squeeze(0).shape == x.shape
    assert x.squeeze((1, 3)).shape == (2, 3) and x.unsqueeze(-1).shape == (2, 1, 3, 1, 1)
    assert x.flatten(1).shape == (2, 3) and x.flatten(0, 1).shape == (2, 3, 1)


# ------------------------------------------------------------------ elementwise
@given(data=tst.arrays(), low=st.floats(-2, 0), high=st.floats(0.1, 2))
def test_clamp_against_numpy_and_gradcheck(device, data, low, high):
    assume(np.all(np.abs(data - low) > 1e-3) and np.all(np.abs(data - high) > 1e-3))   # off the kinks
    check_op(lambda t: t.clamp(low, high), lambda a: np.clip(a, low, high), [data], device, allow_zero=True)
    check_op(lambda t: t.clamp(min=low), lambda a: np.maximum(a, low), [data], device, allow_zero=True)


def test_clamp_gradient_includes_the_bounds():
    """torch.clamp passes the gradient where min <= x <= max, the bounds included."""
    x = tg.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="at least one of min and max"):
        x.clamp()


def test_comparison_methods_and_logic(device):
    a, b = tg.tensor([1, 2, 3], device=device), tg.tensor([3, 2, 1], device=device)
    assert a.eq(b).tolist() == [False, True, False] and a.ne(b).tolist() == [True, False, True]
    assert a.lt(b).tolist() == [True, False, False] and a.ge(2).tolist() == [False, True, True]
    assert a.le(b).tolist() == [True, True, False] and a.gt(b).tolist() == [False, False, True]
    m, n = a > 1, b > 1
    assert (m & n).tolist() == [False, True, False] and (m | n).tolist() == [True, True, True]
    assert (~m).tolist() == [True, False, False] and (m ^ n).tolist() == [True, False, True]
    assert (a & 2).tolist() == [0, 2, 2]
    assert m.any().item() and not m.all().item() and m.all(0).dtype == tg.bool_
    with pytest.raises(TypeError, match="boolean and integer"):
        tg.tensor([1.0]) & tg.tensor([1.0])
    z = tg.tensor([0.0, 2.0, 0.0, -1.0], device=device)
    w = tg.tensor([0, 0, 5, 7], device=device)
    assert z.logical_and(w).tolist() == [False, False, False, True]       # any dtypes: nonzero is true
    assert tg.logical_or(z, w).tolist() == [False, True, True, True]
    assert tg.logical_xor(z, w).tolist() == [False, True, True, False]
    assert tg.eq(a, b).tolist() == a.eq(b).tolist() and tg.greater(a, 1).tolist() == [False, True, True]


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_modes_follow_their_definitions(device, mode):
    """trunc rounds the quotient toward zero, floor down; two integer tensors keep
    an integer result, any float makes it float (torch's rule)."""
    a, b = np.array([-7, 7, 6, -6, 5, 0]), np.array([2, -2, 3, 4, -5, 3])
    exact = a / b
    expected = {None: exact, "trunc": np.trunc(exact), "floor": np.floor(exact)}[mode]
    ints = tg.div(tg.tensor(a, device=device), tg.tensor(b, device=device), rounding_mode=mode)
    floats = tg.tensor(a.astype(float), device=device).div(tg.tensor(b, device=device), rounding_mode=mode)
    np.testing.assert_array_equal(ints.numpy(), expected)
    np.testing.assert_allclose(floats.numpy(), expected, rtol=1e-7)
    assert ints.dtype == (tg.float32 if mode is None else tg.int64) and floats.dtype == tg.float64
    assert tg.tensor(-7, device=device).div(2, rounding_mode=mode).item() == expected[0]


def test_div_rounding_mode_errors(device):
    with pytest.raises(ValueError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        tg.tensor([1.0], device=device).div(2, rounding_mode="round")
    with pytest.raises(ZeroDivisionError):
        tg.tensor([1], device=device).div(tg.tensor([0], device=device), rounding_mode="floor")


def test_div_rounding_modes_match_torch():
    torch = pytest.importorskip("torch")
    a, b = np.arange(-9, 10), np.array([4, -3, 5, -7, 2, 3, -2, 9, 6, -4, 3, 7, -5, 2, 8, -3, 4, 5, -6])
    for mode in ("trunc", "floor"):
        ours = tg.div(tg.tensor(a), tg.tensor(b), rounding_mode=mode)
        theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        assert ours.tolist() == theirs.tolist()
        ours = tg.div(tg.tensor(a * 1.5), 2.5, rounding_mode=mode)
        theirs = torch.div(torch.tensor(a * 1.5, dtype=torch.float32), 2.5, rounding_mode=mode)
        assert ours.tolist() == theirs.tolist()


def test_nan_checks_and_masked_fill(device):
    x = tg.tensor([1.0, float("nan"), float("inf"), -2.0], device=device)
    assert x.isnan().tolist() == [False, True, False, False]
    assert x.isfinite().tolist() == [True, False, False, True] and x.isinf().tolist() == [False, False, True, False]
    y = x.masked_fill(x.isnan() | x.isinf(), 0.0)
    assert y.tolist() == [1.0, 0.0, 0.0, -2.0]
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    w.masked_fill(tg.tensor([False, True, False], device=device), -5.0).sum().backward()
    assert w.grad.tolist() == [1.0, 0.0, 1.0]                # no gradient where filled
    with pytest.raises(TypeError, match="boolean masks"):
        w.masked_fill(tg.tensor([1, 0, 0], device=device), 0.0)


def test_casts_and_to_with_a_positional_dtype(device):
    x = tg.tensor([1.7, -2.2], device=device)
    assert x.long().tolist() == [1, -2] and x.int().dtype == tg.int32 and x.double().dtype == tg.float64
    assert x.bool().tolist() == [True, True] and x.half().dtype == tg.float16 and x.long().float().dtype == tg.float32
    assert x.to(tg.float64).dtype == tg.float64 and x.to(device, tg.float64).dtype == tg.float64
    assert x.to(tg.zeros(1, dtype=tg.float64)).dtype == tg.float64
    assert x.to(dtype=tg.float32) is x and x.to(tg.float32, copy=True) is not x
    assert tg.long is tg.int64 and tg.float is tg.float32 and tg.double is tg.float64
    with pytest.raises(TypeError, match="device name, a dtype or a Tensor"):
        x.to(3.5)
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        x.to("gpu")


TYPE_NAMES = {tg.float32: "FloatTensor", tg.float64: "DoubleTensor", tg.float16: "HalfTensor",
              tg.int64: "LongTensor", tg.int32: "IntTensor", tg.int16: "ShortTensor", tg.int8: "CharTensor",
              tg.uint8: "ByteTensor", tg.bool_: "BoolTensor"}     # torch.Tensor.type()'s names (PyTorch docs)


def test_type_names_the_type_and_casts_as_torch(device):
    """x.type() is PyTorch's legacy type name under this library's prefix; x.type(dtype) and
    x.type(name) cast (the quickstart's (pred.argmax(1) == y).type(torch.float))."""
    cuda = "cuda." if device == "cuda" else ""
    for dtype, name in TYPE_NAMES.items():
        assert tg.zeros(2, dtype=dtype, device=device).type() == f"tinygrad_bn.{cuda}{name}"
    hits = tg.tensor([1, 0, 1], device=device) == tg.tensor([1, 1, 1], device=device)
    as_float = hits.type(tg.float)
    assert as_float.dtype == tg.float32 and as_float.device == device and as_float.sum().item() == 2.0
    long = tg.tensor([1.7, -2.2], device=device).type("torch.LongTensor")
    assert long.dtype == tg.int64 and long.device == "cpu" and long.tolist() == [1, -2]
    assert tg.tensor([1.5]).type("tinygrad_bn.DoubleTensor").dtype == tg.float64
    with pytest.raises(ValueError, match="invalid type 'torch.Float'"):
        hits.type("torch.Float")
    with pytest.raises(TypeError, match="no PyTorch type name for dtype complex64"):
        tg.zeros(1, dtype=np.complex64).type()


def test_type_names_are_torchs():
    torch = pytest.importorskip("torch")
    for dtype, name in TYPE_NAMES.items():
        ours = tg.zeros(1, dtype=dtype).type()
        theirs = torch.from_numpy(np.zeros(1, dtype=dtype)).type()
        assert ours.split(".")[-1] == theirs.split(".")[-1] == name


def test_formatting_and_rounding():
    loss = tg.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and f"{tg.tensor([2]):d}" == "2" and "{:>8.2e}".format(loss) == "1.23e-01"
    assert f"{tg.tensor([1.0, 2.0])}".startswith("tensor(")
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{tg.tensor([1.0, 2.0]):.2f}"
    assert round(tg.tensor(2.567), 1) == 2.6 and round(tg.tensor(2.5)) == 2
    assert tg.tensor([0.5, 1.5, 2.567]).round().tolist() == [0.0, 2.0, 3.0]
    assert tg.tensor([2.567]).round(decimals=2).item() == pytest.approx(2.57)
    assert list(range(10))[tg.tensor(3)] == 3                 # __index__


def test_size_dim_numel_and_iteration(device):
    x = tg.zeros(2, 3, device=device)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2 and x.dim() == 2 and x.numel() == 6
    assert [row.shape for row in x] == [(3,), (3,)]
    with pytest.raises(TypeError, match="0-d"):
        iter(tg.tensor(1.0))


def test_device_objects_compare_equal_to_their_names(device):
    x = tg.zeros(1, device=device)
    assert x.device == device and x.device.type == device and str(x.device) == device
    assert repr(x.device) == f"device(type='{device}')" and tg.device(device) == x.device
    assert tg.zeros(1, device=tg.device(device)).device == device
    assert tg.device("cuda:0") == "cuda" and tg.device("cuda:0").index == 0 and tg.device("cpu").index is None
    with pytest.raises(ValueError, match="one GPU"):
        tg.device("cuda:1")
    assert tg.cuda.is_available() == ("cuda" in tg.available_devices())


def test_requires_grad_assignment_checks_the_dtype_like_requires_grad_():
    t = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require gradients"):
        t.requires_grad = True
    assert not t.requires_grad
    f = tg.tensor([1.0])
    f.requires_grad = True
    assert f.requires_grad and f.is_leaf
    y = f * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False


def test_integer_inputs_follow_torch(device):
    """exp/log/sqrt/tanh/sigmoid of integers are float32 (torch's default dtype);
    mean, var, std and softmax of integers are errors, as in torch."""
    n = tg.tensor([1, 4], device=device)
    for name in ("exp", "log", "sqrt", "tanh", "sigmoid"):
        out = getattr(n, name)()
        assert out.dtype == tg.float32
        np.testing.assert_allclose(out.numpy(), getattr(n.float(), name)().numpy())
    for call in (lambda: n.mean(), lambda: n.var(), lambda: n.std(), lambda: n.softmax(0)):
        with pytest.raises(RuntimeError, match="expected a floating point tensor, got int64"):
            call()
    assert n.sum().dtype == tg.int64 and n.float().mean().item() == 2.5


def test_matmul_refuses_mixed_dtypes_as_torch_does(device):
    a = tg.ones(2, 3, device=device)
    for b in (tg.ones(3, 2, dtype=tg.float64, device=device), tg.ones(3, 2, dtype=tg.int64, device=device)):
        with pytest.raises(RuntimeError, match=f"same dtype, but got: float32 != {b.dtype}"):
            a @ b
        with pytest.raises(RuntimeError, match="same dtype"):
            tg.matmul(b.t(), a.t())
    assert (tg.ones(2, 3, dtype=tg.int64) @ tg.ones(3, dtype=tg.int64)).tolist() == [3, 3]


# ------------------------------------------------------------------ tg.* functions and creation
def test_namespace_functions_call_the_methods(device):
    x = tg.tensor([[1.0, -2.0], [3.0, 0.5]], device=device)
    for name in ("exp", "abs", "tanh", "sigmoid", "relu", "sin", "floor", "square", "neg", "reciprocal"):
        np.testing.assert_array_equal(getattr(tg, name)(x).numpy(), getattr(x, name)().numpy())
    for name in ("add", "sub", "mul", "div", "pow", "atan2", "multiply", "true_divide", "lt", "maximum"):
        np.testing.assert_array_equal(getattr(tg, name)(x, x.T).numpy(), getattr(x, name)(x.T).numpy())
    assert tg.add(x, 1, alpha=2).tolist() == [[3.0, 0.0], [5.0, 2.5]]
    np.testing.assert_array_equal(tg.softmax(x, dim=0).numpy(), x.softmax(0).numpy())
    np.testing.assert_array_equal(tg.matmul(x, x).numpy(), (x @ x).numpy())
    assert tg.argmax(x).item() == 2 and tg.sum(x, dim=1).tolist() == [-1.0, 3.5]
    assert tg.allclose(x, x + 1e-9) and not tg.allclose(x, x + 1) and tg.equal(x, x.clone())
    assert tg.isclose(x, x).all().item() and tg.is_tensor(x) and not tg.is_tensor(x.numpy())
    with pytest.raises(TypeError, match="argument 'input' must be a Tensor, not ndarray"):
        tg.exp(np.ones(2))


def test_creation_functions(device):
    assert tg.eye(3, device=device).numpy().tolist() == np.eye(3).tolist() and tg.eye(2, 3).shape == (2, 3)
    np.testing.assert_allclose(tg.linspace(0, 1, 5, device=device).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert tg.empty(2, 3, device=device).shape == (2, 3) and tg.empty((4,)).dtype == tg.float32
    like = tg.zeros(2, 2, dtype=tg.float64, device=device)
    for make in (tg.randn_like, tg.rand_like, tg.zeros_like, tg.ones_like, tg.empty_like):
        made = make(like)
        assert made.shape == (2, 2) and made.dtype == tg.float64 and made.device == device
    assert tg.full_like(like, 7).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    tg.manual_seed(1)
    r = tg.randint(3, 9, (1000,), device=device).numpy()
    assert r.dtype == np.int64 and r.min() == 3 and r.max() == 8
    assert tg.randint(5, (2, 3)).shape == (2, 3) and sorted(tg.randperm(6).tolist()) == list(range(6))


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    a = np.array([1.0, 2.0])
    t = tg.from_numpy(a)
    a[0] = 5.0
    assert t.dtype == tg.float64 and t.tolist() == [5.0, 2.0]
    t += 1
    assert a.tolist() == [6.0, 3.0]
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
        tg.from_numpy([1.0])


def test_tensors_from_lists_of_tensors(device):
    parts = [tg.tensor(1.5, device=device), tg.tensor(2.0, device=device)]
    t = tg.tensor(parts, device=device)
    assert t.tolist() == [1.5, 2.0] and t.device == device and t.dtype == tg.float32


def test_dlpack_exchanges_without_copying():
    t = tg.tensor([1.0, 2.0, 3.0], device="cpu")
    a = np.from_dlpack(t)
    t[0] = 9.0
    assert a.tolist() == [9.0, 2.0, 3.0]
    with pytest.raises(RuntimeError, match="detach"):
        np.from_dlpack(tg.ones(2, requires_grad=True, device="cpu"))


def test_dlpack_with_torch():
    torch = pytest.importorskip("torch")
    t = tg.tensor([1.0, 2.0], device="cpu")
    u = torch.from_dlpack(t)
    u += 1                                           # shared memory both ways
    assert t.tolist() == [2.0, 3.0]
    back = tg.from_dlpack(torch.arange(3.0))
    assert back.tolist() == [0.0, 1.0, 2.0] and back.device == "cpu"


# ------------------------------------------------------------------ against torch itself
EXPRESSIONS = {
    "sum dim keepdim": lambda m, x: x.sum(dim=1, keepdim=True),
    "mean dims": lambda m, x: x.mean((0, 2)),
    "var correction 0": lambda m, x: x.var(1, correction=0),
    "std": lambda m, x: x.std(dim=-1),
    "max values": lambda m, x: x.max(1).values,
    "min keepdim": lambda m, x: x.min(dim=0, keepdim=True).values,
    "amax": lambda m, x: x.amax(dim=(0, 1)),
    "softmax": lambda m, x: x.softmax(dim=1),
    "log_softmax": lambda m, x: x.log_softmax(-1),
    "clamp": lambda m, x: x.clamp(-0.5, 0.7),
    "repeat": lambda m, x: x.repeat(2, 1, 3),
    "expand": lambda m, x: x[:, :1].expand(-1, 4, -1),
    "chunk": lambda m, x: m.cat(x.chunk(2, dim=2)[::-1], dim=2),
    "split": lambda m, x: x.split([1, 2], dim=1)[1],
    "gather": lambda m, x: x.gather(2, m.tensor([[[1, 0], [2, 2], [0, 1]], [[3, 3], [1, 0], [2, 1]]])),
    "masked_fill": lambda m, x: x.masked_fill(x > 0.3, 2.0),
    "t": lambda m, x: x[0].t() @ x[1],
    "transpose flatten": lambda m, x: x.transpose(0, 2).flatten(1),
    "squeeze unsqueeze": lambda m, x: x.unsqueeze(1).squeeze(1).view(2, -1),
    "clone in place": lambda m, x: x.clone().mul_(x).add_(1, alpha=2),
}


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_same_values_and_gradients_as_torch(name):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(abs(hash(name)) % 1000).standard_normal((2, 3, 4))
    ours = tg.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    out_ours, out_theirs = EXPRESSIONS[name](tg, ours), EXPRESSIONS[name](torch, theirs)
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = np.random.default_rng(1).standard_normal(out_theirs.shape)
    out_ours.backward(tg.tensor(upstream))
    out_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_index_errors_match_torch_messages():
    torch = pytest.importorskip("torch")
    for call in (lambda m: m.ones(3, 2).sum(5), lambda m: m.ones(3, 2).transpose(0, 5),
                 lambda m: m.ones(3, 2).unsqueeze(5), lambda m: m.ones(()).sum(1)):
        with pytest.raises(IndexError) as mine:
            call(tg)
        with pytest.raises(IndexError) as theirs:
            call(torch)
        assert str(mine.value) == str(theirs.value)


def test_accuracy_idiom_gives_a_python_number():
    logits = tg.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    labels = tg.tensor([1, 0, 0])
    correct = (logits.argmax(dim=1) == labels).sum().item()
    assert correct == 2 and isinstance(correct, int)
    assert math.isclose((logits.argmax(1) == labels).float().mean().item(), 2 / 3, rel_tol=1e-6)


def test_mm_is_matmul_for_matrices_only(device):
    a = tg.tensor(np.arange(6.0).reshape(2, 3), device=device, requires_grad=True)
    b = tg.tensor(np.arange(12.0).reshape(3, 4) - 5, device=device)
    product = a.mm(b)
    np.testing.assert_array_equal(product.detach().numpy(), np.arange(6.0).reshape(2, 3) @ (np.arange(12.0).reshape(3, 4) - 5))
    assert tg.mm(a, b).tolist() == product.tolist()
    product.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.tile((np.arange(12.0).reshape(3, 4) - 5).sum(axis=1), (2, 1)))
    with pytest.raises(RuntimeError, match=r"mm: self must be a matrix, got shape \(3,\)"):
        tg.ones(3, device=device).mm(b)
    with pytest.raises(RuntimeError, match=r"mm: mat2 must be a matrix, got shape \(2, 3, 4\)"):
        a.mm(tg.ones(2, 3, 4, device=device))


def test_one_hot_as_torch(device):
    """torch.nn.functional.one_hot's documented results and errors."""
    import tinygrad_bn.nn.functional as F
    labels = tg.tensor([[0, 2], [1, 1]], device=device)
    rows = F.one_hot(labels)
    assert rows.dtype == tg.int64 and rows.shape == (2, 2, 3) and rows.device == device
    assert rows.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]
    assert F.one_hot(tg.tensor([1, 0], device=device), 4).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    assert F.one_hot(tg.tensor(np.zeros(0, np.int64), device=device), 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative, got -1"):
        F.one_hot(tg.tensor([-1, 0], device=device), 3)
    with pytest.raises(RuntimeError, match=r"Class values must be smaller than num_classes \(3\), got 3"):
        F.one_hot(tg.tensor([3], device=device), 3)
    with pytest.raises(RuntimeError, match="only applicable to index tensor of type int64, got float32"):
        F.one_hot(tg.tensor([1.0], device=device))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(tg.tensor(np.zeros(0, np.int64), device=device))


NORMS = {"fro": lambda a, axis, keep: np.sqrt((a * a).sum(axis=axis, keepdims=keep)),
         1: lambda a, axis, keep: np.abs(a).sum(axis=axis, keepdims=keep),
         3: lambda a, axis, keep: (np.abs(a) ** 3).sum(axis=axis, keepdims=keep) ** (1 / 3),
         math.inf: lambda a, axis, keep: np.abs(a).max(axis=axis, keepdims=keep)}


@pytest.mark.parametrize("p", list(NORMS))
@given(x=tst.arrays(tst.shapes(min_dims=2, max_dims=2, min_side=2, max_side=4), min_magnitude=0.1, unique=True),
       dim=st.sampled_from([None, 0, 1, (0, 1)]), keepdim=st.booleans())
def test_norm(device, p, x, dim, keepdim):
    """Values against NumPy, first and second derivatives by central differences (the largest
    |x| unique: a tie is a kink of the inf-norm)."""
    assume(np.unique(np.abs(x)).size == x.size)
    reference = NORMS[p]
    check_op(lambda t: t.norm(p, dim, keepdim), lambda a: reference(a, dim, keepdim), [x],
             device, gradgrad=p != math.inf)


def test_norm_of_zero_has_gradient_zero_and_tg_norm_is_the_method(device):
    z = tg.zeros(2, 3, requires_grad=True, device=device)
    z.norm(dim=1).sum().backward()
    assert z.grad.tolist() == [[0.0] * 3] * 2                     # PyTorch's subgradient, not 0 * inf
    assert tg.norm(tg.ones(4, device=device)).item() == 2.0
    with pytest.raises(ValueError, match="p must be a number or 'fro', got 'nuc'"):
        tg.ones(2, 2).norm("nuc")


def test_norm_the_same_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((3, 4))
    for p, dim, keepdim in [("fro", None, False), (2, 1, True), (1, 0, False), (math.inf, 1, False),
                            (-math.inf, None, False), (0.5, 1, True), ("fro", None, True), (1, None, True)]:
        ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        mine, reference = ours.norm(p, dim, keepdim), torch.norm(theirs, p, dim, keepdim)
        mine.sum().backward()
        reference.sum().backward()
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


@given(x=tst.arrays(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=5), unique=True), data=st.data())
def test_topk_against_a_sort(device, x, data):
    assume(np.diff(np.sort(x.ravel())).min(initial=1.0) > 1e-3)     # no order a central difference swaps
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(0, x.shape[dim]))
    largest = data.draw(st.booleans())
    values, indices = tg.tensor(x, device=device).topk(k, dim, largest)
    order = np.take(np.argsort(-x if largest else x, axis=dim), np.arange(k), axis=dim)
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, order, axis=dim))
    if k:
        check_op(lambda t: t.topk(k, dim, largest).values, lambda a: np.take_along_axis(a, order, axis=dim), [x],
                 device, allow_zero=True)


def test_topk_ties_integers_top5_and_errors(device):
    x = tg.tensor([[3, 1, 3, 2], [0, 0, 7, 0]], device=device, dtype=tg.uint8)
    assert x.topk(2).indices.tolist() == [[0, 2], [2, 0]] and x.topk(2).values.tolist() == [[3, 3], [7, 0]]
    logits = tg.tensor(np.eye(6)[[5, 0, 3]] + np.arange(6) / 10, device=device)
    labels = tg.tensor([5, 1, 2], device=device)
    hits = (logits.topk(5, dim=1).indices == labels[:, None]).any(1)
    assert hits.tolist() == [True, False, True]                   # row 1's label 1 scores lowest of the six
    assert (logits.topk(1, 1).indices[:, 0] == labels).tolist() == [True, False, False]
    with pytest.raises(RuntimeError, match=r"k \(7\) is out of range for dimension -1 of size 6"):
        logits.topk(7)
    with pytest.raises(RuntimeError, match="at least one dimension"):
        tg.tensor(1.0).topk(1)


def test_topk_the_same_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((4, 6))
    for k, dim, largest in [(3, -1, True), (2, 0, False), (6, 1, True), (0, 1, True)]:
        ours, theirs = tg.tensor(x).topk(k, dim, largest), torch.tensor(x).topk(k, dim, largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())



@given(x=tst.arrays(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)), data=st.data())
def test_sort_argsort_against_numpys_stable_sort(device, x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    descending = data.draw(st.booleans())
    order = np.argsort(-x if descending else x, axis=dim, kind="stable")
    values, indices = tg.tensor(x, device=device).sort(dim, descending)
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, order, axis=dim))
    np.testing.assert_array_equal(tg.argsort(tg.tensor(x, device=device), dim, descending).numpy(), order)


@given(x=tst.arrays(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)), data=st.data())
def test_cumsum_and_index_select(device, x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_op(lambda t: t.cumsum(dim), lambda a: np.cumsum(a, axis=dim), [x], device)
    picks = data.draw(st.lists(st.integers(0, x.shape[dim] - 1), max_size=6))
    index = tg.tensor(np.array(picks, dtype=np.int64), device=device)
    check_op(lambda t: t.index_select(dim, index), lambda a: np.take(a, picks, axis=dim), [x], device,
             allow_zero=True)


def test_sort_family_errors_and_torch():
    with pytest.raises(TypeError, match="index must be a 1-D integer Tensor, got a 2-d int64 Tensor"):
        tg.ones(3).index_select(0, tg.tensor([[0]]))
    with pytest.raises(RuntimeError, match="sort: expected a tensor with at least one dimension"):
        tg.tensor(2.0).sort()
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).integers(0, 4, (3, 5)).astype(np.float64)      # many ties
    for dim, descending in ((1, False), (0, True)):
        ours, theirs = tg.tensor(x).sort(dim, descending), torch.tensor(x).sort(dim=dim, descending=descending,
                                                                                 stable=True)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a.cumsum(1).index_select(0, tg.tensor([2, 0, 2])).sum().backward()
    b.cumsum(1).index_select(0, torch.tensor([2, 0, 2])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@given(x=tst.arrays(tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), low=0.8, high=1.25), data=st.data())
def test_prod(device, x, data):
    signs = data.draw(st.sampled_from([1.0, -1.0]))
    dim = data.draw(st.sampled_from([None] + list(range(x.ndim))))
    keepdim = data.draw(st.booleans())
    check_op(lambda t: t.prod(dim, keepdim), lambda a: np.prod(a, axis=dim, keepdims=keepdim), [x * signs], device)


def test_prod_gradient_with_zeros_needs_no_division(device):
    """The product of the others: y / x_i without zeros; with one zero, the nonzero product at the
    zero and 0 elsewhere; with two, 0 (hand-computed, and torch's)."""
    x = tg.tensor([[2.0, 3.0, 4.0], [0.0, 5.0, 6.0], [0.0, 0.0, 7.0]], requires_grad=True, device=device)
    y = x.prod(1)
    y.backward(tg.tensor([1.0, 2.0, 3.0], device=device))
    assert y.tolist() == [24.0, 0.0, 0.0]
    assert x.grad.tolist() == [[12.0, 8.0, 6.0], [60.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert np.isfinite(x.grad.numpy()).all() and tg.prod(tg.tensor([2.0, 5.0], device=device)).item() == 10.0


def test_prod_the_same_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).integers(-2, 3, (4, 3)).astype(np.float64)      # zeros among them
    for dim in (None, 0, 1):
        ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (ours.prod() if dim is None else ours.prod(dim)).sum().backward()
        (theirs.prod() if dim is None else theirs.prod(dim)).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_out_writes_into_the_given_tensor(device):
    """torch's out=: the result is written into out (same object, version moved on),
    cast within its kind, resized when its shape differs (warning unless it was empty)."""
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    out = tg.zeros(2, 2, device=device)
    assert tg.matmul(t, t.T, out=out) is out
    assert out.tolist() == [[5.0, 11.0], [11.0, 25.0]] and out._version[0] == 1
    wide = tg.zeros(2, 2, dtype=tg.float64, device=device)
    tg.mul(t, t, out=wide)
    assert wide.dtype == tg.float64 and wide.tolist() == [[1.0, 4.0], [9.0, 16.0]]
    empty = tg.zeros(0, device=device)
    tg.exp(t, out=empty)
    assert empty.shape == (2, 2)
    small = tg.zeros(3, device=device)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[3\]"):
        tg.add(t, 1, out=small)
    assert small.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    values, indices = tg.zeros(2, device=device), tg.zeros(2, dtype=tg.int64, device=device)
    tg.max(t, 1, out=(values, indices))
    assert values.tolist() == [2.0, 4.0] and indices.tolist() == [1, 1]


def test_out_refuses_what_torch_refuses(device):
    t = tg.ones(2, device=device)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        tg.exp(tg.ones(2, requires_grad=True, device=device), out=tg.zeros(2, device=device))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        tg.exp(t, out=tg.zeros(2, requires_grad=True, device=device))
    with tg.no_grad():
        tg.exp(tg.ones(2, requires_grad=True, device=device), out=tg.zeros(2, device=device))
    integers = tg.zeros(2, dtype=tg.int64, device=device)
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int64"):
        tg.exp(t, out=integers)
    assert integers.tolist() == [0, 0]
    with pytest.raises(TypeError, match="argument 'out' must be a Tensor"):
        tg.exp(t, out=np.zeros(2))
