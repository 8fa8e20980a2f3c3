"""LayerNorm, GroupNorm and InstanceNorm1d/2d against PyTorch, where it is installed:
signatures, defaults, parameters, buffers and reprs; outputs, first and second
derivatives on drawn cases; InstanceNorm's running statistics and eval mode;
unbatched and empty inputs; and the errors (type and message) of bad calls."""
import inspect
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing.bn_properties import seeds
from tinygrad_bn.testing.norm_cases import norm_cases

torch = pytest.importorskip("torch")
TF = torch.nn.functional

LAYERS = [(nn.LayerNorm, torch.nn.LayerNorm), (nn.GroupNorm, torch.nn.GroupNorm),
          (nn.InstanceNorm1d, torch.nn.InstanceNorm1d), (nn.InstanceNorm2d, torch.nn.InstanceNorm2d)]
FUNCTIONS = [(F.layer_norm, TF.layer_norm), (F.group_norm, TF.group_norm), (F.instance_norm, TF.instance_norm)]


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("ours, theirs", LAYERS + FUNCTIONS, ids=lambda f: f.__name__)
def test_signatures_match_torch(ours, theirs):
    assert _parameters(ours) == _parameters(theirs)


@pytest.mark.parametrize("make", [
    lambda m: m.LayerNorm(4), lambda m: m.LayerNorm([3, 4], elementwise_affine=False),
    lambda m: m.LayerNorm(4, bias=False), lambda m: m.LayerNorm(4, eps=1e-3),
    lambda m: m.GroupNorm(2, 4), lambda m: m.GroupNorm(1, 3, affine=False), lambda m: m.GroupNorm(2, 4, bias=False),
    lambda m: m.InstanceNorm1d(3), lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda m: m.InstanceNorm1d(3, momentum=None, track_running_stats=True),
    lambda m: m.InstanceNorm2d(3, affine=True, bias=False),
])
def test_modules_match_torch(make):
    """repr, parameters and buffers (names, shapes, values, dtypes), training flag."""
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", ""), name
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for name in ("eps", "affine", "momentum", "track_running_stats", "num_groups", "num_channels", "num_features",
                 "normalized_shape", "elementwise_affine"):
        if hasattr(theirs, name):
            assert getattr(ours, name) == getattr(theirs, name), name


def _ours_and_theirs(kind, case):
    """(ours, theirs) as functions of (x, weight, bias), for the case's layer."""
    if kind == "layer":
        shape = case.normalized_shape
        return (lambda x, w, b: F.layer_norm(x, shape, w, b)), (lambda x, w, b: TF.layer_norm(x, shape, w, b))
    if kind == "group":
        return (lambda x, w, b: F.group_norm(x, case.size, w, b)), (lambda x, w, b: TF.group_norm(x, case.size, w, b))
    return ((lambda x, w, b: F.instance_norm(x, None, None, w, b)),
            (lambda x, w, b: TF.instance_norm(x, None, None, w, b)))


@pytest.mark.parametrize("kind", ["layer", "group", "instance"])
@settings(max_examples=12)
@given(data=st.data(), seed=seeds)
def test_values_and_derivatives_match_torch(kind, data, seed):
    """Output, dx, dweight, dbias for a random upstream gradient, and the second
    derivatives (the gradients of <dx, v>), float64."""
    case = data.draw(norm_cases(kind))
    rng = np.random.default_rng(seed)
    dy, v = rng.standard_normal(case.x.shape), rng.standard_normal(case.x.shape)
    results = []
    for fn, new in zip(_ours_and_theirs(kind, case),
                       (lambda a: tg.tensor(a, dtype=tg.float64, requires_grad=True),
                        lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True))):
        inputs = [new(a) for a in (case.x, case.weight, case.bias) if a is not None]
        x, w, b = inputs if len(inputs) == 3 else (inputs[0], None, None)
        y = fn(x, w, b)
        upstream, direction = (tg.tensor(dy), tg.tensor(v)) if isinstance(y, tg.Tensor) else \
            (torch.tensor(dy), torch.tensor(v))
        autograd = tg.autograd if isinstance(y, tg.Tensor) else torch.autograd
        grads = autograd.grad(y, inputs, upstream, create_graph=True)
        second = autograd.grad((grads[0] * direction).sum(), inputs, allow_unused=True)
        results.append([y] + list(grads) + [s for s in second if s is not None])
    assert len(results[0]) == len(results[1])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("dims", [1, 2])
def test_instance_norm_running_statistics_match_torch(momentum, dims):
    rng = np.random.default_rng(0)
    make = lambda m: getattr(m, f"InstanceNorm{dims}d")(3, momentum=momentum, affine=True,  # noqa: E731
                                                        track_running_stats=True)
    ours, theirs = make(nn).double(), make(torch.nn).double()
    shape = (4, 3, 5) if dims == 1 else (4, 3, 2, 3)
    for _ in range(3):
        x = rng.normal(1, 2, shape)
        ours(tg.tensor(x))
        theirs(torch.tensor(x))
    sample = rng.normal(size=shape[1:])                       # an unbatched sample trains too
    ours(tg.tensor(sample))
    theirs(torch.tensor(sample))
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-12,
                                   err_msg=name)
    x = rng.normal(size=shape)
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=mode)


def test_unbatched_and_empty_inputs_match_torch():
    rng = np.random.default_rng(1)
    for make, shape in ((lambda m: m.InstanceNorm1d(3), (3, 4)),
                        (lambda m: m.InstanceNorm2d(3, affine=True), (3, 2, 4))):
        x = rng.normal(size=shape)
        np.testing.assert_allclose(make(nn).double()(tg.tensor(x)).detach().numpy(),
                                   make(torch.nn).double()(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    for make, shape in ((lambda m: m.LayerNorm(4), (0, 4)), (lambda m: m.LayerNorm(0), (2, 0)),
                        (lambda m: m.GroupNorm(2, 4), (0, 4, 3)),
                        (lambda m: m.InstanceNorm1d(4, affine=True), (2, 4, 0))):
        ours, theirs = make(nn), make(torch.nn)
        x, xt = tg.zeros(shape, requires_grad=True), torch.zeros(shape, requires_grad=True)
        ours(x).sum().backward()
        theirs(xt).sum().backward()
        assert x.grad.shape == tuple(xt.grad.shape)
        np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


def test_empty_groups_where_torch_differs():
    """Differences listed in docs/pytorch.md: GroupNorm's groups of no value give torch
    NaN gradients for weight (0/0), here 0 (a sum over no element); InstanceNorm with no
    sample raises an IndexError in torch, here it gives the empty output."""
    x, xt = tg.zeros(2, 4, 0, requires_grad=True), torch.zeros(2, 4, 0, requires_grad=True)
    ours, theirs = nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    ours(x).sum().backward()
    theirs(xt).sum().backward()
    assert np.isnan(theirs.weight.grad.numpy()).all() and np.array_equal(ours.weight.grad.numpy(), np.zeros(4))
    with pytest.raises(IndexError):
        torch.nn.InstanceNorm1d(4, affine=True)(torch.zeros(0, 4, 3))
    assert nn.InstanceNorm1d(4, affine=True)(tg.zeros(0, 4, 3)).shape == (0, 4, 3)


def _error(fn):
    try:
        fn()
    except Exception as error:       # noqa: BLE001  (the point is to compare any error)
        return type(error), str(error)
    return None, None


# (call with the module as argument, whether our message is PyTorch's word for word)
BAD_CALLS = [
    (lambda F, t: F.layer_norm(t.zeros(2, 4), (3,)), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4), [2, 2]), True),
    (lambda F, t: F.layer_norm(t.zeros(4), (2, 4)), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4), ()), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4), (4,), t.ones(3)), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4), (4,), None, t.ones(3)), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4), 4), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4), [4.0]), True),
    (lambda F, t: F.layer_norm(t.zeros(2, 4, dtype=t.float64), (4,), t.ones(4)), False),
    (lambda F, t: F.layer_norm(t.ones(2, 4, dtype=t.int64), (4,)), False),
    (lambda F, t: F.group_norm(t.zeros(2, 6, 4), 4), True),
    (lambda F, t: F.group_norm(t.zeros(2, 6, 4), 3, t.ones(5)), True),
    (lambda F, t: F.group_norm(t.zeros(2, 6, 4), 3, None, t.ones(5)), False),   # torch names bias's shape [0]
    (lambda F, t: F.group_norm(t.zeros(4), 2), True),
    (lambda F, t: F.group_norm(t.zeros(1, 4, 1), 4), True),
    (lambda F, t: F.group_norm(t.zeros(2, 4), -2), True),
    (lambda F, t: F.group_norm(t.zeros(2, 4), 2.0), True),
    (lambda F, t: F.group_norm(t.ones(2, 4, dtype=t.int64), 2), False),
    (lambda F, t: F.instance_norm(t.zeros(2, 3, 1)), False),
    (lambda F, t: F.instance_norm(t.zeros(2, 3)), False),
    (lambda F, t: F.instance_norm(t.zeros(2, 3, 4), use_input_stats=False), True),
    (lambda F, t: F.instance_norm(t.zeros(2, 3, 4), momentum=None), True),
    (lambda F, t: F.instance_norm(t.zeros(2, 3, 4), weight=t.ones(4)), False),
    (lambda F, t: F.instance_norm(t.zeros(2, 3, 4), t.zeros(4), t.ones(4)), False),
    (lambda F, t: F.instance_norm(t.ones(2, 3, 4, dtype=t.int64)), False),
]
MODULE_CALLS = [
    (lambda m, t: m.GroupNorm(3, 4), True),
    (lambda m, t: m.GroupNorm(2, 4)(t.zeros(2, 6, 3)), True),
    (lambda m, t: m.LayerNorm(4)(t.zeros(2, 3)), True),
    (lambda m, t: m.InstanceNorm1d(3)(t.zeros(2, 3, 4, 5)), True),
    (lambda m, t: m.InstanceNorm2d(3)(t.zeros(3, 4)), True),
    (lambda m, t: m.InstanceNorm1d(3)(t.zeros(2, 3, 1)), False),
    (lambda m, t: m.InstanceNorm1d(3, affine=True)(t.zeros(2, 4, 5)), True),
]


@pytest.mark.parametrize("call, same_message", BAD_CALLS + MODULE_CALLS)
def test_errors_match_torch(call, same_message):
    """The same exception type as PyTorch for each bad call; the same message where ours
    is PyTorch's, possibly followed by ": " and what the layer takes (elsewhere ours
    names the shapes or dtypes in its own words, and PyTorch prints sizes as
    torch.Size([...]) where ours prints (...))."""
    is_module = call in [c for c, _ in MODULE_CALLS]
    ours = _error(lambda: call(nn if is_module else F, tg))
    theirs = _error(lambda: call(torch.nn if is_module else TF, torch))
    assert ours[0] is not None and ours[0] == theirs[0], (ours, theirs)
    if same_message:
        assert ours[1] == theirs[1] or ours[1].startswith(theirs[1] + ": "), (ours, theirs)


def test_channel_mismatch_without_affine_warns_as_torch():
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        nn.InstanceNorm1d(3)(tg.randn(2, 4, 5))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        torch.nn.InstanceNorm1d(3)(torch.randn(2, 4, 5))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
