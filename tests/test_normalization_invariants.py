"""The BN proof for the normalization family, part 3: identities each layer must satisfy.

Per group (a sample for LayerNorm, a sample and group of channels for GroupNorm, a
sample and channel for InstanceNorm, a channel of a ghost batch), with x_hat and s2
computed independently in NumPy (tinygrad_bn/testing/norm_cases.py): (y - beta)/gamma
has mean 0 and variance s2/(s2 + eps); the input gradient sums to zero and (eps = 0)
is orthogonal to x_hat; dgamma and dbeta are the sums of dy x_hat and dy over the
axes they are shared along.  Then the family's relations: GroupNorm with one group
is LayerNorm over (C, *S) and with C groups InstanceNorm (outputs, first and second
derivatives); ghost batches of the whole batch are BatchNorm; and each ghost batch
is normalised by its own statistics, exactly as BatchNorm1d normalises it as a batch
of its own, running statistics and batch count included.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing.bn_cases import cases
from tinygrad_bn.testing.bn_properties import check_same_as, seeds
from tinygrad_bn.testing.norm_cases import KINDS, make_norm_case, norm_cases
from tinygrad_bn.testing.norm_properties import check_gradient_identities, check_group_statistics, fused

DTYPES = pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])
BY_KIND = pytest.mark.parametrize("kind", KINDS)
FEW = settings(max_examples=12)


@BY_KIND
@DTYPES
@FEW
@given(data=st.data())
def test_group_statistics(device, kind, dtype, data):
    case = data.draw(norm_cases(kind))
    check_group_statistics(fused(case), case, dtype, device)


@BY_KIND
@DTYPES
@FEW
@given(data=st.data(), seed=seeds)
def test_gradient_identities(device, kind, dtype, data, seed):
    case = data.draw(norm_cases(kind))
    check_gradient_identities(fused(case), case, seed, dtype, device)


def _layer_norm_over_all_but_batch(x, weight, bias, eps=1e-5):
    return F.layer_norm(x, x.shape[1:], weight, bias, eps)


@FEW
@given(data=st.data(), seed=seeds)
def test_group_norm_with_one_group_is_layer_norm(data, seed):
    """One group holds all of a sample's channels: LayerNorm over (C, *S), without affine
    (GroupNorm's gamma is per channel, LayerNorm's per element)."""
    grouped = data.draw(norm_cases("group", affine=False))
    case = make_norm_case("group", grouped.x.shape, 1, grouped.seed, affine=False)
    check_same_as(fused(case), _layer_norm_over_all_but_batch, case, seed, reference_name="LayerNorm over (C, *S)")


@FEW
@given(data=st.data(), seed=seeds)
def test_group_norm_with_one_channel_per_group_is_instance_norm(data, seed):
    """C groups of one channel: InstanceNorm, affine map included (both per channel)."""
    instance = data.draw(norm_cases("instance"))
    case = make_norm_case("group", instance.x.shape, instance.x.shape[1], instance.seed, instance.weight is not None)
    check_same_as(fused(case), fused(instance), case, seed, reference_name="InstanceNorm")


@FEW
@given(case=cases(), seed=seeds)
def test_one_ghost_batch_is_batch_norm(case, seed):
    """virtual_batch_size = N: the op is BatchNorm (outputs, first and second derivatives)."""
    def ghost(x, weight, bias, eps=1e-5):
        return F.ghost_batch_norm(x, x.shape[0], None, None, weight, bias, True, 0.0, eps)

    def batch(x, weight, bias, eps=1e-5):
        return F.batch_norm(x, None, None, weight, bias, True, 0.0, eps)
    check_same_as(ghost, batch, case, seed, reference_name="BatchNorm")


@FEW
@given(ghosts=st.integers(1, 4), size=st.integers(2, 6), channels=st.integers(1, 4),
       length=st.none() | st.integers(1, 3), momentum=st.none() | st.floats(0.05, 0.9), seed=seeds)
def test_ghost_batches_go_through_batch_norm_one_after_another(ghosts, size, channels, length, momentum, seed):
    """GhostBatchNorm1d on a batch of k ghost batches = BatchNorm1d on each ghost batch in
    turn, over two training steps: outputs, gradients of x, weight and bias, the running
    statistics and num_batches_tracked (k per step), then the eval outputs."""
    rng = np.random.default_rng(seed)
    ghost = nn.GhostBatchNorm1d(channels, size, momentum=momentum).double()
    batch = nn.BatchNorm1d(channels, momentum=momentum).double()
    for layer in (ghost, batch):
        with tg.no_grad():
            layer.weight.copy_(np.linspace(0.5, 2, channels))
            layer.bias.copy_(np.linspace(-1, 1, channels))
    shape = (ghosts * size, channels) + (() if length is None else (length,))
    for _ in range(2):
        x = rng.standard_normal(shape) * rng.uniform(0.5, 3, channels).reshape((1, -1) + (1,) * (len(shape) - 2))
        dy = rng.standard_normal(shape)
        results = []
        for layer, run in ((ghost, ghost), (batch, lambda x: tg.cat([batch(part) for part in x.split(size)]))):
            inputs = [tg.tensor(x, dtype=tg.float64, requires_grad=True), layer.weight, layer.bias]
            y = run(inputs[0])
            grads = tg.autograd.grad(y, inputs, tg.tensor(dy, dtype=tg.float64))
            results.append([y.detach().numpy()] + [g.numpy() for g in grads])
        for got, expected in zip(*results):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(ghost, name).numpy(), getattr(batch, name).numpy(), rtol=1e-12,
                                       err_msg=name)
    assert ghost.num_batches_tracked.item() == 2 * ghosts
    x = tg.tensor(rng.standard_normal(shape), dtype=tg.float64)
    np.testing.assert_allclose(ghost.eval()(x).detach().numpy(), batch.eval()(x).detach().numpy(), rtol=1e-12,
                               atol=1e-12)


def test_each_ghost_batch_has_its_own_statistics():
    """A batch whose two halves have different means and spreads: each half of the output
    has mean beta and variance gamma^2 s2/(s2 + eps) with that half's s2 (NumPy)."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(5, 3, (4, 2)), rng.normal(-2, 0.5, (4, 2))])
    layer = nn.GhostBatchNorm1d(2, 4).double()
    with tg.no_grad():
        layer.weight.copy_([2.0, -0.5])
        layer.bias.copy_([1.0, 3.0])
    y = layer(tg.tensor(x, dtype=tg.float64)).detach().numpy()
    for half in (slice(0, 4), slice(4, 8)):
        s2 = x[half].var(axis=0)
        np.testing.assert_allclose(y[half].mean(axis=0), [1.0, 3.0], atol=1e-12)
        np.testing.assert_allclose(y[half].var(axis=0), np.array([2.0, -0.5]) ** 2 * s2 / (s2 + 1e-5), rtol=1e-12)
    whole = nn.BatchNorm1d(2).double()(tg.tensor(x, dtype=tg.float64)).detach().numpy()
    assert np.abs(whole - y).max() > 0.5                  # not the statistics of the whole batch
