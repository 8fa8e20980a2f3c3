"""nn.Flatten: axes start_dim..end_dim merged into one (default: all but the batch axis), as torch.nn.Flatten."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


@pytest.mark.parametrize("start_dim, end_dim, expected", [
    (1, -1, (2, 60)), (0, -1, (120,)), (0, 1, (6, 4, 5)), (1, 2, (2, 12, 5)), (-2, -1, (2, 3, 20)), (2, 2, (2, 3, 4, 5)),
])
def test_shapes_and_values(device, start_dim, end_dim, expected):
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    y = nn.Flatten(start_dim, end_dim)(tg.tensor(x, device=device))
    assert y.shape == expected
    np.testing.assert_array_equal(y.numpy(), x.reshape(expected))       # C order: values in the same sequence


def test_gradient_flows_back_in_the_input_shape(device):
    x = tg.randn(2, 3, 4, dtype=tg.float64, requires_grad=True, device=device)
    assert tg.gradcheck(nn.Flatten(), [x])
    nn.Flatten()(x).backward(tg.ones(2, 12, dtype=tg.float64, device=device))
    assert x.grad.shape == (2, 3, 4)


def test_repr_as_torch():
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Flatten(0, 2)) == "Flatten(start_dim=0, end_dim=2)"


def test_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(24.0).reshape(2, 3, 4)
    for dims in [(1, -1), (0, 1), (0, -1)]:
        assert nn.Flatten(*dims)(tg.tensor(x)).shape == tuple(torch.nn.Flatten(*dims)(torch.tensor(x)).shape)
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
