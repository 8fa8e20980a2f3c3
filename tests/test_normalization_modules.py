"""The normalization layers as modules: construction, parameters and buffers, train and
eval, running statistics, errors, against NumPy (tinygrad_bn/testing/norm_cases.py)
and BatchNorm; the comparisons with PyTorch are in test_normalization_torch.py."""
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing.norm_cases import make_norm_case, numpy_group_normalize


def _numpy_layer(case, eps=1e-5):
    """The case's layer in NumPy: x_hat of its groups, then gamma x_hat + beta."""
    x_hat = numpy_group_normalize(case, eps=eps)[0]
    if case.weight is None:
        return x_hat
    return x_hat * case.broadcast(case.weight) + case.broadcast(case.bias)


def _load_affine(layer, case):
    xp = layer.weight.xp
    layer.weight._data[...] = xp.asarray(case.weight, dtype=layer.weight.dtype)
    layer.bias._data[...] = xp.asarray(case.bias, dtype=layer.bias.dtype)


# ------------------------------------------------------------------ LayerNorm
def test_layer_norm_defaults_and_forward(device):
    layer = nn.LayerNorm(4).to(device).double()
    assert layer.normalized_shape == (4,) and layer.eps == 1e-5 and layer.elementwise_affine
    assert np.array_equal(layer.weight.detach().numpy(), np.ones(4)) and layer.weight.requires_grad
    assert np.array_equal(layer.bias.detach().numpy(), np.zeros(4))
    assert list(layer.state_dict()) == ["weight", "bias"]
    case = make_norm_case("layer", (3, 2, 4), 1, seed=1, affine=True)
    _load_affine(layer, case)
    y = layer(tg.tensor(case.x, device=device))
    np.testing.assert_allclose(y.detach().numpy(), _numpy_layer(case), rtol=1e-12, atol=1e-12)
    layer.reset_parameters()
    assert np.array_equal(layer.weight.detach().numpy(), np.ones(4))


def test_layer_norm_over_several_dims_without_affine_or_bias():
    layer = nn.LayerNorm([3, 4], elementwise_affine=False)
    assert layer.normalized_shape == (3, 4) and layer.weight is None and layer.bias is None
    assert list(layer.parameters()) == [] and repr(layer) == \
        "LayerNorm((3, 4), eps=1e-05, elementwise_affine=False, bias=False)"
    case = make_norm_case("layer", (2, 3, 4), 2, seed=2, affine=False)
    np.testing.assert_allclose(layer.double()(tg.tensor(case.x)).numpy(), _numpy_layer(case), rtol=1e-12,
                               atol=1e-12)
    only_scale = nn.LayerNorm(4, bias=False)
    assert only_scale.bias is None and [n for n, _ in only_scale.named_parameters()] == ["weight"]


def test_layer_norm_is_the_same_in_training_and_eval():
    layer = nn.LayerNorm(5)
    x = tg.randn(3, 5) * 3 + 1
    assert np.array_equal(layer(x).detach().numpy(), layer.eval()(x).detach().numpy())


def test_layer_norm_errors():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[2, 3\]"):
        nn.LayerNorm(4)(tg.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got "
                                           r"weight of shape \[3\] and normalized_shape = \[4\]"):
        F.layer_norm(tg.zeros(2, 4), (4,), tg.ones(3))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        F.layer_norm(tg.zeros(2, 4), 4)
    with pytest.raises(RuntimeError, match="input and weight must have the same dtype, but got float64 and float32"):
        nn.LayerNorm(4)(tg.zeros(2, 4, dtype=tg.float64))
    with pytest.raises(NotImplementedError, match="expected a floating-point input, got int64"):
        F.layer_norm(tg.tensor([[1, 2]]), (2,))


# ------------------------------------------------------------------ GroupNorm
def test_group_norm_defaults_and_forward(device):
    layer = nn.GroupNorm(2, 6).to(device).double()
    assert (layer.num_groups, layer.num_channels, layer.eps, layer.affine) == (2, 6, 1e-5, True)
    assert repr(layer) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    case = make_norm_case("group", (3, 6, 2, 2), 2, seed=3, affine=True)
    _load_affine(layer, case)
    y = layer(tg.tensor(case.x, device=device))
    np.testing.assert_allclose(y.detach().numpy(), _numpy_layer(case), rtol=1e-12, atol=1e-12)
    assert nn.GroupNorm(3, 6, affine=False).weight is None
    assert list(nn.GroupNorm(3, 6, bias=False).state_dict()) == ["weight"]


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups \(3\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="num_groups must be a positive int, got 0"):
        nn.GroupNorm(0, 4)
    with pytest.raises(RuntimeError, match=r"Expected number of channels in input to be divisible by num_groups, "
                                           r"but got input of shape \[2, 6, 4\] and num_groups=4"):
        F.group_norm(tg.zeros(2, 6, 4), 4)
    with pytest.raises(RuntimeError, match=r"Expected weight to be a vector of size equal to the number of channels "
                                           r"in input, but got weight of shape \[4\] and input of shape \[2, 6, 3\]"):
        nn.GroupNorm(2, 4)(tg.zeros(2, 6, 3))
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions for input tensor but received 1"):
        F.group_norm(tg.zeros(4), 2)
    with pytest.raises(RuntimeError, match="Expected num groups to be greater than 0, got -2"):
        F.group_norm(tg.zeros(2, 4), -2)
    with pytest.raises(TypeError, match=r"argument 'num_groups' \(position 2\) must be int, not float"):
        F.group_norm(tg.zeros(2, 4), 2.0)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"\[1, 4, 1\]"):
        F.group_norm(tg.zeros(1, 4, 1), 4)


def test_empty_inputs_give_empty_outputs_and_zero_parameter_gradients():
    for layer, shape in ((nn.LayerNorm(4), (0, 4)), (nn.LayerNorm(0), (2, 0)), (nn.GroupNorm(2, 4), (0, 4, 3)),
                         (nn.GroupNorm(2, 4), (2, 4, 0)), (nn.InstanceNorm1d(4, affine=True), (0, 4, 3))):
        x = tg.zeros(shape, requires_grad=True)
        y = layer(x)
        assert y.shape == shape
        y.sum().backward()
        assert x.grad.shape == shape
        np.testing.assert_array_equal(layer.weight.grad.numpy(), np.zeros(layer.weight.shape))


# ------------------------------------------------------------------ InstanceNorm
@pytest.mark.parametrize("layer, shape", [(nn.InstanceNorm1d, (3, 2, 5)), (nn.InstanceNorm2d, (3, 2, 2, 3))])
def test_instance_norm_defaults_use_instance_statistics_always(device, layer, shape):
    norm = layer(2).to(device).double()
    assert (norm.eps, norm.momentum, norm.affine, norm.track_running_stats) == (1e-5, 0.1, False, False)
    assert norm.weight is None and norm.running_mean is None and list(norm.state_dict()) == []
    case = make_norm_case("instance", shape, 1, seed=4, affine=False)
    x = tg.tensor(case.x, device=device)
    np.testing.assert_allclose(norm(x).numpy(), _numpy_layer(case), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(norm.eval()(x).numpy(), _numpy_layer(case), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(norm(x[0]).numpy(), _numpy_layer(case)[0], rtol=1e-12, atol=1e-12)   # unbatched


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_instance_norm_running_statistics(device, momentum):
    """Training folds the average over the samples of the instance statistics (variance
    unbiased within an instance) into the buffers; eval uses them; num_batches_tracked
    is kept but not counted, as in PyTorch."""
    rng = np.random.default_rng(5)
    norm = nn.InstanceNorm1d(3, momentum=momentum, track_running_stats=True, affine=True).to(device).double()
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.normal(2, 3, (4, 3, 6))
        norm(tg.tensor(x, device=device))
        mean = (1 - momentum) * mean + momentum * x.mean(axis=2).mean(axis=0)
        var = (1 - momentum) * var + momentum * x.var(axis=2, ddof=1).mean(axis=0)
        np.testing.assert_allclose(norm.running_mean.numpy(), mean, rtol=1e-12)
        np.testing.assert_allclose(norm.running_var.numpy(), var, rtol=1e-12)
    assert norm.num_batches_tracked.item() == 0
    x = rng.normal(size=(2, 3, 6))
    expected = (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5)
    np.testing.assert_allclose(norm.eval()(tg.tensor(x, device=device)).detach().numpy(), expected, rtol=1e-12)


def test_instance_norm_momentum_none_never_moves_the_running_statistics():
    """PyTorch passes momentum 0.0 for None: the buffers keep their initial values."""
    norm = nn.InstanceNorm1d(2, momentum=None, track_running_stats=True)
    norm(tg.randn(3, 2, 4) * 5 + 3)
    assert np.array_equal(norm.running_mean.numpy(), np.zeros(2)) and np.array_equal(norm.running_var.numpy(),
                                                                                     np.ones(2))


def test_instance_norm_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(tg.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(tg.zeros(3, 4))
    for norm in (nn.InstanceNorm1d(3), nn.InstanceNorm1d(3).eval()):
        with pytest.raises(ValueError, match=r"Expected more than 1 spatial element when training, got input size "
                                             r"\(2, 3, 1\)"):
            norm(tg.zeros(2, 3, 1))
    tracked = nn.InstanceNorm1d(3, track_running_stats=True).eval()
    assert tracked(tg.zeros(2, 3, 1)).shape == (2, 3, 1)            # eval: the running statistics, any length
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 4."):
        nn.InstanceNorm1d(3, affine=True)(tg.zeros(2, 4, 5))
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        nn.InstanceNorm1d(3)(tg.randn(2, 4, 5))
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var to be defined when "
                                           "use_input_stats is false"):
        F.instance_norm(tg.zeros(2, 3, 4), use_input_stats=False)
    with pytest.raises(TypeError, match=r"argument 'momentum' \(position 7\) must be float, not NoneType"):
        F.instance_norm(tg.zeros(2, 3, 4), momentum=None)


def test_instance_norm_failing_batch_changes_nothing():
    norm = nn.InstanceNorm1d(2, track_running_stats=True)
    norm(tg.randn(3, 2, 4))
    before = {k: v.numpy().copy() for k, v in norm.state_dict().items()}
    x = np.ones((3, 2, 4), dtype=np.float32)
    x[0, 1, 2] = np.nan
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="InstanceNorm produced NaN or Inf"):
        norm(tg.tensor(x))
    for k, v in norm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)


# ------------------------------------------------------------------ ghost batches
def test_ghost_batch_norm_defaults_and_repr():
    layer = nn.GhostBatchNorm1d(3, 8)
    assert (layer.virtual_batch_size, layer.eps, layer.momentum, layer.affine, layer.track_running_stats) == \
        (8, 1e-5, 0.1, True, True)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(layer) == ("GhostBatchNorm1d(3, virtual_batch_size=8, eps=1e-05, momentum=0.1, affine=True, "
                           "bias=True, track_running_stats=True)")


def test_ghost_batch_norm_2d_is_1d_on_the_flattened_plane():
    rng = np.random.default_rng(6)
    two, one = nn.GhostBatchNorm2d(3, 2).double(), nn.GhostBatchNorm1d(3, 2).double()
    x = rng.normal(1, 2, (6, 3, 2, 2))
    np.testing.assert_allclose(two(tg.tensor(x)).detach().numpy().reshape(6, 3, 4),
                               one(tg.tensor(x.reshape(6, 3, 4))).detach().numpy(), rtol=1e-12)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(two, name).numpy(), getattr(one, name).numpy())
    assert two.num_batches_tracked.item() == 3
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        two(tg.zeros(4, 3, 5))


def test_ghost_batch_norm_without_running_statistics_uses_ghost_batches_in_eval():
    layer = nn.GhostBatchNorm1d(2, 3, track_running_stats=False).double()
    x = tg.tensor(np.random.default_rng(7).normal(size=(6, 2)))
    expected = tg.cat([nn.BatchNorm1d(2, track_running_stats=False).double()(part) for part in x.split(3)])
    np.testing.assert_allclose(layer.eval()(x).detach().numpy(), expected.detach().numpy(), rtol=1e-12)


def test_ghost_batch_norm_errors_change_nothing():
    layer = nn.GhostBatchNorm1d(2, 4)
    layer(tg.randn(8, 2))
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match="a training batch of 6 samples does not split into ghost batches of 4"):
        layer(tg.randn(6, 2))
    x = np.ones((8, 2), dtype=np.float32)
    x[6, 0] = np.nan                                       # in the second ghost batch
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="GhostBatchNorm produced NaN or Inf"):
        layer(tg.tensor(x))
    single = nn.GhostBatchNorm1d(2, 1)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel in each ghost batch when training"):
        single(tg.randn(4, 2))
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    assert single.num_batches_tracked.item() == 0
    with pytest.raises(ValueError, match="virtual_batch_size must be a positive int, got 0"):
        nn.GhostBatchNorm1d(2, 0)
    layer.eval()(tg.randn(5, 2))                           # eval: any batch size


def test_ghost_batch_norm_empty_batches():
    """N = 0 holds no ghost batch: nothing is counted.  L = 0 holds N / virtual_batch_size
    empty ghost batches: each counts, as an empty batch counts in BatchNorm1d, and no
    statistic changes."""
    layer = nn.GhostBatchNorm1d(3, 2)
    assert layer(tg.zeros(0, 3)).shape == (0, 3) and layer.num_batches_tracked.item() == 0
    assert layer(tg.zeros(4, 3, 0)).shape == (4, 3, 0) and layer.num_batches_tracked.item() == 2
    assert np.array_equal(layer.running_mean.numpy(), np.zeros(3))


def test_ghost_batch_norm_functional_momenta():
    """F.ghost_batch_norm takes one factor per ghost batch, applied in order."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(4, 2))
    mean, var = tg.zeros(2, dtype=tg.float64), tg.ones(2, dtype=tg.float64)
    F.ghost_batch_norm(tg.tensor(x), 2, mean, var, training=True, momentum=(1.0, 0.25))
    np.testing.assert_allclose(mean.numpy(), 0.75 * x[:2].mean(axis=0) + 0.25 * x[2:].mean(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match=r"expected one momentum per ghost batch \(2\), got 3"):
        F.ghost_batch_norm(tg.tensor(x), 2, mean, var, training=True, momentum=(0.1, 0.1, 0.1))


def test_the_family_is_exported():
    for name in ("LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "BatchRenorm1d", "BatchRenorm2d",
                 "RenormWarmup", "GhostBatchNorm1d", "GhostBatchNorm2d"):
        assert hasattr(nn, name), name
    for name in ("layer_norm", "group_norm", "instance_norm", "batch_renorm", "ghost_batch_norm"):
        assert callable(getattr(F, name)), name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(2)(tg.randn(2, 2, 3))              # the matching channel count warns nothing
