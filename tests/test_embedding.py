"""F.embedding and nn.Embedding: the lookup against NumPy indexing, the gradient against
float64 central differences (random upstream gradient) and against its closed form (rows
scattered back, none for padding_idx, divided by the index counts with
scale_grad_by_freq), the max_norm renorm against its formula, PyTorch's errors (an
out-of-range index raises on every device and changes nothing), and torch's own results
where it is installed."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.gradcheck import gradcheck, gradgradcheck


@st.composite
def tables_and_indices(draw):
    rows = draw(st.integers(1, 6))
    dim = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, dim)), rng.integers(0, rows, shape), rng


def scattered_rows(index, upstream, rows, padding_idx=None, by_frequency=False):
    """dL/dW by its definition, one looked-up position at a time."""
    counts = np.bincount(index.ravel(), minlength=rows)
    grad = np.zeros((rows, upstream.shape[-1]))
    for position in np.ndindex(index.shape):
        row = index[position]
        if row != padding_idx:
            grad[row] += upstream[position] / (counts[row] if by_frequency else 1)
    return grad


@given(case=tables_and_indices())
def test_the_lookup_is_numpys_indexing(device, case):
    table, index, _ = case
    out = F.embedding(tg.tensor(index, device=device), tg.tensor(table, device=device))
    assert out.shape == index.shape + table.shape[1:]
    np.testing.assert_array_equal(out.numpy(), table[index])


@given(case=tables_and_indices(), padding=st.booleans(), by_frequency=st.booleans())
def test_the_gradient_scatters_the_rows_back(device, case, padding, by_frequency):
    table, index, rng = case
    padding_idx = int(rng.integers(0, table.shape[0])) if padding else None
    weight = tg.tensor(table, requires_grad=True, device=device)
    upstream = rng.standard_normal(index.shape + table.shape[1:])
    out = F.embedding(tg.tensor(index, device=device), weight, padding_idx=padding_idx,
                      scale_grad_by_freq=by_frequency)
    out.backward(tg.tensor(upstream, device=device))
    np.testing.assert_allclose(weight.grad.numpy(), scattered_rows(index, upstream, table.shape[0], padding_idx,
                                                                  by_frequency), rtol=1e-12, atol=1e-12)


def test_gradcheck_with_repeated_indices(device):
    rng = np.random.default_rng(3)
    weight = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True, device=device)
    index = tg.tensor([[0, 1, 1], [4, 1, 0]], device=device)
    assert gradcheck(lambda w: F.embedding(index, w), weight)


@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True}])
def test_the_gradient_differentiates_again(device, options):
    # padding_idx and scale_grad_by_freq change the gradient by definition (gradcheck
    # would refuse them); the gradient itself must still differentiate correctly
    rng = np.random.default_rng(4)
    weight = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True, device=device)
    index = tg.tensor([[0, 1, 1], [4, 1, 0]], device=device)
    assert gradgradcheck(lambda w: F.embedding(index, w, **options), weight, allow_zero=True)


def test_max_norm_rescales_the_looked_up_rows_in_place(device):
    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 4)) * 3
    weight = tg.tensor(table, requires_grad=True, device=device)
    version = weight._version[0]
    out = F.embedding(tg.tensor([1, 1, 4, 5], device=device), weight, max_norm=1.5)
    norms = np.linalg.norm(table, axis=1)
    expected = table.copy()
    for row in (1, 4, 5):
        if norms[row] > 1.5:
            expected[row] *= 1.5 / (norms[row] + 1e-7)
    np.testing.assert_allclose(weight.detach().numpy(), expected, rtol=1e-12)     # rows 0, 2, 3 untouched
    np.testing.assert_allclose(out.detach().numpy(), expected[[1, 1, 4, 5]], rtol=1e-12)
    assert weight._version[0] == version + 1 and weight.is_leaf and weight.requires_grad


def test_max_norm_with_another_norm_type(device):
    table = np.array([[3.0, -4.0], [0.1, 0.2]])
    weight = tg.tensor(table, device=device)
    F.embedding(tg.tensor([0, 1], device=device), weight, max_norm=2.0, norm_type=1.0)
    np.testing.assert_allclose(weight.numpy(), [[3.0 * 2 / (7 + 1e-7), -4.0 * 2 / (7 + 1e-7)], [0.1, 0.2]])
    weight = tg.tensor(table, device=device)
    F.embedding(tg.tensor([0], device=device), weight, max_norm=2.0, norm_type=math.inf)
    np.testing.assert_allclose(weight.numpy()[0], [3.0 * 2 / (4 + 1e-7), -4.0 * 2 / (4 + 1e-7)])


@pytest.mark.parametrize("bad", [6, -1, 100])
@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_an_index_out_of_range_raises_on_every_device_and_changes_nothing(device, bad, max_norm):
    table = np.arange(12.0).reshape(6, 2)
    weight = tg.tensor(table, requires_grad=True, device=device)
    with pytest.raises(IndexError, match=f"index out of range in self: embedding index {bad} is outside \\[0, 6\\)"):
        F.embedding(tg.tensor([0, bad, 2], device=device), weight, max_norm=max_norm)
        tg.backend.run_deferred_checks()                  # on the GPU the check is read with the next read-back
    np.testing.assert_array_equal(weight.detach().numpy(), table)
    assert weight._version[0] == 0


def test_pytorchs_errors(device):
    weight = tg.randn(4, 3, device=device)
    with pytest.raises(RuntimeError, match="expected indices of dtype int64 or int32"):
        F.embedding(tg.tensor([0.0, 1.0], device=device), weight)
    with pytest.raises(TypeError, match="argument 'input' \\(position 1\\) must be Tensor, not list"):
        F.embedding([0, 1], weight)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(tg.tensor([0], device=device), tg.randn(4, device=device))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(tg.tensor([0], device=device), weight, padding_idx=4)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(tg.tensor([0], device=device), weight, sparse=True)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(4, 3, padding_idx=-5)


def test_int32_indices_and_a_negative_padding_idx(device):
    layer = nn.Embedding(5, 2, padding_idx=-1, device=device)
    assert layer.padding_idx == 4 and not layer.weight.detach().numpy()[4].any()
    out = layer(tg.tensor(np.array([4, 0], dtype=np.int32), device=device))
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[[0, 4]], [[1, 1], [0, 0]])


def test_the_module_starts_from_standard_normal_draws(device):
    tg.manual_seed(0)
    weight = nn.Embedding(400, 50, device=device).weight.detach().numpy()
    assert weight.dtype == np.float32 and weight.shape == (400, 50)
    assert abs(weight.mean()) < 0.02 and abs(weight.std() - 1) < 0.02       # 20,000 draws: 5 sigma is 0.035


def test_from_pretrained_shares_the_table_and_freezes_it(device):
    table = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight._data is table._data
    trained = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    trained(tg.tensor([0, 1, 1], device=device)).sum().backward()
    np.testing.assert_array_equal(trained.weight.grad.numpy(), [[0, 0], [2, 2]])
    assert list(trained.state_dict()) == ["weight"]
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(tg.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(3, 2, _weight=table)


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    table = rng.standard_normal((7, 3)).astype(np.float32) * 2
    index = np.array([[0, 3, 3], [6, 0, 2]])
    upstream = rng.standard_normal((2, 3, 3)).astype(np.float32)
    for options in ({}, {"padding_idx": 3}, {"scale_grad_by_freq": True, "padding_idx": -1},
                    {"max_norm": 1.0}, {"max_norm": 2.0, "norm_type": 1.0}):
        ours = nn.Embedding.from_pretrained(tg.tensor(table.copy()), freeze=False, **options)
        theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table.copy()), freeze=False, **options)
        assert repr(ours) == repr(theirs)
        out, expected = ours(tg.tensor(index)), theirs(torch.tensor(index))
        out.backward(tg.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert repr(nn.Embedding(10, 4, max_norm=1.0, sparse=True)) == repr(torch.nn.Embedding(10, 4, max_norm=1.0,
                                                                                           sparse=True))
