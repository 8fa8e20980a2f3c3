"""Dropout (F.dropout and nn.Dropout): in training each element is zeroed with probability
p and the rest scaled by 1/(1 - p) (torch.nn.Dropout docs), with the mask from the library's
seeded generator; the identity in eval mode; p outside [0, 1] refused as torch does."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing import strategies as tst


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_zeros_with_probability_p_and_scales_the_rest(device, p):
    x = tg.ones(200, 500, device=device)
    y = F.dropout(x, p).numpy()
    dropped = (y == 0).mean()
    # the fraction of zeros is a binomial proportion: within 5 standard deviations of p
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / y.size)
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)       # kept: x / (1 - p)
    assert y.dtype == np.float32


def test_the_mask_comes_from_the_library_generator(device):
    """tg.manual_seed(s) fixes the mask, the same on every device: the host draw u ~ U[0, 1)
    of the seeded generator keeps the elements with u >= p."""
    x = np.arange(1.0, 13.0).reshape(3, 4)
    tg.manual_seed(7)
    y = F.dropout(tg.tensor(x, dtype=tg.float64, device=device), 0.25).numpy()
    keep = np.random.default_rng(7).random((3, 4)) >= 0.25
    np.testing.assert_allclose(y, np.where(keep, x / 0.75, 0), rtol=1e-15)


@given(x=tst.arrays(tst.shapes(min_dims=1)), p=st.floats(0.05, 0.95), seed=st.integers(0, 2 ** 32 - 1))
def test_gradient_is_the_same_mask(device, x, p, seed):
    def dropped(t):
        tg.manual_seed(seed)                          # one mask for every call gradcheck makes
        return F.dropout(t, p)
    inputs = [tg.tensor(x, requires_grad=True, device=device)]
    everything_dropped = not (np.random.default_rng(seed).random(x.shape) >= p).any()
    assert tg.gradcheck(dropped, inputs, allow_zero=everything_dropped)
    assert tg.gradgradcheck(dropped, inputs, allow_zero=True)            # linear: second derivative 0


def test_p_one_gives_zeros_and_zero_gradients(device):
    # torch 2.13: F.dropout(x, 1.0) is all zeros, and so is its gradient (no 0 * inf = nan)
    x = tg.ones(3, requires_grad=True, device=device)
    y = F.dropout(x, 1.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), np.zeros(3))
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


def test_identity_when_not_training_or_p_zero(device):
    # torch 2.13: F.dropout(x, 0.5, training=False) is x, and so are F.dropout(x, 0.0) and nn.Dropout().eval()(x)
    x = tg.randn(4, 3, device=device)
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    assert not np.array_equal(layer.train()(x).numpy(), x.numpy())


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_p_outside_zero_one_is_a_value_error(p):
    # torch 2.13: "dropout probability has to be between 0 and 1, but got 1.5", from nn.Dropout(1.5) itself
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(tg.ones(2), p)


def test_inplace_dropout_writes_the_same_mask_into_the_input(device):
    tg.manual_seed(4)
    expected = F.dropout(tg.ones(50, device=device), 0.3).numpy()
    tg.manual_seed(4)
    x = tg.ones(50, device=device)
    assert F.dropout(x, 0.3, inplace=True) is x
    np.testing.assert_array_equal(x.numpy(), expected)
    w = tg.ones(6, requires_grad=True, device=device)
    tg.manual_seed(4)
    y = nn.Dropout(0.5, inplace=True)(w * 1.0)        # in place on a non-leaf: recorded
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), y.detach().numpy())    # mask * 1/(1-p), as dy/dw


def test_module_defaults_repr_and_state():
    layer = nn.Dropout()
    assert (layer.p, layer.inplace) == (0.5, False)
    assert repr(layer) == "Dropout(p=0.5, inplace=False)" and repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []


def test_repr_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))
    with pytest.raises(ValueError) as theirs:
        torch.nn.Dropout(1.5)
    with pytest.raises(ValueError) as ours:
        nn.Dropout(1.5)
    assert str(ours.value) == str(theirs.value)
