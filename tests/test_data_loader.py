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
    loader = data.DataLoader(numbered(count), batch_size, drop_last=drop_last, seed=0)
    assert len(loader) == batches == len(list(loader))


def test_an_epoch_is_a_permutation_with_images_and_labels_together(device):
    loader = data.DataLoader(numbered(50), batch_size=8, seed=0, device=device)
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
    first, again = data.DataLoader(numbered(), 10, seed=3, device=device), data.DataLoader(numbered(), 10, seed=3)
    epochs = [numpy.concatenate(epoch(first)) for _ in range(3)]
    assert not numpy.array_equal(epochs[0], epochs[1]) and not numpy.array_equal(epochs[1], epochs[2])
    for expected in epochs:
        numpy.testing.assert_array_equal(numpy.concatenate(epoch(again)), expected)
    other = numpy.concatenate(epoch(data.DataLoader(numbered(), 10, seed=4)))
    assert not numpy.array_equal(other, epochs[0])


def test_without_a_seed_the_library_generator_decides():
    tg.manual_seed(7)
    first = numpy.concatenate(epoch(data.DataLoader(numbered(), 10)))
    tg.manual_seed(7)
    numpy.testing.assert_array_equal(numpy.concatenate(epoch(data.DataLoader(numbered(), 10))), first)
    tg.manual_seed(8)
    assert not numpy.array_equal(numpy.concatenate(epoch(data.DataLoader(numbered(), 10))), first)


def test_no_shuffle_keeps_the_stored_order_and_drop_last_keeps_full_batches():
    batches = epoch(data.DataLoader(numbered(10), 4, shuffle=False, drop_last=True))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_bad_arguments_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        data.DataLoader(numbered(), 0)
    with pytest.raises(TypeError, match=r"\.images and \.labels.*ArrayDataset"):
        data.DataLoader([(1, 2)], 1)
    with pytest.raises(ValueError, match=r"one label per example: images of shape \(3, 2\).*\(4,\)"):
        data.ArrayDataset(numpy.zeros((3, 2)), numpy.zeros(4))


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
    images, labels = next(iter(data.DataLoader(tensors, batch_size=60, seed=0, device="cpu")))
    assert images.shape == (60, 1, 8, 8) and labels.shape == (60,)


def test_digits_split_is_fixed(digits):
    train, _, _ = digits
    numpy.testing.assert_array_equal(data.Digits(train=True).images, train.images)


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"scikit-learn.*tinygrad_bn\[demos\]"):
        data.Digits()
