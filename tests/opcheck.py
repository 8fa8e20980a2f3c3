"""The three checks every differentiable op gets in the property suite.

``check_op(op, reference, arrays, device)`` runs ``op`` on float64 leaves made
from ``arrays`` and asserts: the forward pass equals NumPy's ``reference`` on
the same arrays; ``gradcheck`` (central differences, random upstream
gradient); and ``gradgradcheck`` (the backward pass differentiated again).
"""
import numpy as np

import tinygrad_bn as tg


def leaves(arrays, device):
    """float64 tensors that require grad, one per array."""
    return [tg.tensor(a, requires_grad=True, device=device, dtype=tg.float64) for a in arrays]


def assert_forward(out, expected):
    """A tensor's values, shape and float64 dtype against a NumPy result."""
    expected = np.asarray(expected)
    assert out.shape == expected.shape, f"shape {out.shape}, NumPy gives {expected.shape}"
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-14)


def check_op(op, reference, arrays, device, gradgrad=True, allow_zero=False):
    inputs = leaves(arrays, device)
    assert_forward(op(*inputs), reference(*[np.asarray(a, dtype=np.float64) for a in arrays]))
    assert tg.gradcheck(op, inputs, allow_zero=allow_zero)
    if gradgrad:
        assert tg.gradgradcheck(op, inputs, allow_zero=allow_zero)
