"""Subset and random_split, as torch.utils.data's: disjoint splits that cover the data set,
the lengths as counts or as fractions (floors, the remainder one by one to the splits in
order), reproducible from a seed or from tg.manual_seed, batched by DataLoader; torch's
split sizes where it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.utils.data import DataLoader, Subset, TensorDataset, random_split


def test_a_subset_is_its_indices_of_the_dataset(device):
    data = TensorDataset(tg.arange(10.0, device=device), tg.arange(10, device=device))
    part = Subset(data, [7, 2, 5])
    assert len(part) == 3 and part[1][0].item() == 2.0
    batches = [(x.tolist(), y.tolist()) for x, y in DataLoader(part, batch_size=2)]
    assert batches == [([7.0, 2.0], [7, 2]), ([5.0], [5])]


@given(n=st.integers(0, 50), cuts=st.lists(st.integers(0, 50), min_size=0, max_size=3), seed=st.integers(0, 99))
def test_counts_give_disjoint_splits_that_cover_everything(n, cuts, seed):
    cuts = sorted(min(c, n) for c in cuts)
    lengths = np.diff([0] + cuts + [n]).tolist()
    splits = random_split(list(range(n)), lengths, seed=seed)
    assert [len(s) for s in splits] == lengths
    drawn = [i for s in splits for i in s.indices]
    assert sorted(drawn) == list(range(n))
    assert [list(s) for s in splits] == [s.indices for s in splits]          # subset[i] is dataset[indices[i]]


def test_fractions_floor_and_hand_out_the_remainder_in_order():
    assert [len(s) for s in random_split(list(range(10)), [0.33, 0.33, 0.34], seed=0)] == [4, 3, 3]
    assert [len(s) for s in random_split(list(range(3)), [0.5, 0.5], seed=0)] == [2, 1]
    assert [len(s) for s in random_split(list(range(7)), [0.8, 0.2], seed=0)] == [6, 1]


def test_reproducible_from_a_seed_or_from_manual_seed():
    first = [s.indices for s in random_split(list(range(20)), [15, 5], seed=3)]
    assert first == [s.indices for s in random_split(list(range(20)), [15, 5], seed=3)]
    tg.manual_seed(1)
    a = [s.indices for s in random_split(list(range(20)), [0.5, 0.5])]
    tg.manual_seed(1)
    assert a == [s.indices for s in random_split(list(range(20)), [0.5, 0.5])]


def test_lengths_that_do_not_add_up_are_refused():
    with pytest.raises(ValueError, match="Sum of input lengths \\(9\\) does not equal the length of the input dataset \\(10\\)"):
        random_split(list(range(10)), [5, 4])
    with pytest.raises(ValueError, match="does not equal"):
        random_split(list(range(10)), [0.5, 0.4])


def test_the_same_sizes_as_torch():
    torch = pytest.importorskip("torch")
    for n, lengths in [(10, [0.33, 0.33, 0.34]), (101, [0.8, 0.1, 0.1]), (5, [0.5, 0.5]), (60000, [55000, 5000]),
                       (7, [0.25, 0.25, 0.25, 0.25])]:
        assert [len(s) for s in random_split(list(range(n)), lengths, seed=0)] == \
               [len(s) for s in torch.utils.data.random_split(range(n), lengths)]


def test_random_split_and_dataloader_take_a_generator():
    """torch's idiom: generator=tg.Generator().manual_seed(42) makes the split and the
    epochs' orders reproducible, without touching the library's generator."""
    dataset = TensorDataset(tg.arange(20))
    splits = [random_split(dataset, [0.75, 0.25], generator=tg.Generator().manual_seed(42)) for _ in range(2)]
    assert splits[0][0].indices == splits[1][0].indices and len(splits[0][1]) == 5
    assert sorted(splits[0][0].indices + splits[0][1].indices) == list(range(20))
    orders = []
    for _ in range(2):
        loader = DataLoader(dataset, batch_size=20, shuffle=True, generator=tg.Generator().manual_seed(5))
        orders.append([batch[0].tolist() for _ in range(2) for batch in loader])
    assert orders[0] == orders[1] and orders[0][0] != orders[0][1]          # fresh order each epoch
    with pytest.raises(ValueError, match="give seed= or generator=, not both"):
        random_split(dataset, [10, 10], generator=tg.Generator(), seed=1)
    with pytest.raises(ValueError, match="give seed= or generator=, not both"):
        DataLoader(dataset, generator=tg.Generator(), seed=1)
