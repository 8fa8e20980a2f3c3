"""erf (Cody's rational approximations, ops/special.py) and GELU: erf and erfc against the
C library's (Python's math.erf / math.erfc) to a few units in the last place over the whole
line, the tails and the special values; Erf and GELU (both forms) against references and
through gradcheck and gradgradcheck (float64, random upstream gradient); the identity
gelu(x) - gelu(-x) = x; PyTorch's errors; torch's own results where it is installed."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.ops.special import erf_array, erfc_array
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op

GRID = np.concatenate([np.linspace(-30, 30, 24001), np.geomspace(1e-300, 1, 600), -np.geomspace(1e-300, 1, 600),
                       [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 1e10, -1e10]])


def exact(function, xs):
    return np.array([function(v) for v in xs])


def max_relative_error(values, reference):
    kept = reference != 0
    return np.max(np.abs(values[kept] - reference[kept]) / np.abs(reference[kept]))


def test_erf_and_erfc_agree_with_the_c_library_in_float64():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # no overflow or 0/0 on the way
        erf, erfc = erf_array(np, GRID), erfc_array(np, GRID)
    assert max_relative_error(erf, exact(math.erf, GRID)) < 1e-15
    normal = exact(math.erfc, GRID) > np.finfo(np.float64).tiny     # (denormal results keep fewer digits)
    assert max_relative_error(erfc[normal], exact(math.erfc, GRID[normal])) < 2e-15
    assert np.array_equal(np.signbit(erf), np.signbit(GRID))       # odd, including -0.0


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, 40.0, -40.0])
    np.testing.assert_array_equal(erf_array(np, x), [1.0, -1.0, np.nan, 0.0, 1.0, -1.0])
    np.testing.assert_array_equal(erfc_array(np, x), [0.0, 2.0, np.nan, 1.0, 0.0, 2.0])


def test_float32_is_the_float64_result_rounded_once():
    x = np.linspace(-6, 6, 5001, dtype=np.float32)
    assert erf_array(np, x).dtype == np.float32
    np.testing.assert_array_equal(erf_array(np, x), exact(math.erf, x.astype(np.float64)).astype(np.float32))


@given(x=tst.arrays(low=-2.5, high=2.5))              # (beyond, erf' = 2/sqrt(pi) e^(-x^2) is ~0)
def test_erf_op(device, x):
    check_op(lambda t: t.erf(), lambda a: exact(math.erf, a.ravel()).reshape(a.shape), [x], device)


def gelu_reference(a):
    return np.array([v * math.erfc(-v / math.sqrt(2)) / 2 for v in a.ravel()]).reshape(a.shape)


def gelu_tanh_reference(a):
    return a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3))) / 2


@given(x=tst.arrays(low=-4.0, high=6.0))               # (far left gelu' ~ 0: gradcheck would prove nothing)
def test_gelu(device, x):
    check_op(F.gelu, gelu_reference, [x], device)


@given(x=tst.arrays(low=-4.0, high=6.0))
def test_gelu_tanh(device, x):
    check_op(lambda t: F.gelu(t, approximate="tanh"), gelu_tanh_reference, [x], device)


@given(x=tst.arrays(low=-8.0, high=8.0))
def test_gelu_of_x_minus_gelu_of_minus_x_is_x(device, x):
    t = tg.tensor(x, device=device)
    np.testing.assert_allclose((F.gelu(t) - F.gelu(-t)).numpy(), x, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_gelu_far_out_is_finite_and_keeps_its_tail(device, dtype):
    x = tg.tensor([-1e4, -30.0, -10.0, 10.0, 1e4], dtype=dtype, requires_grad=True, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.gelu(x)
        y.sum().backward()
    values = y.detach().numpy()
    assert values[0] == 0 and values[1] <= 0 and values[-1] == 1e4 and values[-2] == pytest.approx(10)
    assert values[2] == pytest.approx(-10 * math.erfc(10 / math.sqrt(2)) / 2, rel=1e-5)   # -7.6e-23, not 0
    np.testing.assert_allclose(x.grad.numpy()[[0, -1]], [0.0, 1.0])


def test_pytorchs_errors(device):
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(tg.ones(2, device=device), approximate="fast")
    with pytest.raises(NotImplementedError, match="floating point only"):
        F.gelu(tg.tensor([1, 2], device=device))
    with pytest.raises(TypeError, match="argument 'input' \\(position 1\\) must be Tensor"):
        F.gelu([1.0])
    assert tg.erf(tg.tensor([0, 1], device=device)).dtype == tg.float32      # integers: a float32 result


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-7, 7, 141)
    upstream = np.random.default_rng(0).standard_normal(x.shape)
    for approximate in ("none", "tanh"):
        ours, theirs = nn.GELU(approximate), torch.nn.GELU(approximate)
        assert repr(ours) == repr(theirs)
        a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours(a).backward(tg.tensor(upstream))
        theirs(b).backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours(a).detach().numpy(), theirs(b).detach().numpy(), rtol=1e-13, atol=1e-15)
        # (far left the tanh form's 1 + tanh u cancels in both libraries: equal to 1e-12 absolute)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tg.erf(tg.tensor(x)).numpy(), torch.erf(torch.tensor(x)).numpy(), rtol=1e-15)
