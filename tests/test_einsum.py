"""tg.einsum: values against numpy.einsum for explicit and implicit equations, "..." with
broadcasting, letters only one operand has, several operands; gradcheck and gradgradcheck
(float64, random upstream gradient) for each; PyTorch's errors; torch's own results where
it is installed."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.ops.einsum import parse
from opcheck import check_op

CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),                       # implicit output: ik
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ij,j->j", [(3, 2), (2,)]),                       # i belongs to the first operand alone
    ("ij,ij->i", [(1, 3), (4, 3)]),                    # an axis of size 1 broadcast
    ("...ij,...jk->...ik", [(1, 2, 3), (3, 3, 2)]),
    ("...ij,jk", [(2, 2, 3), (3, 2)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 2)]),
    ("i j k -> k j", [(2, 3, 2)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]),  # attention scores
]


@pytest.mark.parametrize("equation, shapes", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(device, equation, shapes):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(shape) for shape in shapes]
    check_op(lambda *ts: tg.einsum(equation, *ts), lambda *arrs: np.einsum(equation, *arrs), arrays, device)


def test_the_implicit_output_is_numpys():
    for equation, shapes in CASES:
        if "->" not in equation:
            inputs, output = parse(equation, shapes)
            arrays = [np.ones(s) for s in shapes]
            assert np.einsum(equation, *arrays).shape == np.einsum(",".join(inputs) + "->" + output, *arrays).shape
    assert parse("ba,ac", [(2, 3), (3, 4)]) == (("ba", "ac"), "bc")              # alphabetical, not by position
    inputs, output = parse("...i,i", [(5, 6, 2), (2,)])                             # "..." first, then once-used
    assert len(output) == 2 and inputs[0] == output + "i" and inputs[1] == "i"


def test_operands_as_one_list_and_float32(device):
    a, b = tg.randn(2, 3, device=device), tg.randn(3, 4, device=device)
    out = tg.einsum("ij,jk->ik", [a, b])
    assert out.dtype == tg.float32 and out.device == device
    np.testing.assert_allclose(out.numpy(), a.numpy() @ b.numpy(), rtol=1e-5, atol=1e-6)


def test_pytorchs_errors(device):
    a = tg.randn(2, 3, device=device)
    with pytest.raises(ValueError, match="has 2 operand\\(s\\) but 1 were given"):
        tg.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="operand 0 has 2 dimensions but the subscripts 'ijk' name 3"):
        tg.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="output subscript 'z'"):
        tg.einsum("ij->z", a)
    with pytest.raises(ValueError, match="invalid subscripts"):
        tg.einsum("i1->i", a)
    with pytest.raises(NotImplementedError, match="repeats a letter"):
        tg.einsum("ii->i", tg.randn(3, 3, device=device))
    with pytest.raises(TypeError, match="operand 1 must be a Tensor, not list"):
        tg.einsum("ij,jk->ik", a, [[1.0]])


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for equation, shapes in CASES:
        arrays = [rng.standard_normal(shape) for shape in shapes]
        ours = [tg.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out, expected = tg.einsum(equation, *ours), torch.einsum(equation, *theirs)
        upstream = rng.standard_normal(tuple(expected.shape))
        out.backward(tg.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
