"""tg.detect_anomaly(): the first op whose forward or backward makes a NaN/Inf is named, with its input shapes.

The NaNs and Infs here are made on purpose, so NumPy's "invalid value", "overflow" and
"divide by zero" RuntimeWarnings are expected and silenced for this file only.
"""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.autograd import is_grad_enabled

pytestmark = [pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")]


def anomaly_mode():
    from tinygrad_bn.autograd import _GradMode
    return _GradMode.anomaly


def test_log_of_a_negative_number_names_log_not_the_ops_after_it(device):
    x = tg.tensor([[1.0, -1.0, 2.0]], requires_grad=True, device=device)
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match=r"Log produced NaN or Inf in its forward \(input shapes: \(1, 3\)\)"):
            (x.log() * 2).sum()


def test_sqrt_of_a_negative_number_names_sqrt(device):
    x = tg.tensor([4.0, -4.0], device=device)          # forward checks hold without requires_grad too
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match=r"Sqrt produced NaN or Inf in its forward \(input shapes: \(2,\)\)"):
            x.sqrt()


def test_binary_op_names_both_input_shapes(device):
    x = tg.tensor([[1.0], [0.0]], requires_grad=True, device=device)
    zero = tg.zeros(3, device=device)
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match=r"Div produced NaN or Inf in its forward "
                                                   r"\(input shapes: \(2, 1\), \(3,\)\)"):
            x / zero


def test_sqrt_at_zero_is_finite_forward_but_infinite_backward(device):
    """sqrt(0) = 0, but d sqrt/dx = 1 / (2 sqrt x) = inf at 0: the error names Sqrt's backward
    (not the Div its backward formula uses)."""
    x = tg.tensor([0.0, 1.0], requires_grad=True, device=device)
    with tg.detect_anomaly():
        y = (x.sqrt() * 3).sum()                       # finite: no error yet
        with pytest.raises(tg.AnomalyError, match=r"^Sqrt produced NaN or Inf in its backward \(input shapes: \(2,\)\)"):
            y.backward()


def test_backward_anomaly_is_also_caught_by_grad_with_create_graph(device):
    x = tg.tensor([0.0], requires_grad=True, device=device)
    with tg.detect_anomaly():
        with pytest.raises(tg.AnomalyError, match="^Sqrt produced NaN or Inf in its backward"):
            tg.autograd.grad(x.sqrt().sum(), x, create_graph=True)


def test_finite_computations_pass_and_give_the_usual_gradient(device):
    x = tg.tensor([1.0, 4.0], requires_grad=True, device=device)
    with tg.detect_anomaly():
        x.sqrt().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])      # 1 / (2 sqrt x)


def test_outside_the_context_nothing_is_raised(device):
    x = tg.tensor([0.0, -1.0], requires_grad=True, device=device)
    y = x.sqrt().sum()                                 # NaN forward, no error
    y.backward()                                       # inf backward, no error
    assert np.isnan(y.item())
    assert np.isinf(x.grad.numpy()[0])


def test_mode_is_restored_after_the_block_even_when_it_raised(device):
    assert not anomaly_mode()
    with pytest.raises(tg.AnomalyError):
        with tg.detect_anomaly():
            assert anomaly_mode()
            tg.tensor([-1.0], device=device).log()
    assert not anomaly_mode()
    assert is_grad_enabled()
    tg.tensor([-1.0], device=device).log()             # checks are off again


def test_backward_error_leaves_anomaly_mode_and_grad_mode_as_they_were(device):
    x = tg.tensor([0.0], requires_grad=True, device=device)
    with tg.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(tg.AnomalyError):
            y.backward()
        assert anomaly_mode()                          # still inside the block
    assert not anomaly_mode()
    assert is_grad_enabled()


def test_nested_blocks_restore_the_outer_mode(device):
    with tg.detect_anomaly():
        with tg.detect_anomaly():
            pass
        assert anomaly_mode()
        with pytest.raises(tg.AnomalyError, match="Exp"):
            (tg.tensor([1000.0], device=device).exp())   # overflows to inf in float32
    assert not anomaly_mode()
