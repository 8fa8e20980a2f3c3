"""The proof of Batch Renormalization (Ioffe, 2017).

Its backward holds r and d constant, so it is not the derivative of its forward
wherever r or d is unclipped, and a plain gradcheck would (rightly) fail.  What
is proven instead:

1. rmax = 1, dmax = 0 is BatchNorm: BatchRenorm1d passes BatchNorm's whole
   running-statistics state machine (training, eval, empty and failing batches,
   resets, momentum None) against BatchNorm's NumPy model, and F.batch_renorm's
   first and second derivatives are F.batch_norm's.
2. For any limits, the running statistics and outputs follow Algorithm 1 under
   the same state machine, with rmax, dmax and the warm-up drawn and changed.
3. fused == composed: the fused op against Algorithm 1 composed from primitive
   ops with r and d detached, in output, first and second derivatives.
4. r and d are constants for the gradient: dx is BatchNorm's with gamma r, dgamma
   is r dgamma' + d dbeta (r, d from NumPy); where both are clipped, they are
   constant near x, and gradcheck and gradgradcheck hold against central differences.
5. Unclipped, the training output is the eval output (x - mu)/sigma of the running
   statistics from before the batch: the paper's point.
6. The layers: BatchRenorm2d is BatchRenorm1d on (N, C, H W); the warm-up
   schedule; arguments, errors, repr.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.nn.normalization_reference import batch_renorm_composed
from tinygrad_bn.testing.bn_cases import cases, channel_shape, numpy_normalize, reduction_axes
from tinygrad_bn.testing.bn_properties import (GRADCHECK_ELEMENTS, GRADGRADCHECK_ELEMENTS, check_same_as,
                                               differentiable_inputs, of_inputs, seeds, two_values_without_affine)
from tinygrad_bn.testing.bn_running_stats import check_running_statistics
from tinygrad_bn.testing.renorm_running_stats import check_renorm_running_statistics

DTYPES = pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])
MACHINE = settings(stateful_step_count=20, max_examples=15)


class RenormAsBatchNorm(nn.BatchRenorm1d):
    """BatchRenorm1d with rmax = 1, dmax = 0, built as the BatchNorm state machine builds its layer."""

    def __init__(self, num_features, momentum):
        super().__init__(num_features, momentum=momentum, rmax=1.0, dmax=0.0)


@DTYPES
def test_with_rmax_1_and_dmax_0_it_is_batch_norm(device, dtype):
    check_running_statistics(RenormAsBatchNorm, device, dtype, MACHINE)


@DTYPES
def test_running_statistics_and_outputs_follow_algorithm_1(device, dtype):
    check_renorm_running_statistics(nn.BatchRenorm1d, device, dtype, MACHINE)


def _running_stats(case, seed, spread=1.0):
    """Running statistics near the case's batch statistics (r and d of moderate size,
    some clipped at the limits drawn below)."""
    rng = np.random.default_rng(seed)
    axes = reduction_axes(case.x)
    mean = case.x.mean(axis=axes) + spread * rng.normal(size=case.channels) * case.x.std(axis=axes)
    var = case.x.var(axis=axes) * np.exp(spread * rng.normal(size=case.channels))
    return tg.tensor(mean, dtype=tg.float64), tg.tensor(var, dtype=tg.float64)


limits = st.tuples(st.floats(1.0, 3.0), st.floats(0.0, 3.0))


@settings(max_examples=15)
@given(case=cases(), seed=seeds)
def test_with_rmax_1_and_dmax_0_its_derivatives_are_batch_norms(case, seed):
    """Outputs, first and second derivatives of F.batch_renorm(rmax=1, dmax=0) equal
    F.batch_norm's, whatever the running statistics."""
    running_mean, running_var = _running_stats(case, seed)

    def renorm(x, weight, bias, eps=1e-5):
        return F.batch_renorm(x, running_mean.clone(), running_var.clone(), weight, bias, True, 0.1, eps, 1.0, 0.0)

    def batch_norm(x, weight, bias, eps=1e-5):
        return F.batch_norm(x, None, None, weight, bias, True, 0.1, eps)
    check_same_as(renorm, batch_norm, case, seed, reference_name="BatchNorm")


@settings(max_examples=15)
@given(case=cases(), seed=seeds, rmax_dmax=limits)
def test_fused_equals_composed(case, seed, rmax_dmax):
    rmax, dmax = rmax_dmax
    running_mean, running_var = _running_stats(case, seed)

    def fused(x, weight, bias, eps=1e-5):
        # copies: each call updates the running statistics it is given
        return F.batch_renorm(x, running_mean.clone(), running_var.clone(), weight, bias, True, 0.1, eps, rmax, dmax)

    def composed(x, weight, bias, eps=1e-5):
        return batch_renorm_composed(x, running_mean, running_var, weight, bias, eps, rmax, dmax)
    check_same_as(fused, composed, case, seed, reference_name="Algorithm 1 composed with r, d detached")


def _numpy_r_d(case, running_mean, running_var, rmax, dmax, eps=1e-5):
    shape = channel_shape(case.x)
    x_hat, s2 = numpy_normalize(case.x, eps)
    sigma = np.sqrt(running_var.numpy().reshape(shape) + eps)
    r = np.clip(np.sqrt(s2 + eps) / sigma, 1 / rmax, rmax)
    d = np.clip((case.x.mean(axis=reduction_axes(case.x), keepdims=True) - running_mean.numpy().reshape(shape)) / sigma,
                -dmax, dmax)
    return r, d


@settings(max_examples=15)
@given(case=cases(affine=True), seed=seeds)
def test_r_and_d_are_constants_in_the_backward(case, seed):
    """With r, d computed in NumPy: dx equals BatchNorm's dx for gamma' = gamma r;
    dgamma = sum dy (r x_hat + d) and dbeta = sum dy."""
    rmax, dmax = 10.0, 10.0
    running_mean, running_var = _running_stats(case, seed, spread=0.5)
    r, d = _numpy_r_d(case, running_mean, running_var, rmax, dmax)
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    x, weight, bias = differentiable_inputs(case)
    y = F.batch_renorm(x, running_mean, running_var, weight, bias, True, 0.1, 1e-5, rmax, dmax)
    dx, dweight, dbias = tg.autograd.grad(y, [x, weight, bias], tg.tensor(dy, dtype=tg.float64))
    x2 = tg.tensor(case.x, dtype=tg.float64, requires_grad=True)
    scaled = tg.tensor(case.weight * r.reshape(-1), dtype=tg.float64)
    expected_dx, = tg.autograd.grad(F.batch_norm(x2, None, None, scaled, None, True), [x2],
                                    tg.tensor(dy, dtype=tg.float64))
    np.testing.assert_allclose(dx.numpy(), expected_dx.numpy(), rtol=1e-9, atol=1e-9)
    x_hat = numpy_normalize(case.x)[0]
    axes = reduction_axes(case.x)
    np.testing.assert_allclose(dweight.numpy(), (dy * (x_hat * r + d)).sum(axis=axes), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dbias.numpy(), dy.sum(axis=axes), rtol=1e-9, atol=1e-9)


RMAX, DMAX = 2.0, 1.5


def _clipped(case, device):
    """Running statistics with sigma_B/sigma > 20 rmax and |mu_B - mu|/sigma = 40 dmax in
    every channel: r = rmax and d = +-dmax, and they stay so for any x nearby."""
    axes = reduction_axes(case.x)
    running_var = np.full(case.channels, max((case.x.std(axis=axes).min() / (40 * RMAX)) ** 2 - 1e-5, 0.0))
    sigma = np.sqrt(running_var + 1e-5)
    side = np.where(np.arange(case.channels) % 2 == 0, 1.0, -1.0)
    running_mean = case.x.mean(axis=axes) - side * 40 * DMAX * sigma
    running = [tg.tensor(a, dtype=tg.float64, device=device) for a in (running_mean, running_var)]
    r, d = _numpy_r_d(case, *(t.cpu() for t in running), RMAX, DMAX)
    assert np.all(r == RMAX) and np.all(np.abs(d) == DMAX)

    def renorm(x, weight, bias, eps=1e-5):
        return F.batch_renorm(x, running[0].clone(), running[1].clone(), weight, bias, True, 0.1, eps, RMAX, DMAX)
    return of_inputs(renorm, case)


@settings(max_examples=10)
@given(case=cases(max_elements=GRADCHECK_ELEMENTS))
def test_gradcheck_where_r_and_d_are_clipped(device, case):
    assert tg.gradcheck(_clipped(case, device), differentiable_inputs(case, device=device),
                        allow_zero=two_values_without_affine(case))


@settings(max_examples=8)
@given(case=cases(max_elements=GRADGRADCHECK_ELEMENTS))
def test_gradgradcheck_where_r_and_d_are_clipped(device, case):
    assert tg.gradgradcheck(_clipped(case, device), differentiable_inputs(case, device=device),
                            allow_zero=two_values_without_affine(case))


@settings(max_examples=15)
@given(case=cases(affine=True), seed=seeds)
def test_unclipped_training_output_is_the_eval_output(case, seed):
    """r x_hat + d = (x - mu)/sigma when nothing is clipped: training gives what eval
    gives with the running statistics from before the batch."""
    layer = nn.BatchRenorm1d(case.channels, rmax=1e6, dmax=1e6).double()
    running_mean, running_var = _running_stats(case, seed)
    with tg.no_grad():
        layer.running_mean.copy_(running_mean)
        layer.running_var.copy_(running_var)
        layer.weight.copy_(case.weight), layer.bias.copy_(case.bias)
    x = tg.tensor(case.x, dtype=tg.float64)
    trained = layer(x).detach().numpy()
    expected = nn.BatchNorm1d(case.channels).double()
    expected.load_state_dict(layer.state_dict())
    expected.running_mean.copy_(running_mean), expected.running_var.copy_(running_var)
    np.testing.assert_allclose(trained, expected.eval()(x).detach().numpy(), rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ the layers
def test_batch_renorm_2d_is_1d_on_the_flattened_plane():
    rng = np.random.default_rng(0)
    two, one = nn.BatchRenorm2d(3, rmax=1.5, dmax=0.5).double(), nn.BatchRenorm1d(3, rmax=1.5, dmax=0.5).double()
    for step in range(3):
        x = rng.normal(1, 2, (4, 3, 2, 5))
        dy = rng.standard_normal(x.shape)
        outputs = []
        for layer, shaped in ((two, x), (one, x.reshape(4, 3, 10))):
            t = tg.tensor(shaped, dtype=tg.float64, requires_grad=True)
            y = layer(t)
            grads = tg.autograd.grad(y, [t, layer.weight, layer.bias], tg.tensor(dy.reshape(shaped.shape)))
            outputs.append([y.detach().numpy().reshape(x.shape), grads[0].numpy().reshape(x.shape),
                            grads[1].numpy(), grads[2].numpy()])
        for a, b in zip(*outputs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_array_equal(getattr(two, name).numpy(), getattr(one, name).numpy())
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        two(tg.zeros(4, 3, 5))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        one(tg.zeros(4, 3, 2, 2))


def test_warmup_follows_the_papers_schedule():
    """Ioffe (2017), section 4: BatchNorm for 5000 steps, then rmax relaxed to 3 at 40k
    and dmax to 5 at 25k steps (linearly, here)."""
    warmup = nn.RenormWarmup()
    assert (warmup.bn_steps, warmup.rmax_steps, warmup.dmax_steps) == (5000, 40000, 25000)
    for step, expected in ((0, (1, 0)), (5000, (1, 0)), (15000, (1 + 2 / 3.5, 2.5)), (25000, (1 + 4 / 3.5, 5)),
                           (40000, (3, 5)), (10 ** 6, (3, 5))):
        np.testing.assert_allclose(warmup.limits(step, 3.0, 5.0), expected, rtol=1e-12, err_msg=str(step))


def test_the_layer_reads_the_warmup_at_its_batch_count():
    layer = nn.BatchRenorm1d(2, rmax=3.0, dmax=2.0, warmup=nn.RenormWarmup(1, 3, 5))
    seen = []
    for _ in range(6):
        seen.append(layer.renorm_limits())
        layer(tg.randn(8, 2))
    np.testing.assert_allclose(seen, [(1, 0), (1, 0), (2, 0.5), (3, 1.0), (3, 1.5), (3, 2.0)], rtol=1e-12)
    layer.reset_running_stats()                         # the running statistics start again, and so does the warm-up
    assert layer.renorm_limits() == (1.0, 0.0)
    assert nn.BatchRenorm1d(2, rmax=2.5, dmax=1.0).renorm_limits() == (2.5, 1.0)


def test_defaults_buffers_and_repr():
    layer = nn.BatchRenorm1d(3)
    assert (layer.eps, layer.momentum, layer.affine, layer.rmax, layer.dmax, layer.warmup) == \
        (1e-5, 0.1, True, 3.0, 5.0, None)
    assert layer.track_running_stats
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchRenorm1d(3, bias=False).state_dict()) == ["weight", "running_mean", "running_var",
                                                                  "num_batches_tracked"]
    assert repr(layer) == "BatchRenorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, rmax=3.0, dmax=5.0)"
    assert repr(nn.BatchRenorm2d(4, affine=False, warmup=nn.RenormWarmup(10, 20, 30))) == (
        "BatchRenorm2d(4, eps=1e-05, momentum=0.1, affine=False, bias=False, rmax=3.0, dmax=5.0, "
        "warmup=RenormWarmup(bn_steps=10, rmax_steps=20, dmax_steps=30))")
    # the buffers are BatchNorm's, so a BatchNorm1d reads the state dict as it is
    layer(tg.randn(6, 3) * 2 + 1)
    bn = nn.BatchNorm1d(3)
    bn.load_state_dict(layer.state_dict())
    x = tg.randn(4, 3)
    np.testing.assert_array_equal(bn.eval()(x).detach().numpy(), layer.eval()(x).detach().numpy())


@pytest.mark.parametrize("arguments, message", [
    (dict(rmax=0.5), r"expected rmax >= 1 and dmax >= 0, got rmax=0.5, dmax=5.0"),
    (dict(dmax=-1.0), r"expected rmax >= 1 and dmax >= 0, got rmax=3.0, dmax=-1.0"),
    (dict(rmax=float("nan")), r"expected rmax >= 1"),
])
def test_limits_out_of_range_are_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        nn.BatchRenorm1d(3, **arguments)
    with pytest.raises(ValueError, match=message):
        F.batch_renorm(tg.randn(4, 3), tg.zeros(3), tg.ones(3), training=True, **arguments)


def test_warmup_errors():
    with pytest.raises(TypeError, match="warmup must be a RenormWarmup or None, got int"):
        nn.BatchRenorm1d(3, warmup=5000)
    with pytest.raises(ValueError, match="expected 0 <= bn_steps < rmax_steps and bn_steps < dmax_steps"):
        nn.RenormWarmup(100, 50, 200)


def test_training_needs_the_running_statistics():
    with pytest.raises(ValueError, match="running_mean and running_var are needed in training too"):
        F.batch_renorm(tg.randn(4, 3), None, None, training=True)


def test_a_failing_batch_changes_nothing():
    """One value per channel, or a NaN under anomaly mode: the buffers stay as they were."""
    layer = nn.BatchRenorm1d(2)
    layer(tg.randn(5, 2))
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        layer(tg.randn(1, 2))
    x = np.ones((4, 2), dtype=np.float32)
    x[1, 1] = np.nan
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="BatchRenorm produced NaN or Inf in its forward"):
        layer(tg.tensor(x))
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
