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
from hypothesis import given

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn.nn.batchnorm_reference import batch_norm_composed
from tinygrad_bn.testing.bn_cases import cases
from tinygrad_bn.testing.bn_properties import (GRADCHECK_ELEMENTS, GRADGRADCHECK_ELEMENTS,
                                               check_float32_matches_float64, check_gradcheck, check_gradgradcheck,
                                               check_same_as, differentiable_inputs, fused, of_inputs, seeds)


@given(cases(max_elements=GRADCHECK_ELEMENTS))
def test_training_gradcheck(device, case):
    check_gradcheck(fused, case, device)


@given(cases(max_elements=GRADGRADCHECK_ELEMENTS))
def test_training_gradgradcheck(device, case):
    check_gradgradcheck(fused, case, device)


@given(cases(max_elements=GRADCHECK_ELEMENTS), seeds)
def test_eval_mode_is_differentiable(device, case, seed):
    """Eval mode is the affine map with the running statistics: gradients of
    first and second order w.r.t. x, weight and bias (none for the buffers)."""
    rng = np.random.default_rng(seed)
    running_mean = tg.tensor(rng.uniform(-3, 3, case.channels), dtype=tg.float64, device=device)
    running_var = tg.tensor(rng.uniform(0.2, 4, case.channels), dtype=tg.float64, device=device)

    def evaluate(x, weight, bias):
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=False)

    assert tg.gradcheck(of_inputs(evaluate, case), differentiable_inputs(case, device=device))
    assert tg.gradgradcheck(of_inputs(evaluate, case), differentiable_inputs(case, device=device))


def test_running_buffers_do_not_change_the_training_gradient():
    """The in-place running update inside the op is invisible to autograd."""
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.normal(size=(6, 3)), dtype=tg.float64, requires_grad=True)
    weight = tg.tensor(rng.normal(size=3), dtype=tg.float64, requires_grad=True)
    running_mean, running_var = tg.zeros(3, dtype=tg.float64), tg.ones(3, dtype=tg.float64)
    assert tg.gradcheck(lambda x, w: F.batch_norm(x, running_mean, running_var, w, None, training=True),
                        (x, weight))


@given(cases(), seeds)
def test_fused_equals_composed_float64(case, seed):
    check_same_as(fused, batch_norm_composed, case, seed, reference_name="the composed reference")


@given(cases(max_elements=16 * 16 * 4), seeds)
def test_fused_float32_matches_float64(device, case, seed):
    """float32 on every device: the fused op against the float64 composed reference."""
    check_float32_matches_float64(fused, batch_norm_composed, case, seed, device)
