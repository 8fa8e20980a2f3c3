"""The Tensor API around the ops: creation and dtype inference, devices and
their errors, dtype promotion (gradients keep their input's dtype),
integer tensors, conversions and small accessors."""
import sys

import numpy as np
import pytest
from hypothesis import given

import tinygrad_bn as tg
from tinygrad_bn import Tensor, backend
from tinygrad_bn.testing import strategies as tst


# ------------------------------------------------------------------ creation
@pytest.mark.parametrize("data, dtype", [
    (1.5, tg.float32), ([1.0, 2.0], tg.float32), ([[1, 2]], tg.int64), (3, tg.int64), ([True], tg.bool_),
    (np.array([1.0, 2.0]), tg.float64), (np.array([1.0], dtype=np.float32), tg.float32),
    (np.float64(2.0), tg.float64), (np.arange(3), tg.int64),
])
def test_tensor_infers_dtypes_like_torch_tensor(device, data, dtype):
    t = tg.tensor(data, device=device)
    assert t.dtype == dtype and t.device == device
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_dtype_argument_overrides(device):
    assert tg.tensor([1, 2], dtype=tg.float64, device=device).dtype == tg.float64
    assert tg.tensor(np.array([1.0]), dtype=tg.float32, device=device).dtype == tg.float32
    assert Tensor([1.0], dtype=tg.float64, device=device).dtype == tg.float64


def test_tensor_copies_its_data(device):
    source = np.array([1.0, 2.0])
    t = tg.tensor(source, device=device)
    source[0] = 99.0
    assert t.numpy()[0] == 1.0
    u = tg.tensor(t)
    u._data[1] = -1.0
    assert t.numpy()[1] == 2.0


def test_tensor_rejects_data_it_cannot_hold(device):
    with pytest.raises(TypeError, match="cannot make a tensor"):
        tg.tensor([object()], device=device)


@pytest.mark.parametrize("make, expected", [
    (lambda d: tg.zeros(2, 3, device=d), np.zeros((2, 3), np.float32)),
    (lambda d: tg.zeros((2, 3), device=d), np.zeros((2, 3), np.float32)),
    (lambda d: tg.ones(4, dtype=tg.float64, device=d), np.ones(4)),
    (lambda d: tg.full((2,), 7, device=d), np.full(2, 7, np.int64)),
    (lambda d: tg.full((2, 1), 0.5, device=d), np.full((2, 1), 0.5, np.float32)),
    (lambda d: tg.full(3, 2.0, dtype=tg.float64, device=d), np.full(3, 2.0)),
    (lambda d: tg.arange(5, device=d), np.arange(5)),
    (lambda d: tg.arange(1, 7, 2, device=d), np.arange(1, 7, 2)),
    (lambda d: tg.arange(0.0, 1.0, 0.25, device=d), np.arange(0, 1, 0.25, dtype=np.float32)),
    (lambda d: tg.zeros_like(tg.ones(2, 2, dtype=tg.float64, device=d)), np.zeros((2, 2))),
    (lambda d: tg.ones_like(tg.zeros(3, device=d), dtype=tg.float64), np.ones(3)),
])
def test_constant_creation(device, make, expected):
    t = make(device)
    assert t.device == device and t.dtype == expected.dtype and t.shape == expected.shape
    np.testing.assert_array_equal(t.numpy(), expected)


def test_creation_with_requires_grad(device):
    for t in [tg.zeros(2, requires_grad=True, device=device), tg.randn(2, requires_grad=True, device=device),
              tg.full((2,), 1.0, requires_grad=True, device=device), tg.tensor([1.0], requires_grad=True)]:
        assert t.requires_grad and t.is_leaf and t.grad is None


@pytest.mark.parametrize("draw", [tg.randn, tg.rand])
def test_random_draws_follow_the_seed_and_agree_across_devices(device, draw):
    tg.manual_seed(5)
    first = draw(3, 4, device=device).numpy()
    tg.manual_seed(5)
    again = draw(3, 4, device="cpu").numpy()
    other = draw(3, 4).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(again, other)
    assert first.dtype == np.float32 and draw(2, dtype=tg.float64).dtype == tg.float64


def test_random_draws_have_their_distributions():
    n = 20_000                      # standard errors: 0.007 (mean), 0.01 (variance)
    normal, uniform = tg.randn(n).numpy().astype(np.float64), tg.rand(n).numpy()
    assert abs(normal.mean()) < 0.04 and abs(normal.var() - 1) < 0.06
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.02


# ------------------------------------------------------------------ integer tensors
def test_integer_tensors_cannot_require_grad(device):
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        tg.tensor([1, 2], requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.arange(3, device=device).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        tg.zeros(2, dtype=tg.int64, requires_grad=True, device=device)


def test_integer_arithmetic_stays_integer(device):
    n = tg.arange(3, device=device)
    assert (n + 1).dtype == tg.int64 and (n * n).dtype == tg.int64 and (2 * n).dtype == tg.int64
    np.testing.assert_array_equal((n * n + 1).numpy(), [1, 2, 5])


# ------------------------------------------------------------------ dtype promotion
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "maximum": tg.maximum, "minimum": tg.minimum, "where": lambda a, b: tg.where(a.detach() > 1.5, a, b),
    "cat": lambda a, b: tg.cat([a, b]), "stack": lambda a, b: tg.stack([a, b]),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("first, second", [(tg.float32, tg.float64), (tg.float64, tg.float32)])
def test_float32_with_float64_gives_float64_and_each_gradient_keeps_its_dtype(device, name, first, second):
    a = tg.tensor([1.0, 2.0], dtype=first, requires_grad=True, device=device)
    b = tg.tensor([3.0, 0.5], dtype=second, requires_grad=True, device=device)
    out = BINARY[name](a, b)
    assert out.dtype == tg.float64
    out.backward(tg.ones(out.shape, dtype=tg.float64, device=device))
    assert a.grad.dtype == first and b.grad.dtype == second


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("scalar", [2, 0.5])
def test_python_scalars_do_not_change_the_dtype(device, dtype, scalar):
    x = tg.tensor([1.0, 2.0], dtype=dtype, requires_grad=True, device=device)
    outs = [x + scalar, scalar + x, x - scalar, scalar - x, x * scalar, scalar * x, x / scalar, scalar / x,
            x ** scalar, scalar ** x, x.maximum(scalar), x.minimum(scalar), tg.where(x.detach() > 1, x, scalar)]
    assert [o.dtype for o in outs] == [dtype] * len(outs)
    sum(o.sum() for o in outs).backward()
    assert x.grad.dtype == dtype


# PyTorch's type promotion: an integer meeting a float takes the float's dtype
# (float32, the default dtype, for a Python float); true division of integers is float32.
INTEGER_MEETS_FLOAT = [
    (lambda i, f32, f64: i * 2.5, tg.float32, [0.0, 2.5, 5.0]),
    (lambda i, f32, f64: 2.5 - i, tg.float32, [2.5, 1.5, 0.5]),
    (lambda i, f32, f64: i / 2, tg.float32, [0.0, 0.5, 1.0]),
    (lambda i, f32, f64: i / (i + 1), tg.float32, [0.0, 0.5, 2 / 3]),
    (lambda i, f32, f64: i * f32, tg.float32, [0.0, 2.0, 6.0]),
    (lambda i, f32, f64: f64 / (i + 1), tg.float64, [1.0, 1.0, 1.0]),
    (lambda i, f32, f64: i + 2, tg.int64, [2, 3, 4]),
    (lambda i, f32, f64: 2 ** i, tg.int64, [1, 2, 4]),
]


@pytest.mark.parametrize("expression, dtype, values", INTEGER_MEETS_FLOAT)
def test_integers_meeting_floats_promote_like_pytorch(device, expression, dtype, values):
    i = tg.arange(3, device=device)
    f32 = tg.tensor([1.0, 2.0, 3.0], device=device)
    f64 = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, device=device)
    out = expression(i, f32, f64)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), values, rtol=1e-6)


def test_zero_dimensional_results_and_gradients_are_arrays(device):
    x = tg.tensor(2.0, requires_grad=True, device=device)
    for _ in range(2):
        (x * x).backward()
    for t in (x * 3, x.sum(), tg.tensor([1.0, 2.0], device=device)[0], x.grad):
        assert t._data.ndim == 0 and hasattr(t._data, "shape") and not np.isscalar(t._data)
    assert x.grad.item() == 8.0


def test_to_changes_dtype_differentiably(device):
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x.double()
    assert y.dtype == tg.float64 and x.double().float().dtype == tg.float32
    assert x.to(dtype=tg.float32) is x and x.to(device) is x
    (y * y).sum().backward()
    assert x.grad.dtype == tg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


# ------------------------------------------------------------------ devices
def test_default_device_and_device_names(monkeypatch):
    monkeypatch.delenv("TINYGRAD_BN_DEVICE", raising=False)
    assert tg.get_default_device() == "cpu" and tg.tensor([1.0]).device == "cpu"
    assert backend.check_device("cuda:0") == "cuda"
    assert "cpu" in tg.available_devices()
    with pytest.raises(ValueError, match="unknown device 'tpu'.*'cpu', 'cuda'"):
        tg.tensor([1.0], device="tpu")


def test_set_default_device_and_environment_variable(monkeypatch):
    monkeypatch.setenv("TINYGRAD_BN_DEVICE", "cpu")
    assert tg.get_default_device() == "cpu"
    monkeypatch.setenv("TINYGRAD_BN_DEVICE", "gpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        tg.zeros(1)
    monkeypatch.delenv("TINYGRAD_BN_DEVICE")
    tg.set_default_device("cpu")
    try:
        assert tg.get_default_device() == "cpu" and tg.zeros(1).device == "cpu"
    finally:
        tg.set_default_device(None)


def test_cuda_without_cupy_says_what_is_missing_and_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)         # makes `import cupy` fail
    monkeypatch.setattr(backend, "_cupy", None)
    with pytest.raises(RuntimeError, match=r"CuPy.*not installed.*pip install 'tinygrad_bn\[gpu\]'"):
        tg.tensor([1.0], device="cuda")
    assert tg.available_devices() == ["cpu"]


def test_mixing_devices_names_both_devices():
    """Simulated without a GPU: a tensor labelled "cuda" meets one on "cpu"."""
    on_cpu = tg.tensor([1.0], device="cpu")
    labelled_cuda = Tensor.wrap(np.array([2.0]), "cuda")
    with pytest.raises(RuntimeError, match="same device.*cpu and cuda"):
        on_cpu + labelled_cuda
    with pytest.raises(RuntimeError, match="same device.*cuda and cpu"):
        labelled_cuda * on_cpu


@pytest.mark.skipif("cuda" not in tg.available_devices(), reason="device 'cuda' unavailable: no CuPy or GPU")
def test_mixing_real_devices_names_both_and_to_moves_differentiably():
    x = tg.tensor([1.0, 2.0], requires_grad=True, device="cpu")
    on_gpu = x.cuda()
    with pytest.raises(RuntimeError, match="cpu and cuda"):
        x + on_gpu
    (on_gpu * on_gpu).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


# ------------------------------------------------------------------ accessors
def test_attributes_and_conversions(device):
    x = tg.tensor(np.arange(6.0).reshape(2, 3), device=device)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x[1, 2].item() == 5.0 and float(x[1, 2]) == 5.0 and int(x[1, 1]) == 4
    assert isinstance(x.numpy(), np.ndarray)
    assert bool(x[0, 1]) and not bool(x[0, 0])


def test_accessor_errors(device):
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(ValueError, match=r"one element.*\(2,\)"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0, device=device))


def test_numpy_arrays_on_the_left_give_tensors(device):
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


@given(x=tst.arrays())
def test_op_results_hold_arrays_even_when_0d(device, x):
    """``.data`` is a live array (as on CuPy), also for 0-d results, which NumPy
    would otherwise hand back as scalars that cannot be written in place."""
    t = tg.tensor(x, requires_grad=True, device=device)
    for out in [t.sum(), t.max(), (t * 2).mean(), t.reshape(-1)[0], t.exp().sum().sqrt(), t.detach().sum() + 1]:
        assert isinstance(out._data, type(t._data)) and out.shape == ()
        out._data[...] = 3.0
        assert out.item() == 3.0


def test_data_is_a_tensor_sharing_memory_outside_the_graph(device):
    """PyTorch's .data: no grad, the same memory (writes show in x), a version counter
    of its own (autograd does not see the writes), and assignable."""
    x = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    d = x.data
    assert isinstance(d, tg.Tensor) and not d.requires_grad and d.grad_fn is None and d.device == device
    y = (x * x).sum()
    d.mul_(10)                                   # unseen by the graph: y's backward uses the new values
    assert x._version[0] == 0 and x.detach().tolist() == [10.0, 20.0]
    y.backward()
    assert x.grad.tolist() == [20.0, 40.0]
    values, indices = tg.max((x * 2).data.reshape(1, 2), 1)
    assert values.tolist() == [40.0] and indices.tolist() == [1]
    x.data = tg.tensor([5.0, 6.0, 7.0], dtype=tg.float64, device=device)
    assert x.shape == (3,) and x.dtype == tg.float64 and x.requires_grad and x.grad.tolist() == [20.0, 40.0]
    with pytest.raises(TypeError, match="data must be set to a Tensor"):
        x.data = [1.0]


def test_weight_initialisation_through_data(device):
    """The DCGAN idiom m.weight.data.normal_(0.0, 0.02) and m.bias.data.fill_(0)."""
    layer = tg.nn.Linear(200, 300).to(device)
    tg.manual_seed(0)
    layer.weight.data.normal_(0.0, 0.02)
    layer.bias.data.fill_(0)
    assert abs(float(layer.weight.detach().std()) - 0.02) < 0.001 and layer.bias.detach().abs().sum().item() == 0
    assert layer.weight.grad_fn is None and layer.weight.requires_grad


def test_array_is_the_backend_array_itself(device):
    x = tg.ones(2, 3, device=device)
    assert x.array is x._data and x.array.shape == (2, 3)
    assert type(x.array).__module__.split(".")[0] == ("numpy" if device == "cpu" else "cupy")


def test_numpy_conversion_follows_torch(device):
    x = tg.tensor([1.0, 2.0], device=device)
    if device == "cpu":
        assert np.array(x).tolist() == [1.0, 2.0] and np.asarray(x, dtype=np.float64).dtype == np.float64
        assert np.asarray(x) is x.array or np.shares_memory(np.asarray(x), x.array)
        with pytest.raises(RuntimeError, match="requires grad"):
            np.asarray(tg.ones(2, requires_grad=True))
    else:
        with pytest.raises(TypeError, match="can't convert cuda device type tensor to numpy. Use Tensor.cpu()"):
            np.asarray(x)


def test_size_is_a_tuple_that_prints_as_torch_size():
    x = tg.ones(2, 3, 4)
    assert isinstance(x.shape, tg.Size) and isinstance(x.shape, tuple) and x.size() == (2, 3, 4)
    assert repr(x.shape) == str(x.shape) == "Size([2, 3, 4])" and repr(tg.Size()) == "Size([])"
    assert x.shape.numel() == 24 == x.numel() and tg.Size().numel() == 1
    assert isinstance(x.shape[1:], tg.Size) and x.shape[1:] == (3, 4) and type(x.shape[0]) is int
    assert x.shape + (5,) == (2, 3, 4, 5) and isinstance(x.shape + (5,), tg.Size)
    assert tg.Size([2, np.int64(3)]) == (2, 3) and tg.zeros(tg.Size([2, 1])).shape == (2, 1)
    assert x.reshape(x.shape[::-1]).shape == (4, 3, 2) and x.view(x.size(0), -1).shape == (2, 12)
    with pytest.raises(TypeError, match="Size\\(\\) takes an iterable of 'int'"):
        tg.Size([2.0])


def test_size_the_same_as_torch():
    torch = pytest.importorskip("torch")
    for shape in [(), (3,), (2, 3, 4)]:
        ours, theirs = tg.zeros(shape).shape, torch.zeros(shape).shape
        assert ours == theirs and ours.numel() == theirs.numel() and repr(ours) == repr(theirs).replace("torch.", "")
        assert ours[1:] == theirs[1:] and type(ours[1:]).__name__ == type(theirs[1:]).__name__
