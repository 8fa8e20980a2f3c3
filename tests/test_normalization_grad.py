"""The BN proof for the normalization family, part 1 and 2: the derivatives are right.

For each fused op (F.layer_norm, F.group_norm, F.instance_norm, F.ghost_batch_norm):

1. gradcheck and gradgradcheck with respect to x, weight and bias against central
   differences with a random upstream gradient;
2. the fused op equals the composed reference (nn/normalization_reference.py,
   primitive ops differentiated by autograd) in the output, every first derivative
   and the second derivatives, in float64; and on every device in float32 against
   the float64 reference.

Batch Renormalization, whose backward is not the derivative of its forward
(r and d are held constant), has its own proof: tests/test_batch_renorm.py.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_bn.testing.bn_properties import (GRADCHECK_ELEMENTS, GRADGRADCHECK_ELEMENTS,
                                               check_float32_matches_float64, check_gradcheck, check_gradgradcheck,
                                               check_same_as, seeds)
from tinygrad_bn.testing.norm_cases import KINDS, norm_cases
from tinygrad_bn.testing.norm_properties import composed, fused

BY_KIND = pytest.mark.parametrize("kind", KINDS)
FEW = settings(max_examples=12)          # four layers, each with fewer examples than BatchNorm's 25


@BY_KIND
@FEW
@given(data=st.data())
def test_gradcheck(device, kind, data):
    case = data.draw(norm_cases(kind, max_elements=GRADCHECK_ELEMENTS))
    check_gradcheck(fused(case), case, device)


@BY_KIND
@FEW
@given(data=st.data())
def test_gradgradcheck(device, kind, data):
    case = data.draw(norm_cases(kind, max_elements=GRADGRADCHECK_ELEMENTS))
    check_gradgradcheck(fused(case), case, device)


@BY_KIND
@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_fused_equals_composed_float64(kind, data, seed):
    case = data.draw(norm_cases(kind))
    check_same_as(fused(case), composed(case), case, seed, reference_name="the composed reference")


@BY_KIND
@FEW
@given(data=st.data(), seed=seeds)
def test_fused_float32_matches_float64(device, kind, data, seed):
    """float32 on every device: the fused op against the float64 composed reference."""
    case = data.draw(norm_cases(kind))
    check_float32_matches_float64(fused(case), composed(case), case, seed, device)
