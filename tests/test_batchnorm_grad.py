"""The BN proof, part 1 and 2: BatchNorm's derivatives are right.

1. gradcheck and gradgradcheck of F.batch_norm (training and eval) with respect
   to x, weight and bias, against central differences with a random upstream
   gradient (never a plain sum(): it makes dx identically zero).
2. The fused op equals the composed reference (primitive ops differentiated by
   autograd) in the forward pass, every first derivative and the second
   derivatives, to float64 precision; and on every device in float32 within
   float32 tolerances.
"""
import numpy as np
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn.autograd import grad
from tinygrad_bn.nn.batchnorm_reference import batch_norm_composed

from bn_cases import cases

GRADCHECK_ELEMENTS = 60       # central differences cost two forward passes per element
GRADGRADCHECK_ELEMENTS = 24


def training(x, weight, bias):
    return F.batch_norm(x, None, None, weight, bias, training=True)


def inputs_of(case, device="cpu"):
    return [t for t in case.tensors(device=device) if t is not None]


def two_values_without_affine(case):
    """m = 2 values per channel and no affine: x_hat is +-1 whatever x is (up to
    eps), so every derivative is ~0 and gradcheck must be told that is expected."""
    return case.weight is None and case.x.size // case.channels == 2


def call(fn, case):
    """fn(x, weight, bias) as a function of the tensors that exist (affine off: x only)."""
    if case.weight is None:
        return lambda x: fn(x, None, None)
    return fn


@given(cases(max_elements=GRADCHECK_ELEMENTS))
def test_training_gradcheck(device, case):
    assert tg.gradcheck(call(training, case), inputs_of(case, device), allow_zero=two_values_without_affine(case))


@given(cases(max_elements=GRADGRADCHECK_ELEMENTS))
def test_training_gradgradcheck(device, case):
    assert tg.gradgradcheck(call(training, case), inputs_of(case, device),
                            allow_zero=two_values_without_affine(case))


@given(cases(max_elements=GRADCHECK_ELEMENTS), st.integers(0, 2 ** 32 - 1))
def test_eval_mode_is_differentiable(device, case, seed):
    """Eval mode is the affine map with the running statistics: gradients of
    first and second order w.r.t. x, weight and bias (none for the buffers)."""
    rng = np.random.default_rng(seed)
    running_mean = tg.tensor(rng.uniform(-3, 3, case.channels), dtype=tg.float64, device=device)
    running_var = tg.tensor(rng.uniform(0.2, 4, case.channels), dtype=tg.float64, device=device)

    def evaluate(x, weight, bias):
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=False)

    assert tg.gradcheck(call(evaluate, case), inputs_of(case, device))
    assert tg.gradgradcheck(call(evaluate, case), inputs_of(case, device))


def test_running_buffers_do_not_change_the_training_gradient():
    """The in-place running update inside the op is invisible to autograd."""
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.normal(size=(6, 3)), dtype=tg.float64, requires_grad=True)
    weight = tg.tensor(rng.normal(size=3), dtype=tg.float64, requires_grad=True)
    running_mean, running_var = tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64)
    assert tg.gradcheck(lambda x, w: F.batch_norm(x, running_mean, running_var, w, None, training=True),
                        (x, weight))


def _first_and_second_derivatives(fn, case, dy, v):
    """Output, the gradients for upstream dy, and the gradients of <dx, v> (second order)."""
    inputs = inputs_of(case)
    y = fn(*inputs, *([None, None] if len(inputs) == 1 else []))
    grads = grad(y, inputs, tg.tensor(dy), create_graph=True)
    second = grad((grads[0] * tg.tensor(v)).sum(), inputs, allow_unused=True)
    return [y] + list(grads) + list(second)


@given(cases(), st.integers(0, 2 ** 32 - 1))
def test_fused_equals_composed_float64(case, seed):
    rng = np.random.default_rng(seed)
    dy, v = rng.standard_normal(case.x.shape), rng.standard_normal(case.x.shape)
    fused = _first_and_second_derivatives(training, case, dy, v)
    composed = _first_and_second_derivatives(batch_norm_composed, case, dy, v)
    for a, b in zip(fused, composed):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-11)


@given(cases(max_elements=16 * 16 * 4), st.integers(0, 2 ** 32 - 1))
def test_fused_float32_matches_float64(device, case, seed):
    """float32 on every device: the fused op against the float64 composed reference."""
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    results = {}
    for dtype, fn in ((tg.float32, training), (tg.float64, batch_norm_composed)):
        inputs = [t for t in case.tensors(dtype=dtype, device=device) if t is not None]
        y = fn(*inputs, *([None, None] if len(inputs) == 1 else []))
        grads = grad(y, inputs, tg.tensor(dy, dtype=dtype, device=device))
        results[dtype] = [y] + list(grads)
    for single, double in zip(results[tg.float32], results[tg.float64]):
        assert single.dtype == np.float32 and single.device == device
        expected = double.detach().numpy()
        scale = np.abs(expected).max() + 1
        np.testing.assert_allclose(single.detach().numpy(), expected, rtol=1e-4, atol=1e-4 * scale)
