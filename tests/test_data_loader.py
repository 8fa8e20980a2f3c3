"""ArrayDataset, DataLoader (a fresh, reproducible permutation every epoch) and the offline Digits."""
import sys

import numpy
import pytest

import tinygrad_bn as tg
from tinygrad_bn import data


def numbered(count=50):
    """Example i is the image full of i's with label i, so batches show which examples they hold."""
    return data.ArrayDataset(numpy.repeat(numpy.arange(count, dtype=numpy.float32)[:, None], 3, axis=1),
                             numpy.arange(count, dtype=numpy.int64))


def epoch(loader):
    return [labels.numpy() for _, labels in loader]


@pytest.mark.parametrize("count, batch_size, drop_last, batches", [(10, 3, False, 4), (10, 3, True, 3),
                                                                   (9, 3, False, 3), (2, 5, True, 0)])
def test_len_is_the_number_of_batches(count, batch_size, drop_last, batches):
    loader = data.DataLoader(numbered(count), batch_size, shuffle=True, drop_last=drop_last, seed=0)
    assert len(loader) == batches == len(list(loader))


def test_an_epoch_is_a_permutation_with_images_and_labels_together(device):
    loader = data.DataLoader(numbered(50), batch_size=8, shuffle=True, seed=0, device=device)
    seen = []
    for images, labels in loader:
        assert images.device == labels.device == device
        assert images.dtype == numpy.float32 and labels.dtype == numpy.int64
        assert images.shape == (len(labels), 3)
        numpy.testing.assert_array_equal(images.numpy(), labels.numpy()[:, None].repeat(3, axis=1))
        seen.append(labels.numpy())
    assert [len(b) for b in seen] == [8] * 6 + [2]
    assert sorted(numpy.concatenate(seen).tolist()) == list(range(50))


def test_every_epoch_has_a_fresh_order_reproducible_from_the_seed(device):
    first, again = (data.DataLoader(numbered(), 10, shuffle=True, seed=3, device=device),
                    data.DataLoader(numbered(), 10, shuffle=True, seed=3))
    epochs = [numpy.concatenate(epoch(first)) for _ in range(3)]
    assert not numpy.array_equal(epochs[0], epochs[1]) and not numpy.array_equal(epochs[1], epochs[2])
    for expected in epochs:
        numpy.testing.assert_array_equal(numpy.concatenate(epoch(again)), expected)
    other = numpy.concatenate(epoch(data.DataLoader(numbered(), 10, shuffle=True, seed=4)))
    assert not numpy.array_equal(other, epochs[0])


def test_without_a_seed_the_library_generator_decides():
    tg.manual_seed(7)
    first = numpy.concatenate(epoch(data.DataLoader(numbered(), 10, shuffle=True)))
    tg.manual_seed(7)
    numpy.testing.assert_array_equal(numpy.concatenate(epoch(data.DataLoader(numbered(), 10, shuffle=True))), first)
    tg.manual_seed(8)
    assert not numpy.array_equal(numpy.concatenate(epoch(data.DataLoader(numbered(), 10, shuffle=True))), first)


def test_no_shuffle_keeps_the_stored_order_and_drop_last_keeps_full_batches():
    batches = epoch(data.DataLoader(numbered(10), 4, shuffle=False, drop_last=True))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_bad_arguments_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        data.DataLoader(numbered(), 0)
    with pytest.raises(TypeError, match=r"\.images and \.labels.*ArrayDataset.*__getitem__ and __len__; got int"):
        data.DataLoader(42, 1)
    with pytest.raises(ValueError, match=r"one label per example: images of shape \(3, 2\).*\(4,\)"):
        data.ArrayDataset(numpy.zeros((3, 2)), numpy.zeros(4))


def test_the_defaults_are_pytorchs_batches_of_one_in_the_stored_order():
    """torch.utils.data.DataLoader(dataset): batch_size=1, shuffle=False (PyTorch's documented defaults)."""
    loader = data.DataLoader(numbered(5))
    assert loader.batch_size == 1 and not loader.shuffle and not loader.drop_last
    assert [b.tolist() for b in epoch(loader)] == [[0], [1], [2], [3], [4]]


# ------------------------------------------------------------------------------ torch.utils.data's names
def test_tensor_dataset_rows_and_refusals(device):
    x = tg.arange(12.0, device=device).reshape(4, 3)
    y = tg.tensor([3, 1, 4, 1], device=device)
    dataset = data.TensorDataset(x, y)
    assert len(dataset) == 4 and dataset.tensors == (x, y)
    row, label = dataset[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 4
    with pytest.raises(ValueError, match=r"Size mismatch between tensors.*\(4, 3\), \(3,\)"):
        data.TensorDataset(x, y[:3])
    with pytest.raises(TypeError, match="argument 1 must be a Tensor with at least one dimension, got ndarray"):
        data.TensorDataset(x, numpy.arange(4))
    with pytest.raises(TypeError, match="argument 0 .* got a 0-d Tensor"):
        data.TensorDataset(tg.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        data.TensorDataset()


def test_a_tensor_dataset_is_batched_in_the_order_an_array_dataset_gets(device):
    """The same seed draws the same permutation whatever holds the examples; each batch is a list
    of Tensors, as PyTorch's, on the tensors' device, and without history."""
    arrays = numbered(23)
    tensors = data.TensorDataset(tg.tensor(arrays.images, device=device, requires_grad=True),
                                 tg.tensor(arrays.labels, device=device))
    expected = list(data.DataLoader(arrays, 5, shuffle=True, seed=2, device="cpu"))
    batches = list(data.DataLoader(tensors, 5, shuffle=True, seed=2))
    assert len(batches) == len(expected) == 5
    for batch, (images, labels) in zip(batches, expected):
        assert isinstance(batch, list) and len(batch) == 2
        assert batch[0].device == batch[1].device == device and not batch[0].requires_grad
        numpy.testing.assert_array_equal(batch[0].numpy(), images.numpy())
        numpy.testing.assert_array_equal(batch[1].numpy(), labels.numpy())


class Records(data.Dataset):
    """Examples of every kind default_collate knows: dict, tuple, nested list, str, numbers, arrays."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return {"id": i, "score": i / 2, "ok": i % 2 == 0, "name": f"n{i}"}, \
            (numpy.full(2, i, numpy.float32), numpy.int64(i), [i, 10 * i]), tg.tensor([float(i)] * 3)


def test_map_style_examples_are_collated_as_default_collate(device):
    records, pair, stacked = next(iter(data.DataLoader(Records(), batch_size=3, device=device)))
    assert records["id"].dtype == numpy.int64 and records["id"].tolist() == [0, 1, 2]
    assert records["score"].dtype == numpy.float64 and records["score"].tolist() == [0.0, 0.5, 1.0]
    assert records["ok"].dtype == numpy.bool_ and records["ok"].tolist() == [True, False, True]
    assert records["name"] == ["n0", "n1", "n2"]
    arrays, scalars, nested = pair
    assert arrays.dtype == numpy.float32 and arrays.shape == (3, 2) and arrays.device == device
    assert scalars.dtype == numpy.int64 and scalars.tolist() == [0, 1, 2]
    assert [t.tolist() for t in nested] == [[0, 1, 2], [0, 10, 20]]
    assert stacked.shape == (3, 3) and stacked.device == device and stacked[:, 0].tolist() == [0.0, 1.0, 2.0]


def test_a_list_of_examples_is_a_data_set_and_bad_examples_say_why():
    assert [b[1].tolist() for b in data.DataLoader([(1, 2), (3, 4), (5, 6)], 2)] == [[2, 4], [6]]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        list(data.DataLoader([[1, 2], [3]], 2))
    with pytest.raises(TypeError, match="found object"):
        list(data.DataLoader([object(), object()], 2))


def test_collate_fn_makes_every_batch_and_the_worker_options_change_nothing():
    seen = []

    def pairs(examples):
        seen.append(len(examples))
        return [(int(label), float(image[0])) for image, label in examples]

    loader = data.DataLoader(numbered(5), 2, collate_fn=pairs, num_workers=4, pin_memory=True)
    assert list(loader) == [[(0, 0.0), (1, 1.0)], [(2, 2.0), (3, 3.0)], [(4, 4.0)]] and seen == [2, 2, 1]
    plain, with_options = (data.DataLoader(numbered(9), 4, shuffle=True, seed=1, **options)
                           for options in ({}, {"num_workers": 2, "pin_memory": True}))
    assert [b.tolist() for b in epoch(plain)] == [b.tolist() for b in epoch(with_options)]
    with pytest.raises(ValueError, match="num_workers option should be non-negative, got -1"):
        data.DataLoader(numbered(), 2, num_workers=-1)
    with pytest.raises(TypeError, match="collate_fn must be callable, got str"):
        data.DataLoader(numbered(), 2, collate_fn="stack")


def test_collate_matches_torch_default_collate():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate
    examples = [Records.__getitem__(None, i)[:2] for i in range(3)]

    def same(ours, theirs):
        if isinstance(theirs, torch.Tensor):
            assert str(theirs.dtype).split(".")[1] == numpy.dtype(ours.dtype).name
            numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        elif isinstance(theirs, dict):
            assert ours.keys() == theirs.keys()
            for key in theirs:
                same(ours[key], theirs[key])
        elif isinstance(theirs, list) and theirs and not isinstance(theirs[0], str):
            assert isinstance(ours, list) and len(ours) == len(theirs)
            for a, b in zip(ours, theirs):
                same(a, b)
        else:
            assert ours == theirs

    same(data.collate(examples), default_collate(examples))


def test_the_torch_utils_data_path_names_the_same_classes():
    from tinygrad_bn.utils.data import DataLoader, Dataset, TensorDataset
    assert (DataLoader, Dataset, TensorDataset) == (data.DataLoader, data.Dataset, data.TensorDataset)
    assert tg.utils.data.DataLoader is data.DataLoader


# ------------------------------------------------------------------------------ Digits
@pytest.fixture(scope="module")
def digits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="Digits needs the demos extra")
    return data.Digits(train=True), data.Digits(train=False), sklearn_datasets.load_digits()


def test_digits_split_sizes_types_and_range(digits):
    train, test, _ = digits
    assert train.images.shape == (1437, 64) and test.images.shape == (360, 64)
    for split in (train, test):
        assert split.images.dtype == numpy.float32 and split.labels.dtype == numpy.int64
        assert split.images.min() == 0 and split.images.max() == 1
        assert set(split.labels.tolist()) == set(range(10))


def test_digits_splits_partition_the_1797_images(digits):
    train, test, bunch = digits
    ours = numpy.concatenate([train.images, test.images]) * 16
    labels = numpy.concatenate([train.labels, test.labels])
    rows = numpy.column_stack([ours, labels])
    reference = numpy.column_stack([bunch.data, bunch.target])
    sort = lambda table: table[numpy.lexsort(table.T[::-1])]
    numpy.testing.assert_array_equal(sort(rows), sort(reference))


def test_digits_image_tensors_are_scikit_learns_8x8_images(digits):
    """(N, 1, 8, 8) for convolutions: example i is load_digits().images[order[i]] / 16, order the fixed split."""
    train, test, bunch = digits
    order = numpy.random.default_rng(0).permutation(1797)
    for flat, train_split, chosen in ((train, True, order[:1437]), (test, False, order[1437:])):
        tensors = data.Digits(train=train_split, flatten=False)
        assert tensors.images.shape == (len(chosen), 1, 8, 8) and tensors.images.dtype == numpy.float32
        numpy.testing.assert_array_equal(tensors.images[:, 0], bunch.images[chosen] / numpy.float32(16))
        numpy.testing.assert_array_equal(tensors.images.reshape(len(chosen), 64), flat.images)
    images, labels = next(iter(data.DataLoader(tensors, batch_size=60, shuffle=True, seed=0, device="cpu")))
    assert images.shape == (60, 1, 8, 8) and labels.shape == (60,)


def test_digits_split_is_fixed(digits):
    train, _, _ = digits
    numpy.testing.assert_array_equal(data.Digits(train=True).images, train.images)


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"scikit-learn.*tinygrad_bn\[demos\]"):
        data.Digits()
