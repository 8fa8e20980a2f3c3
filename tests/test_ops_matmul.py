"""Matrix product with NumPy's rules (1-D, 2-D, batched with broadcasting):
forward against np.matmul, gradcheck and gradgradcheck."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import strategies as tst
from opcheck import check_op

sides = st.integers(1, 4)


@st.composite
def matmul_operands(draw):
    """Two arrays NumPy can multiply: each 1-D, 2-D or batched, batch axes broadcasting."""
    m, k, n = draw(sides), draw(sides), draw(sides)
    batch_x, batch_y = draw(tst.broadcastable_shapes(max_dims=2, max_side=3))
    kind_x, kind_y = draw(st.sampled_from(["vector", "matrix", "batch"])), \
        draw(st.sampled_from(["vector", "matrix", "batch"]))
    shape_x = {"vector": (k,), "matrix": (m, k), "batch": batch_x + (m, k)}[kind_x]
    shape_y = {"vector": (k,), "matrix": (k, n), "batch": batch_y + (k, n)}[kind_y]
    return draw(tst.arrays(shape_x, min_magnitude=0.1)), draw(tst.arrays(shape_y, min_magnitude=0.1))


@given(operands=matmul_operands())
def test_matmul(device, operands):
    check_op(lambda a, b: a @ b, np.matmul, list(operands), device)


@given(operands=matmul_operands())
def test_matmul_method_and_numpy_operand(device, operands):
    x, y = operands
    check_op(lambda a: a.matmul(y), lambda a: a @ y, [x], device, gradgrad=False)
    check_op(lambda b: x @ b, lambda b: x @ b, [y], device, gradgrad=False)


def test_matmul_gradients_by_hand(device):
    """d(x^T A y)/dx = A y and /dy = A^T x."""
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = tg.tensor(np.array([1.0, -1.0]), requires_grad=True, device=device)
    y = tg.tensor(np.array([2.0, 0.5]), requires_grad=True, device=device)
    (x @ tg.tensor(a, device=device) @ y).backward()
    np.testing.assert_allclose(x.grad.numpy(), a @ [2.0, 0.5])
    np.testing.assert_allclose(y.grad.numpy(), a.T @ [1.0, -1.0])


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3,), (4,)), ((), (3,)), ((2, 3), ())])
def test_matmul_shape_errors_name_the_shapes(device, shapes):
    x, y = (tg.zeros(s, device=device) for s in shapes)
    with pytest.raises(ValueError, match="matmul"):
        x @ y
