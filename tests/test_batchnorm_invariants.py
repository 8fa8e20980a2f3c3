"""The BN proof, part 3: identities that BatchNorm must satisfy, checked on drawn cases.

In training, per channel with x_hat computed independently in NumPy:
output mean = beta and output variance = gamma^2 * s2 / (s2 + eps); the input
gradient sums to zero and is orthogonal to x_hat; dgamma = sum(dy * x_hat),
dbeta = sum(dy); scale invariance (paper, section 3.3): BN((aW)u) = BN(Wu) and
d/d(aW) = (1/a) d/dW; shift invariance BN(x + b) = BN(x), gradient included.
float64 on every device, and float32 with float32 tolerances.  The properties
themselves are in tinygrad_bn/testing/bn_properties.py (the exercise checks
run them too).
"""
import pytest
from hypothesis import given

import tinygrad_bn as tg
from tinygrad_bn.testing.bn_cases import cases
from tinygrad_bn.testing.bn_properties import (SCALE_INVARIANCE_ELEMENTS, check_gradient_identities,
                                               check_output_statistics, check_scale_invariance,
                                               check_shift_invariance, fused, scales, seeds)

DTYPES = pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])


@DTYPES
@given(case=cases())
def test_output_statistics(device, dtype, case):
    check_output_statistics(fused, case, dtype, device)


@DTYPES
@given(case=cases(), seed=seeds)
def test_gradient_identities(device, dtype, case, seed):
    check_gradient_identities(fused, case, seed, dtype, device)


@DTYPES
@given(case=cases(max_elements=SCALE_INVARIANCE_ELEMENTS), scale=scales, seed=seeds)
def test_scale_invariance(device, dtype, case, scale, seed):
    check_scale_invariance(fused, case, scale, seed, dtype, device)


@DTYPES
@given(case=cases(), seed=seeds)
def test_shift_invariance(device, dtype, case, seed):
    check_shift_invariance(fused, case, seed, dtype, device)
