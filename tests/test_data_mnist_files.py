"""The real MNIST test-set files (../shared/data/mnist, also present on CI) through the real loader."""
import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from tinygrad_bn import data
from tinygrad_bn.data import mnist

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
# MD5s published in torchvision's MNIST resource list: an independent check of the SHA-256 table.
PUBLISHED_MD5 = {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
                 "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
# Digits per class in the MNIST test set (LeCun et al.'s published split; 10,000 in all).
TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def test_split():
    return data.MNIST(SHARED, train=False)


@pytest.mark.parametrize("name", mnist.FILES["test"])
def test_shared_files_match_the_published_checksums(name):
    content = (SHARED / name).read_bytes()
    assert hashlib.sha256(content).hexdigest() == mnist.SHA256[name]
    assert hashlib.md5(content).hexdigest() == PUBLISHED_MD5[name]


def test_test_split_has_10000_images_in_unit_range(test_split):
    assert test_split.images.shape == (10000, 784) and test_split.images.dtype == numpy.float32
    assert test_split.labels.shape == (10000,) and test_split.labels.dtype == numpy.int64
    assert test_split.images.min() == 0 and test_split.images.max() == 1
    histogram = numpy.bincount(test_split.labels, minlength=10)
    assert histogram.sum() == 10000 and histogram.tolist() == TEST_CLASS_COUNTS


def test_pixels_are_the_grey_levels_divided_by_255(test_split):
    """Read independently of the IDX reader: 16 header bytes, then 784 bytes per image."""
    raw = gzip.decompress((SHARED / "t10k-images-idx3-ubyte.gz").read_bytes())
    first = numpy.frombuffer(raw, numpy.uint8, count=784, offset=16)
    numpy.testing.assert_array_equal(test_split.images[0], first / numpy.float32(255))
    assert test_split.labels[0] == gzip.decompress((SHARED / "t10k-labels-idx1-ubyte.gz").read_bytes())[8]


def test_image_tensors_are_the_flat_rows_reshaped(test_split):
    """(N, 1, 28, 28) for convolutions; pixel (r, c) of image i is byte 16 + 784 i + 28 r + c of the file."""
    tensors = data.MNIST(SHARED, train=False, flatten=False)
    assert tensors.images.shape == (10000, 1, 28, 28) and tensors.images.dtype == numpy.float32
    numpy.testing.assert_array_equal(tensors.images.reshape(10000, 784), test_split.images)
    numpy.testing.assert_array_equal(tensors.labels, test_split.labels)
    raw = gzip.decompress((SHARED / "t10k-images-idx3-ubyte.gz").read_bytes())
    for i, r, c in [(0, 10, 12), (1234, 5, 20), (9999, 27, 3)]:
        assert tensors.images[i, 0, r, c] == raw[16 + 784 * i + 28 * r + c] / numpy.float32(255)


def test_raw_and_gzipped_copies_read_the_same(tmp_path, test_split):
    for name in mnist.FILES["test"]:
        (tmp_path / name.removesuffix(".gz")).write_bytes(gzip.decompress((SHARED / name).read_bytes()))
    raw = data.MNIST(tmp_path, train=False, flatten=False)
    numpy.testing.assert_array_equal(raw.images.reshape(10000, -1), test_split.images)
    numpy.testing.assert_array_equal(raw.labels, test_split.labels)


def test_training_split_absent_here_fails_with_a_clear_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz"):
        data.MNIST(tmp_path, train=True)


def test_importing_the_package_does_not_import_sklearn():
    code = "import sys, tinygrad_bn; tinygrad_bn.data.MNIST; assert 'sklearn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
