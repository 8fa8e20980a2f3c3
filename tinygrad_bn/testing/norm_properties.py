"""The properties of the normalization family (LayerNorm, GroupNorm, InstanceNorm, ghost
batches), read the same way as BatchNorm's in bn_properties.

Each ``check_*`` takes the implementation under test, called as ``norm(x, weight,
bias, eps=...)`` (weight and bias None without affine, like ``fused(case)`` and
``composed(case)`` below), and one NormCase (norm_cases), returns None when the
property holds and raises PropertyFailure when it does not.  Per group (a row of
``case.rows``), with x_hat and s2 from NumPy:

    check_group_statistics      x_hat = (y - beta)/gamma has mean 0 and variance s2/(s2 + eps)
    check_gradient_identities   sum dx = 0 and (eps = 0) sum dx x_hat = 0 per group, for a random
                                upstream gradient dy: the output does not change when a group's
                                inputs are shifted or (without eps) scaled; and dgamma = sum dy x_hat,
                                dbeta = sum dy over the axes weight and bias are shared along

First and second derivatives and fused == composed are bn_properties' own
check_gradcheck, check_gradgradcheck and check_same_as, which take these cases as they are.
"""
import numpy as np

from .. import functional as F
from ..nn.normalization_reference import (ghost_batch_norm_composed, group_norm_composed, instance_norm_composed,
                                          layer_norm_composed)
from ..ops.ghost_batch_norm import GhostBatchNorm
from ..tensor import float64
from .bn_properties import TOLERANCE, assert_close, forward_backward, output_of, differentiable_inputs
from .norm_cases import numpy_group_normalize


def fused(case):
    """The library's fused op for the case's layer, called as norm(x, weight, bias, eps=...).
    Ghost batches in training with eps = 0, which F.ghost_batch_norm refuses as
    batch_norm does, go to the op itself (the identities exact only without eps need it)."""
    if case.kind == "layer":
        return lambda x, weight, bias, eps=1e-5: F.layer_norm(x, case.normalized_shape, weight, bias, eps)
    if case.kind == "group":
        return lambda x, weight, bias, eps=1e-5: F.group_norm(x, case.size, weight, bias, eps)
    if case.kind == "instance":
        return lambda x, weight, bias, eps=1e-5: F.instance_norm(x, None, None, weight, bias, eps=eps)

    def ghost(x, weight, bias, eps=1e-5):
        if eps > 0:
            return F.ghost_batch_norm(x, x.shape[0] // case.size, None, None, weight, bias, True, 0.0, eps)
        return GhostBatchNorm.apply(x, weight, bias, None, None, (0.0,) * case.size, eps)
    return ghost


def composed(case):
    """The case's layer composed from primitive ops (nn/normalization_reference.py)."""
    if case.kind == "layer":
        return lambda x, weight, bias, eps=1e-5: layer_norm_composed(x, case.normalized_shape, weight, bias, eps)
    if case.kind == "group":
        return lambda x, weight, bias, eps=1e-5: group_norm_composed(x, case.size, weight, bias, eps)
    if case.kind == "instance":
        return instance_norm_composed
    return lambda x, weight, bias, eps=1e-5: ghost_batch_norm_composed(x, x.shape[0] // case.size, weight, bias,
                                                                       eps)


def _affine_of(case):
    """(gamma, beta) broadcastable against the input: 1 and 0 without affine."""
    if case.weight is None:
        return 1.0, 0.0
    return case.broadcast(case.weight), case.broadcast(case.bias)


def check_group_statistics(norm, case, dtype=float64, device=None):
    """In every group, x_hat = (y - beta)/gamma has mean 0 and variance s2/(s2 + eps),
    s2 the group's biased variance (gamma = 1, beta = 0 without affine)."""
    inputs = differentiable_inputs(case, dtype, device)
    y = output_of(norm, inputs, case, dtype).detach().numpy().astype(np.float64)
    gamma, beta = _affine_of(case)
    x_hat = case.rows((y - beta) / gamma)
    s2 = numpy_group_normalize(case)[1].reshape(-1)
    tol = TOLERANCE[dtype] * 10
    where = dict(quantity="output", case=case, per_channel=True, unit="group")
    assert_close(x_hat.mean(axis=1), 0, rtol=0, atol=tol, what="mean of x_hat = (y - beta)/gamma",
                 should="in each group x_hat = (y - beta)/gamma should have mean 0", **where)
    assert_close(x_hat.var(axis=1), s2 / (s2 + 1e-5), rtol=tol, atol=tol, what="variance of x_hat",
                 should="in each group x_hat = (y - beta)/gamma should have variance s2/(s2 + eps), s2 the "
                        "group's biased variance", **where)


def check_gradient_identities(norm, case, seed, dtype=float64, device=None):
    """For a random upstream gradient dy, in every group: sum dx = 0, and for eps = 0
    sum dx x_hat = 0 (with eps it is not exact); dgamma = sum dy x_hat and dbeta =
    sum dy over the axes gamma and beta are shared along."""
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    x_hat, s2 = numpy_group_normalize(case)
    gamma = np.abs(_affine_of(case)[0]) * np.ones(case.x.shape)
    # the size of the terms that cancel: |gamma dy| / sigma, summed over a group
    tol = TOLERANCE[dtype] * (case.rows(np.abs(gamma * dy)).sum(axis=1) / np.sqrt(s2.reshape(-1))).max()
    where = dict(case=case, context=f"upstream gradient from seed {seed}", per_channel=True, unit="group")
    _, (dx_exact, *_) = forward_backward(norm, case, dy, dtype, device, eps=0.0)
    assert_close(case.rows(dx_exact).sum(axis=1), 0, rtol=0, atol=tol, what="sum", quantity="dx", **where,
                 should="with eps = 0, dx should sum to 0 over each group (shifting all of a group's inputs "
                        "changes nothing)")
    x_hat_exact = case.rows(numpy_group_normalize(case, eps=0.0)[0])
    assert_close((case.rows(dx_exact) * x_hat_exact).sum(axis=1), 0, rtol=0, atol=tol, what="sum of dx * x_hat",
                 quantity="dx", **where,
                 should="with eps = 0, dx should be orthogonal to x_hat in each group (scaling all of a group's "
                        "inputs changes nothing)")
    _, grads = forward_backward(norm, case, dy, dtype, device)
    assert_close(case.rows(grads[0]).sum(axis=1), 0, rtol=0, atol=tol, what="sum", quantity="dx", **where,
                 should="dx should sum to 0 over each group")
    if case.weight is not None:
        scale = TOLERANCE[dtype] * np.abs(dy).sum()
        axes = case.shared_axes
        for name, quantity, g, summed, terms in (("dgamma", "dweight", grads[1], "dy * x_hat", dy * x_hat),
                                                 ("dbeta", "dbias", grads[2], "dy", dy)):
            assert_close(g, terms.sum(axis=axes).reshape(case.affine_shape), rtol=TOLERANCE[dtype], atol=scale,
                         what=name, quantity=quantity, case=case, context=f"upstream gradient from seed {seed}",
                         should=f"{name} should be the sum of {summed} over the axes {axes} it is shared along")
