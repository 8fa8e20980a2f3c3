"""The BN proof for feature maps: the properties of parts 1-4 on (N, C, H, W) input, through BatchNorm2d.

Each channel of a feature map is normalised over its N * H * W values
(section 3.2 of Ioffe & Szegedy).  The cases are (N, C, H, W) with H, W in
1..4 (bn_cases, BATCHNORM2D_NDIMS) and every property of
tinygrad_bn/testing/ runs on them, called through a BatchNorm2d layer
(``through_layer``): gradcheck and gradgradcheck, equality with the composed
reference in output, first and second derivatives, float32 against float64,
the per-channel output moments, shift invariance, the running-statistics
state machine and Algorithm 2 on a convolutional model.  The layer refuses
eps = 0 in training, as PyTorch does, so the two identities exact only at
eps = 0 (dx orthogonal to x_hat; the scale invariance of section 3.3, here
for the weight of the convolution before BN) run on the fused op the layer
calls, and the layer is shown to equal that op.  Then BatchNorm2d is
BatchNorm1d on the (N, C, H*W) reshape: outputs, gradients and buffers.
Every test on every device.
"""
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.nn.batchnorm_reference import batch_norm_composed
from tinygrad_bn.testing.bn_cases import BATCHNORM2D_NDIMS, cases, make_case
from tinygrad_bn.testing.bn_properties import (GRADCHECK_ELEMENTS, GRADGRADCHECK_ELEMENTS, SCALE_INVARIANCE_ELEMENTS,
                                               check_float32_matches_float64, check_gradcheck, check_gradgradcheck,
                                               check_gradient_identities, check_output_statistics,
                                               check_population_statistics, PropertyFailure, check_same_as,
                                               check_scale_invariance, check_shift_invariance, fused, population_cases,
                                               scales, seeds, through_layer)
from tinygrad_bn.testing.bn_running_stats import check_running_statistics

maps = partial(cases, ndims=BATCHNORM2D_NDIMS)
batchnorm2d = through_layer(nn.BatchNorm2d)
DTYPES = pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])


def on_the_reshape(x, weight=None, bias=None, eps=1e-5):
    """BatchNorm1d on x (N, C, H, W) seen as (N, C, H*W), reshaped back."""
    return through_layer(nn.BatchNorm1d)(x.reshape(x.shape[0], x.shape[1], -1), weight, bias, eps).reshape(x.shape)


# ------------------------------------------------------------------- part 1 and 2: the derivatives
@given(maps(max_elements=GRADCHECK_ELEMENTS))
def test_gradcheck(device, case):
    check_gradcheck(batchnorm2d, case, device)


@given(maps(max_elements=GRADGRADCHECK_ELEMENTS))
def test_gradgradcheck(device, case):
    check_gradgradcheck(batchnorm2d, case, device)


@given(maps(), seeds)
def test_same_as_composed(device, case, seed):
    check_same_as(batchnorm2d, batch_norm_composed, case, seed, reference_name="the composed reference",
                  device=device)


@given(maps(), seeds)
def test_same_as_the_fused_op(device, case, seed):
    """What the eps = 0 identities below are checked on is what the layer computes."""
    check_same_as(batchnorm2d, fused, case, seed, rtol=0, atol=0, reference_name="the fused op", device=device)


@given(maps(max_elements=16 * 16 * 4), seeds)
def test_float32_matches_float64(device, case, seed):
    check_float32_matches_float64(batchnorm2d, batch_norm_composed, case, seed, device)


@given(maps(max_elements=GRADCHECK_ELEMENTS), seeds)
def test_eval_mode_is_differentiable(device, case, seed):
    """Eval mode is the affine map with the running statistics: gradients of first and
    second order w.r.t. x, weight and bias (the layer's own parameters)."""
    rng = np.random.default_rng(seed)
    bn = nn.BatchNorm2d(case.channels, affine=case.weight is not None).to(device).double().eval()
    xp = bn.running_mean.xp
    bn.running_mean._data[...] = xp.asarray(rng.uniform(-3, 3, case.channels))
    bn.running_var._data[...] = xp.asarray(rng.uniform(0.2, 4, case.channels))
    inputs = [tg.tensor(case.x, device=device, requires_grad=True)]
    if case.weight is not None:
        bn.weight._data[...], bn.bias._data[...] = xp.asarray(case.weight), xp.asarray(case.bias)
        inputs += [bn.weight, bn.bias]
    assert tg.gradcheck(lambda *args: bn(args[0]), inputs)
    assert tg.gradgradcheck(lambda *args: bn(args[0]), inputs)


# ------------------------------------------------------------------- part 3: the identities
@DTYPES
@given(case=maps())
def test_output_statistics(device, dtype, case):
    check_output_statistics(batchnorm2d, case, dtype, device)


@DTYPES
@given(case=maps(), seed=seeds)
def test_gradient_identities(device, dtype, case, seed):
    check_gradient_identities(fused, case, seed, dtype, device)


@DTYPES
@given(case=maps(), seed=seeds)
def test_shift_invariance(device, dtype, case, seed):
    check_shift_invariance(batchnorm2d, case, seed, dtype, device)


@DTYPES
@given(case=maps(max_elements=SCALE_INVARIANCE_ELEMENTS), scale=scales, seed=seeds)
def test_scale_invariance_of_a_conv_weight(device, dtype, case, scale, seed):
    """BN(conv2d(u, aW)) = BN(conv2d(u, W)) and dL/d(aW) = dL/dW / a, at eps = 0."""
    check_scale_invariance(fused, case, scale, seed, dtype, device)


def test_the_conv_scale_invariance_check_can_fail():
    """It catches a BN that only centres (its output grows with a)."""
    def centred_only(x, weight=None, bias=None, eps=1e-5):
        return x - x.mean(axis=(0, 2, 3), keepdims=True)
    with pytest.raises(PropertyFailure, match=r"BN\(conv2d\(u, aW\)\) should equal BN\(conv2d\(u, W\)\)"):
        check_scale_invariance(centred_only, make_case((4, 2, 3, 3), seed=1, affine=False), 3.0, seed=0)


# ------------------------------------------------------------------- part 4: running statistics, Algorithm 2
@pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])
def test_running_statistics_follow_pytorch_rules(device, dtype):
    check_running_statistics(nn.BatchNorm2d, device, dtype, settings(stateful_step_count=20),
                             ndims=BATCHNORM2D_NDIMS)


@given(population_cases())
def test_recompute_population_stats_is_algorithm_2_on_a_conv_net(arguments):
    check_population_statistics(nn.recompute_population_stats, conv=True, **arguments)


# ------------------------------------------------------------------- BatchNorm2d is BatchNorm1d on (N, C, H*W)
@given(maps(), seeds)
def test_same_as_batchnorm1d_on_the_reshape(device, case, seed):
    check_same_as(batchnorm2d, on_the_reshape, case, seed, rtol=1e-12, atol=1e-12,
                  reference_name="BatchNorm1d on the (N, C, H*W) reshape", device=device)


def test_layers_keep_the_same_buffers_on_the_reshape(device):
    """Training steps with momentum 0.1 and None, then eval: the same running statistics
    and the same eval output, to float64 rounding."""
    rng = np.random.default_rng(0)
    for momentum in (0.1, None):
        two = nn.BatchNorm2d(3, momentum=momentum).to(device).double()
        one = nn.BatchNorm1d(3, momentum=momentum).to(device).double()
        for _ in range(3):
            x = tg.tensor(rng.normal(2, 3, size=(4, 3, 5, 2)), device=device)
            two(x)
            one(x.reshape(4, 3, 10))
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(getattr(two, name).numpy(), getattr(one, name).numpy(), rtol=1e-13,
                                       err_msg=name)
        x = tg.tensor(rng.normal(size=(2, 3, 5, 2)), device=device)
        expected = one.eval()(x.reshape(2, 3, 10)).detach().numpy().reshape(x.shape)
        np.testing.assert_allclose(two.eval()(x).detach().numpy(), expected, rtol=1e-13)


def test_functional_batch_norm_takes_feature_maps(device):
    """F.batch_norm on (N, C, H, W): each channel over its N H W values, against NumPy."""
    x = np.random.default_rng(1).normal(3, 2, size=(5, 2, 3, 4))
    y = F.batch_norm(tg.tensor(x, device=device), None, None, training=True).numpy()
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)
