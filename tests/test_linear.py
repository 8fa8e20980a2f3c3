"""F.linear (the fused op) and nn.Linear: forward against NumPy, gradcheck and
gradgradcheck over drawn shapes, no gradient work for inputs that do not need
it, errors, and PyTorch's default initialisation."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.ops.linear import Linear as LinearOp
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op


@st.composite
def linear_operands(draw, bias=True):
    """x of shape (*lead, in), W (out, in) and optionally b (out,); lead may be empty or several axes."""
    lead = draw(tst.shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    arrays = [draw(tst.arrays(lead + (n_in,), min_magnitude=0.1)), draw(tst.arrays((n_out, n_in), min_magnitude=0.1))]
    if bias:
        arrays.append(draw(tst.arrays((n_out,))))
    return arrays


@given(linear_operands(bias=True))
def test_linear_with_bias(device, arrays):
    check_op(F.linear, lambda x, w, b: x @ w.T + b, arrays, device)


@given(linear_operands(bias=False))
def test_linear_without_bias(device, arrays):
    check_op(F.linear, lambda x, w: x @ w.T, arrays, device)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, True), (False, True, False)])
def test_no_gradient_for_inputs_that_do_not_require_it(needs):
    x, w, b = (tg.randn(5, 3, dtype=tg.float64, requires_grad=needs[0]),
               tg.randn(2, 3, dtype=tg.float64, requires_grad=needs[1]),
               tg.randn(2, dtype=tg.float64, requires_grad=needs[2]))
    out = LinearOp.apply(x, w, b)
    grads = LinearOp.backward(out.grad_fn, tg.ones(5, 2, dtype=tg.float64))
    assert [g is not None for g in grads] == list(needs)


def test_gradient_formulas_by_hand():
    """dx = g W, dW = g^T x, db = column sums of g, written out with NumPy."""
    rng = np.random.default_rng(3)
    x, w, b, g = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2), \
        rng.standard_normal((4, 2))
    tx, tw, tb = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    F.linear(tx, tw, tb).backward(tg.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), g @ w, rtol=1e-12)
    np.testing.assert_allclose(tw.grad.numpy(), g.T @ x, rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), g.sum(0), rtol=1e-12)


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(5, 4\).*\(2, 3\) expects 3"):
        F.linear(tg.zeros(5, 4), tg.zeros(2, 3))
    with pytest.raises(ValueError, match=r"bias of shape \(3,\).*expected \(2,\)"):
        F.linear(tg.zeros(5, 3), tg.zeros(2, 3), tg.zeros(3))


def test_module_shapes_repr_and_no_bias(device):
    layer = nn.Linear(4, 3, device=device)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,) and layer.weight.dtype == np.float32
    assert layer.weight.device == device
    assert repr(layer) == "Linear(in_features=4, out_features=3, bias=True)"
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    bare = nn.Linear(4, 3, bias=False)
    assert bare.bias is None and len(list(bare.parameters())) == 1
    x = tg.randn(2, 4, device=device)
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy(),
                               rtol=1e-5)


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    """kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)): variance 1/(3 fan_in);
    the bias uses the same bound."""
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy().astype(np.float64), layer.bias.detach().numpy().astype(np.float64)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound          # the range is used up to its end
    n, var = w.size, bound ** 2 / 3
    # variance estimator of U(-c, c): Var(s^2) ~ (mu4 - var^2)/n with mu4 = c^4/5
    assert abs(w.var() - var) < 4 * math.sqrt((bound ** 4 / 5 - var ** 2) / n)


def test_init_is_reproducible_under_manual_seed():
    tg.manual_seed(7)
    a = nn.Linear(5, 3).weight.detach().numpy().copy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Linear(5, 3).weight.detach().numpy())
