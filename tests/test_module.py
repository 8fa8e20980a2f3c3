"""Module, Parameter and Sequential: registration, walking, modes, moving, state dicts."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn


class Affine(nn.Module):
    """A small layer with a float parameter pair, a float buffer and an integer buffer."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(tg.randn(n))
        self.bias = nn.Parameter(tg.zeros(n))
        self.register_buffer("running", tg.zeros(n))
        self.register_buffer("count", tg.tensor(0))
        self.register_buffer("scratch", tg.zeros(n), persistent=False)

    def forward(self, x):
        return x * self.weight + self.bias

    def extra_repr(self):
        return f"n={self.weight.shape[0]}"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = Affine(3)
        self.body = nn.Sequential(Affine(3), Affine(3))


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(tg.tensor([1.0, 2.0]))
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(tg.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")


def test_parameter_from_tensor_shares_the_array():
    t = tg.zeros(3)
    p = nn.Parameter(t)
    p._data[0] = 5
    assert t._data[0] == 5


def test_registration_and_dotted_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "first.weight", "first.bias", "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "first.running", "first.count", "first.scratch", "body.0.running", "body.0.count",
        "body.0.scratch", "body.1.running", "body.1.count", "body.1.scratch"]
    assert [n for n, _ in net.named_children()] == ["first", "body"]
    assert [n for n, _ in net.named_modules()] == ["", "first", "body", "body.0", "body.1"]
    assert len(list(net.children())) == 2 and len(list(net.modules())) == 5


def test_shared_parameter_is_listed_once():
    a = Affine(2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2


def test_reassigning_and_deleting_attributes():
    m = Affine(2)
    m.weight = None
    assert m.weight is None and len(list(m.parameters())) == 1
    with pytest.raises(TypeError, match="Parameter or None"):
        m.bias = tg.zeros(2)
    m.running = tg.ones(2)                   # a buffer may be replaced by a Tensor
    assert m.running._data.sum() == 2 and "running" in dict(m.named_buffers())
    del m.running
    assert "running" not in dict(m.named_buffers())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing


def test_forgetting_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Broken()


def test_train_eval_recurse():
    net = Net()
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none():
    m = Affine(3)
    m(tg.ones(3)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None


def test_double_float_keep_integer_buffers(device):
    net = Net().to(device)
    net.double()
    assert all(p.dtype == np.float64 and p.device == device for p in net.parameters())
    assert net.first.running.dtype == np.float64
    assert net.first.count.dtype == np.int64
    assert isinstance(net.first.weight, nn.Parameter)
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.first.count.dtype == np.int64
    with pytest.raises(TypeError, match="floating point"):
        net.to(dtype=tg.int64)


def test_to_converts_existing_gradients():
    m = Affine(2)
    m(tg.ones(2)).sum().backward()
    m.double()
    assert m.weight.grad.dtype == np.float64


def test_repr_like_pytorch():
    assert repr(nn.Sequential(Affine(2), nn.Sequential(Affine(3)))) == (
        "Sequential(\n"
        "  (0): Affine(n=2)\n"
        "  (1): Sequential(\n"
        "    (0): Affine(n=3)\n"
        "  )\n"
        ")")


def test_sequential_indexing_len_iteration():
    a, b, c = Affine(1), Affine(2), Affine(3)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    assert list(seq[1:]) == [b, c]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]


def test_sequential_applies_in_order(device):
    seq = nn.Sequential(Affine(2), Affine(2)).to(device)
    with tg.no_grad():
        seq[0].bias.copy_(tg.tensor([0.5, -1.0]))
    x = np.array([1.0, -2.0], np.float32)
    w0, b0, w1 = (p.detach().numpy() for p in (seq[0].weight, seq[0].bias, seq[1].weight))
    np.testing.assert_allclose(seq(tg.tensor(x, device=device)).detach().numpy(), (x * w0 + b0) * w1, rtol=1e-6)


def test_state_dict_keys_and_sharing():
    net = Net()
    sd = net.state_dict()
    assert "first.scratch" not in sd and "first.count" in sd
    assert not sd["first.weight"].requires_grad
    assert sd["first.weight"]._data is net.first.weight._data


@given(st.integers(0, 2 ** 31 - 1))
def test_state_dict_round_trip(seed):
    tg.manual_seed(seed)
    source, target = Net(), Net()
    source.first.count._data[...] = seed % 1000
    result = target.load_state_dict({k: v.numpy().copy() for k, v in source.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("edit, message", [
    (lambda sd: sd.pop("body.1.bias"), "Missing key.*'body.1.bias'"),
    (lambda sd: sd.__setitem__("extra", np.zeros(1)), "Unexpected key.*'extra'"),
    (lambda sd: sd.__setitem__("first.weight", np.zeros(4, np.float32)),
     r"size mismatch for 'first.weight'.*\(4,\).*\(3,\)"),
])
def test_bad_state_dict_raises_and_changes_nothing(edit, message):
    net = Net()
    before = _snapshot(net)
    sd = {k: np.full(v.shape, 7, v.dtype) for k, v in before.items()}
    edit(sd)
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(sd)
    after = _snapshot(net)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_non_strict_load_reports_keys_but_still_rejects_shapes():
    net = Net()
    sd = {k: v for k, v in net.state_dict().items() if k != "first.bias"}
    sd["extra"] = np.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["first.bias"] and result.unexpected_keys == ["extra"]
    sd["first.weight"] = np.zeros(5)
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(sd, strict=False)


def test_load_casts_to_the_models_dtype():
    net = Net().double()
    sd = {k: v.numpy().astype(np.float32) if v.dtype.kind == "f" else v.numpy() for k, v in
          net.state_dict().items()}
    net.load_state_dict(sd)
    assert net.first.weight.dtype == np.float64 and net.first.count.dtype == np.int64


def test_apply_visits_every_module():
    net = Net()
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert sorted(visited) == sorted(["Net", "Affine", "Sequential", "Affine", "Affine"])


def test_dotted_paths_reach_submodules_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3), nn.ReLU()))
    assert model.get_submodule("1.0") is model[1][0] and model.get_submodule("") is model
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.0.running_mean") is model[1][0].running_mean
    with pytest.raises(AttributeError, match="has no attribute `2`"):
        model.get_submodule("2")
    with pytest.raises(AttributeError, match="has no parameter `bias2`"):
        model.get_parameter("0.bias2")
    model.register_module("head", nn.Linear(3, 1))
    assert model.get_parameter("head.bias").shape == (1,)
    assert model.half()[0].weight.dtype == tg.float16 and model[1][0].num_batches_tracked.dtype == tg.int64
