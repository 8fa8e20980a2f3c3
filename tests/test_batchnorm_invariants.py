"""The BN proof, part 3: identities that BatchNorm must satisfy, checked on drawn cases.

In training, per channel with x_hat computed independently in NumPy:
output mean = beta and output variance = gamma^2 * s2 / (s2 + eps); the input
gradient sums to zero and is orthogonal to x_hat; dgamma = sum(dy * x_hat),
dbeta = sum(dy); scale invariance (paper, section 3.3): BN((aW)u) = BN(Wu) and
d/d(aW) = (1/a) d/dW; shift invariance BN(x + b) = BN(x), gradient included.
float64 on every device, and float32 with float32 tolerances.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn.autograd import grad
from tinygrad_bn.ops.batch_norm import BatchNorm

from bn_cases import cases, channel_shape, numpy_normalize, reduction_axes

TOLERANCE = {tg.float64: 1e-9, tg.float32: 2e-4}
DTYPES = pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])


def training_batch_norm(x, weight, bias, eps):
    """F.batch_norm in training mode; for eps = 0, which it refuses as torch does, the
    fused op it calls (the identities below are exact only without eps)."""
    if eps > 0:
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)
    return BatchNorm.apply(x, weight, bias, None, None, 0.0, eps)


def forward_backward(case, dy, dtype, device, eps=1e-5):
    x, weight, bias = case.tensors(dtype=dtype, device=device)
    y = training_batch_norm(x, weight, bias, eps)
    wanted = [t for t in (x, weight, bias) if t is not None]
    grads = grad(y, wanted, tg.tensor(dy, dtype=dtype, device=device))
    return y.detach().numpy(), [g.numpy() for g in grads]


@DTYPES
@given(case=cases(), seed=st.integers(0, 2 ** 32 - 1))
def test_output_statistics(device, dtype, case, seed):
    y, _ = forward_backward(case, np.zeros(case.x.shape), dtype, device)
    axes = reduction_axes(case.x)
    _, s2 = numpy_normalize(case.x)
    gamma = 1.0 if case.weight is None else case.weight.reshape(channel_shape(case.x))
    beta = 0.0 if case.bias is None else case.bias.reshape(channel_shape(case.x))
    tol = TOLERANCE[dtype] * 10
    np.testing.assert_allclose(y.mean(axis=axes, keepdims=True), np.broadcast_to(beta, s2.shape), atol=tol)
    np.testing.assert_allclose(y.var(axis=axes, keepdims=True), gamma ** 2 * s2 / (s2 + 1e-5),
                               rtol=tol, atol=tol)


@DTYPES
@given(case=cases(), seed=st.integers(0, 2 ** 32 - 1))
def test_gradient_identities(device, dtype, case, seed):
    """sum(dx) = 0 and sum(dx * x_hat) = 0 per channel; dgamma, dbeta as sums.
    (Orthogonality is exact for eps = 0: with eps, mean(x_hat^2) = s2/(s2+eps) < 1.)"""
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    axes = reduction_axes(case.x)
    _, (dx_exact, *_) = forward_backward(case, dy, dtype, device, eps=0.0)
    x_hat, s2 = numpy_normalize(case.x)
    gamma = 1.0 if case.weight is None else np.abs(case.weight)
    # the size of the terms that cancel: |gamma| / sigma * sum |dy| per channel
    tol = TOLERANCE[dtype] * (gamma / np.sqrt(s2.reshape(-1)) * np.abs(dy).sum(axis=axes)).max()
    np.testing.assert_allclose(dx_exact.sum(axis=axes), 0, atol=tol)
    np.testing.assert_allclose((dx_exact * numpy_normalize(case.x, eps=0.0)[0]).sum(axis=axes), 0, atol=tol)
    _, grads = forward_backward(case, dy, dtype, device)
    np.testing.assert_allclose(grads[0].sum(axis=axes), 0, atol=tol)
    if case.weight is not None:
        dgamma, dbeta = grads[1], grads[2]
        np.testing.assert_allclose(dgamma, (dy * x_hat).sum(axis=axes), rtol=TOLERANCE[dtype],
                                   atol=TOLERANCE[dtype] * np.abs(dy).sum())
        np.testing.assert_allclose(dbeta, dy.sum(axis=axes), rtol=TOLERANCE[dtype],
                                   atol=TOLERANCE[dtype] * np.abs(dy).sum())


@DTYPES
@given(case=cases(max_elements=64 * 16), scale=st.floats(0.05, 20), seed=st.integers(0, 2 ** 32 - 1))
def test_scale_invariance(device, dtype, case, scale, seed):
    """Section 3.3: with z = u W^T, BN((aW) u) = BN(W u) and dL/d(aW) = (1/a) dL/dW
    (exact with eps = 0, which the guaranteed spread makes safe)."""
    rng = np.random.default_rng(seed)
    u = case.x if case.x.ndim == 2 else case.x[:, :, 0]
    w = rng.standard_normal((u.shape[1], u.shape[1])) + 2 * np.eye(u.shape[1])
    dy = rng.standard_normal(u.shape)
    results = []
    for a in (1.0, scale):
        weight = tg.tensor(a * w, dtype=dtype, device=device, requires_grad=True)
        z = tg.tensor(u, dtype=dtype, device=device) @ weight.T
        values = np.asarray(z.detach().numpy(), dtype=np.float64)
        if np.any(values.std(axis=0) < 1e-2 * np.abs(values).max(axis=0)):
            return                  # a channel of W u is nearly constant: centring it cancels
                                    # most digits (in float32 all of them), so no identity is exact
        y = training_batch_norm(z, None, None, eps=0.0)
        (dweight,) = grad(y, [weight], tg.tensor(dy, dtype=dtype, device=device))
        results.append((y.detach().numpy(), dweight.numpy() * a))
    (y1, g1), (ya, ga) = results
    tol = TOLERANCE[dtype] * 100
    np.testing.assert_allclose(ya, y1, atol=tol)
    np.testing.assert_allclose(ga, g1, atol=tol * (np.abs(g1).max() + 1))


@DTYPES
@given(case=cases(), seed=st.integers(0, 2 ** 32 - 1))
def test_shift_invariance(device, dtype, case, seed):
    rng = np.random.default_rng(seed)
    shift = rng.uniform(-10, 10, case.channels).reshape(channel_shape(case.x))
    dy = rng.standard_normal(case.x.shape)
    y, grads = forward_backward(case, dy, dtype, device)
    shifted = type(case)(case.x + shift, case.weight, case.bias)
    y_shifted, grads_shifted = forward_backward(shifted, dy, dtype, device)
    tol = TOLERANCE[dtype] * 100
    np.testing.assert_allclose(y_shifted, y, atol=tol)
    for g, g_shifted in zip(grads, grads_shifted):
        np.testing.assert_allclose(g_shifted, g, atol=tol * (np.abs(g).max() + 1))
