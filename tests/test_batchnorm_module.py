"""BatchNorm1d and BatchNorm2d as layers: construction, modes, errors, state_dict, and
recompute_population_stats (Algorithm 2) against a NumPy computation.

The two layers are one implementation (nn/batchnorm.py, _BatchNorm) that
differs only in the inputs it takes, so each behaviour is checked on both:
``LAYERS`` runs a test once per layer, ``shape(layer, n, c)`` is a batch of n
samples with c channels that the layer takes ((n, c), or (n, c, 2, 3)).
"""
import re

import numpy as np
import pytest
from hypothesis import given

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing.bn_cases import numpy_normalize
from tinygrad_bn.testing.bn_properties import check_population_statistics, population_cases

LAYERS = pytest.mark.parametrize("layer", [nn.BatchNorm1d, nn.BatchNorm2d], ids=lambda c: c.__name__)


def shape(layer, n, c, length=None):
    """A batch shape ``layer`` takes: (n, c) or, with ``length``, (n, c, length) for
    BatchNorm1d; (n, c, 2, 3), or (n, c, length, 3), for BatchNorm2d."""
    if layer is nn.BatchNorm1d:
        return (n, c) if length is None else (n, c, length)
    return (n, c, 2 if length is None else length, 3)


@LAYERS
def test_defaults_as_pytorch(layer):
    bn = layer(3)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert np.array_equal(bn.weight.detach().numpy(), np.ones(3)) and bn.weight.requires_grad
    assert np.array_equal(bn.bias.detach().numpy(), np.zeros(3))
    assert np.array_equal(bn.running_mean.numpy(), np.zeros(3)) and not bn.running_mean.requires_grad
    assert np.array_equal(bn.running_var.numpy(), np.ones(3))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    # torch 2.13: repr(torch.nn.BatchNorm1d(3)) names bias= between affine= and track_running_stats=
    assert repr(bn) == f"{layer.__name__}(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"


@LAYERS
def test_state_dict_holds_running_statistics(layer):
    bn = layer(4, momentum=None)
    bn(tg.randn(*shape(layer, 8, 4)))
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"].item() == 1
    fresh = layer(4, momentum=None)
    fresh.load_state_dict(state)
    x = tg.randn(*shape(layer, 5, 4))
    assert np.array_equal(fresh.eval()(x).detach().numpy(), bn.eval()(x).detach().numpy())
    assert fresh.num_batches_tracked.item() == 1


@LAYERS
def test_affine_off_has_no_parameters(layer):
    bn = layer(2, affine=False).double()
    assert bn.weight is None and bn.bias is None and list(bn.parameters()) == []
    x = np.random.default_rng(0).normal(size=shape(layer, 2, 2))
    expected, _ = numpy_normalize(x)
    np.testing.assert_allclose(bn(tg.tensor(x, dtype=tg.float64)).numpy(), expected, rtol=1e-12)


@LAYERS
def test_without_running_statistics_eval_uses_the_batch(layer):
    bn = layer(3, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == ["weight", "bias"]
    x = tg.randn(*shape(layer, 6, 3, length=2))
    trained = bn(x).detach().numpy()
    assert np.array_equal(bn.eval()(x).detach().numpy(), trained)
    np.testing.assert_allclose(trained, numpy_normalize(x.numpy().astype(np.float64))[0], atol=1e-5)


@LAYERS
def test_reset_parameters_and_running_stats(layer):
    bn = layer(3)
    bn.weight._data[...] = 5
    bn(tg.randn(*shape(layer, 4, 3)) * 3 + 2)
    bn.reset_parameters()
    assert np.array_equal(bn.weight.detach().numpy(), np.ones(3))
    assert np.array_equal(bn.running_mean.numpy(), np.zeros(3)) and np.array_equal(bn.running_var.numpy(), np.ones(3))
    assert bn.num_batches_tracked.item() == 0


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm1d, (1, 3, 1)),
                                          (nn.BatchNorm2d, (1, 3, 1, 1))])
def test_one_value_per_channel_in_training_is_an_error(layer, shape):
    bn = layer(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, "
                                         r"got input size \(1, 3"):
        bn(tg.zeros(*shape))
    assert bn.num_batches_tracked.item() == 0          # nothing was counted
    bn.eval()(tg.zeros(*shape))                        # eval mode takes a single sample


def test_a_single_image_has_many_values_per_channel():
    """BatchNorm2d normalises a batch of one image over its H * W positions (as torch)."""
    x = np.random.default_rng(0).normal(size=(1, 2, 3, 3))
    expected = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(nn.BatchNorm2d(2).double()(tg.tensor(x)).detach().numpy(), expected, rtol=1e-12)


@LAYERS
def test_wrong_channel_count_names_expected_and_got(layer):
    with pytest.raises(ValueError, match=rf"expected an input with 4 channels.*got input of shape "
                                         rf"\({', '.join(map(str, shape(layer, 2, 3)))}\)"):
        layer(4)(tg.zeros(*shape(layer, 2, 3)))
    with pytest.raises(ValueError, match="weight"):
        F.batch_norm(tg.zeros(*shape(layer, 2, 3)), None, None, tg.ones(4), None, training=True)


@pytest.mark.parametrize("layer, shape, expected", [
    (nn.BatchNorm1d, (3,), "2D or 3D"), (nn.BatchNorm1d, (2, 3, 4, 5), "2D or 3D"),
    (nn.BatchNorm2d, (2, 3), "4D"), (nn.BatchNorm2d, (2, 3, 4), "4D"), (nn.BatchNorm2d, (2, 3, 4, 5, 6), "4D")])
@pytest.mark.parametrize("training", [True, False])
def test_wrong_ndim_is_an_error(layer, shape, expected, training):
    # torch 2.13: "expected 2D or 3D input (got 4D input)", "expected 4D input (got 3D input)" (ValueError)
    bn = layer(3).train(training)
    with pytest.raises(ValueError, match=rf"^expected {expected} input \(got {len(shape)}D input\): "
                                         rf"{layer.__name__} normalises .*, got shape \({shape[0]},"):
        bn(tg.zeros(*shape))
    assert bn.num_batches_tracked.item() == 0


def test_wrong_ndim_messages_start_as_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, shape in [(nn.BatchNorm1d, torch.nn.BatchNorm1d, (2, 3, 4, 5)),
                                (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 4))]:
        with pytest.raises(ValueError) as reference:
            theirs(3)(torch.zeros(*shape))
        with pytest.raises(ValueError, match=f"^{re.escape(str(reference.value))}"):
            ours(3)(tg.zeros(*shape))


def test_functional_batch_norm_needs_a_channel_axis():
    with pytest.raises(ValueError, match=r"expected an input \(N, C, \*\) with at least 2 dimensions, got 1D "
                                         r"input of shape \(3,\)"):
        F.batch_norm(tg.zeros(3), None, None, training=True)


@LAYERS
def test_eval_mode_backward_through_the_module(layer):
    bn = layer(3).double()
    bn(tg.randn(*shape(layer, 10, 3), dtype=tg.float64) * 2 + 1)
    bn.eval()
    x = tg.randn(*shape(layer, 4, 3), dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, bn.running_mean, bn.running_var, w, b), (x, bn.weight, bn.bias))
    bn(x).backward(tg.ones(*x.shape, dtype=tg.float64))
    scale = (1 / np.sqrt(bn.running_var.numpy() + 1e-5)).reshape((1, 3) + (1,) * (x.ndim - 2))
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(scale, x.shape), rtol=1e-12)


@given(population_cases())
def test_recompute_population_stats_is_algorithm_2(arguments):
    check_population_statistics(nn.recompute_population_stats, **arguments)


def test_recompute_population_stats_changes_nothing_on_error():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model(tg.randn(5, 3))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    for batches in ([], [tg.randn(4, 3), tg.randn(1, 3)]):
        with pytest.raises(ValueError):
            nn.recompute_population_stats(model, batches)
        for k, v in model.state_dict().items():
            assert np.array_equal(v.numpy(), before[k]), k
        assert model[1].momentum == 0.1


# ------------------------------------------------------------------- bias=, eps, empty batches, anomalies
@LAYERS
def test_bias_false_keeps_the_scale_only(device, layer):
    # torch 2.13: BatchNorm1d(C, bias=False) has weight (ones) and bias None; bias is keyword-only
    bn = layer(3, bias=False).to(device).double()
    assert isinstance(bn.weight, nn.Parameter) and bn.bias is None
    assert [name for name, _ in bn.named_parameters()] == ["weight"]
    assert list(bn.state_dict()) == ["weight", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(bn) == f"{layer.__name__}(3, eps=1e-05, momentum=0.1, affine=True, bias=False, track_running_stats=True)"
    gamma = np.array([0.5, 2.0, -1.0])
    bn.weight._data[...] = bn.weight.xp.asarray(gamma)
    x = np.random.default_rng(0).standard_normal(shape(layer, 6, 3))
    expected = numpy_normalize(x)[0] * gamma.reshape((1, 3) + (1,) * (x.ndim - 2))
    np.testing.assert_allclose(bn(tg.tensor(x, device=device)).detach().numpy(), expected, rtol=1e-12)
    bn.reset_parameters()
    assert np.array_equal(bn.weight.detach().numpy(), np.ones(3))
    assert layer(3, affine=False, bias=True).bias is None            # no affine: neither
    with pytest.raises(TypeError):
        layer(3, 1e-5, 0.1, True, True, None, None, False)           # bias only by keyword


@LAYERS
def test_signature_matches_torch(layer):
    torch = pytest.importorskip("torch")
    import inspect
    ours = inspect.signature(layer).parameters
    theirs = inspect.signature(getattr(torch.nn, layer.__name__)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    for kwargs in ({}, {"bias": False}, {"affine": False}, {"momentum": None, "track_running_stats": False}):
        assert repr(layer(4, **kwargs)) == repr(getattr(torch.nn, layer.__name__)(4, **kwargs))


@LAYERS
@pytest.mark.parametrize("eps", [0.0, -1e-5])
def test_training_needs_a_positive_eps_as_in_torch(device, layer, eps):
    # torch 2.13: the constructor takes any eps; F.batch_norm raises "batch_norm eps must be
    # positive during training, but got 0.0" (ValueError), and in eval mode refuses only eps < 0
    bn = layer(2, eps=eps).to(device)
    with pytest.raises(ValueError, match=f"batch_norm eps must be positive during training, but got {eps}"):
        bn(tg.randn(*shape(layer, 4, 2), device=device))
    assert bn.num_batches_tracked.item() == 0 and np.array_equal(bn.running_mean.numpy(), np.zeros(2))
    bn.eval()
    if eps == 0:
        np.testing.assert_allclose(bn(tg.ones(*shape(layer, 3, 2), device=device)).detach().numpy(),
                                   np.ones(shape(layer, 3, 2)))
    else:
        with pytest.raises(ValueError, match=f"batch_norm eps must be non-negative, but got {eps}"):
            bn(tg.ones(*shape(layer, 3, 2), device=device))


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (0, 3)), (nn.BatchNorm1d, (0, 3, 4)),
                                          (nn.BatchNorm1d, (2, 3, 0)), (nn.BatchNorm2d, (0, 3, 2, 2)),
                                          (nn.BatchNorm2d, (2, 3, 0, 2)), (nn.BatchNorm2d, (2, 3, 2, 0))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_empty_training_batch(device, layer, shape, momentum):
    """torch 2.13 (checked): an empty output, an empty input gradient and zero gradients for
    weight and bias; the running statistics unchanged and the batch counted."""
    bn = layer(3, momentum=momentum).to(device)
    bn.running_mean._data[...] = 0.5
    x = tg.zeros(shape, requires_grad=True, device=device)
    y = bn(x)
    assert y.shape == shape
    y.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(bn.weight.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.bias.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.full(3, 0.5))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(3))
    assert bn.num_batches_tracked.item() == 1
    untracked = layer(3, track_running_stats=False).to(device)
    assert untracked(tg.zeros(shape, device=device)).shape == shape


@pytest.mark.parametrize("layer, shape", [(nn.BatchNorm1d, (0, 3)), (nn.BatchNorm2d, (2, 3, 0, 2))])
def test_empty_batch_matches_torch(layer, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = layer(3), getattr(torch.nn, layer.__name__)(3)
    x, xt = tg.zeros(*shape, requires_grad=True), torch.zeros(*shape, requires_grad=True)
    ours(x).sum().backward()
    theirs(xt).sum().backward()
    assert x.grad.shape == tuple(xt.grad.shape)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), err_msg=name)
    np.testing.assert_array_equal(ours.weight.grad.numpy(), theirs.weight.grad.numpy())


def test_functional_momentum_none_is_a_type_error():
    # torch 2.13: F.batch_norm(x, rm, rv, training=True, momentum=None) raises TypeError (a float is
    # expected); momentum=None is BatchNorm1d's cumulative average, which counts the batches itself
    rm, rv = tg.zeros(3), tg.ones(3)
    with pytest.raises(TypeError, match="momentum must be a number, not None"):
        F.batch_norm(tg.randn(4, 3), rm, rv, training=True, momentum=None)
    assert np.array_equal(rm.numpy(), np.zeros(3))
    bn = nn.BatchNorm1d(3, momentum=None)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    for batch in x:
        bn(tg.tensor(batch, dtype=tg.float32))
    np.testing.assert_allclose(bn.running_mean.numpy(), x.mean(axis=1).mean(axis=0), rtol=1e-5)


OVERFLOW_EXPECTED = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


@OVERFLOW_EXPECTED
@LAYERS
@pytest.mark.parametrize("poison", ["NaN in the input", "NaN in weight", "variance overflows"])
def test_anomaly_raises_before_the_running_statistics_change(device, layer, poison):
    """Under tg.detect_anomaly() a batch with NaN/Inf statistics or output raises, and the
    running statistics and num_batches_tracked stay as they were.  'variance overflows':
    float32 values +-1e20 square to inf, so 1/sigma = 0 and the output is finite, but the
    variance that would go into running_var is inf."""
    bn = layer(2).to(device)
    bn(tg.randn(*shape(layer, 5, 2), device=device))
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items() if k != "weight"}
    x = np.random.default_rng(1).standard_normal(shape(layer, 4, 2)).astype(np.float32)
    if poison == "NaN in the input":
        x[2, 1] = np.nan
    elif poison == "NaN in weight":
        bn.weight._data[0] = np.nan
    else:
        x[:, 0] = np.array([1e20, -1e20, 1e20, -1e20]).reshape((4,) + (1,) * (x.ndim - 2))
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match=rf"BatchNorm produced NaN or Inf in its forward \(input shapes: "
                                                  rf"\({', '.join(map(str, x.shape))}\)"):
            bn(tg.tensor(x, device=device))
    for k, v in bn.state_dict().items():
        if k != "weight":
            np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


@OVERFLOW_EXPECTED
def test_without_anomaly_mode_the_overflowing_variance_reaches_running_var():
    """What the check above prevents: outside detect_anomaly nothing raises."""
    bn = nn.BatchNorm1d(1)
    y = bn(tg.tensor([[1e20], [-1e20]]))
    assert np.isfinite(y.detach().numpy()).all() and np.isinf(bn.running_var.numpy()).all()
