"""nn.utils.clip_grad_norm_ and clip_grad_value_: the total norm against NumPy's norm of all the
gradient entries at once, the clipped norm against max_norm, PyTorch's special cases, and the
same results as torch where it is installed."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def parameters_with_gradients(device, grads):
    params = []
    for g in grads:
        p = nn.Parameter(tg.zeros(*np.shape(g), device=device))
        p.grad = tg.tensor(np.asarray(g, np.float32), device=device)
        params.append(p)
    return params


GRADS = [np.array([[3.0, -4.0], [0.5, 2.0]]), np.array([1.0, -1.0, 12.0])]


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_total_norm_and_clipping(device, norm_type, max_norm):
    params = parameters_with_gradients(device, GRADS)
    every = np.concatenate([g.ravel() for g in GRADS])
    q = float(norm_type)
    expected = np.abs(every).max() if q == math.inf else (np.abs(every) ** q).sum() ** (1 / q)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert total.shape == () and total.device == device
    assert total.item() == pytest.approx(expected, rel=1e-6)
    clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
    scale = min(1.0, max_norm / (expected + 1e-6))
    np.testing.assert_allclose(clipped, every * scale, rtol=1e-6)
    clipped_norm = np.abs(clipped).max() if q == math.inf else (np.abs(clipped) ** q).sum() ** (1 / q)
    assert clipped_norm <= max_norm * (1 + 1e-6)


def test_parameters_without_gradients_are_skipped_and_none_gives_zero(device):
    with_grad, without = parameters_with_gradients(device, GRADS[:1])[0], nn.Parameter(tg.ones(2, device=device))
    assert nn.utils.clip_grad_norm_([with_grad, without], 1.0).item() == pytest.approx(np.sqrt(29.25))
    assert without.grad is None
    assert nn.utils.clip_grad_norm_([without], 1.0).item() == 0.0
    single = parameters_with_gradients(device, GRADS[1:])[0]
    assert nn.utils.clip_grad_norm_(single, 1e3).item() == pytest.approx(np.sqrt(146.0))    # one Tensor


def test_the_gradient_tensor_is_changed_in_place_and_its_version_moves(device):
    p = parameters_with_gradients(device, GRADS[:1])[0]
    grad, version = p.grad, p.grad._version[0]
    nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad is grad and grad._version[0] == version + 1
    assert p.tolist() == [[0.0, 0.0], [0.0, 0.0]]                   # the parameter itself is left alone


def test_a_non_finite_norm_scales_silently_or_raises_if_asked(device):
    p = parameters_with_gradients(device, [np.array([np.nan, 1.0])])[0]
    assert math.isnan(nn.utils.clip_grad_norm_(p, 1.0).item())
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_every_entry(device):
    params = parameters_with_gradients(device, GRADS)
    assert nn.utils.clip_grad_value_(params, 1.5) is None
    for p, g in zip(params, GRADS):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -1.5, 1.5).astype(np.float32))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_the_same_as_torch(norm_type):
    torch = pytest.importorskip("torch")
    ours = parameters_with_gradients("cpu", GRADS)
    theirs = [torch.nn.Parameter(torch.zeros(np.shape(g))) for g in GRADS]
    for p, g in zip(theirs, GRADS):
        p.grad = torch.tensor(g, dtype=torch.float32)
    ours_total = nn.utils.clip_grad_norm_(ours, 2.0, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type=norm_type)
    assert ours_total.item() == pytest.approx(their_total.item(), rel=1e-6)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-6)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    nn.utils.clip_grad_value_(ours, 0.1)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-6)
