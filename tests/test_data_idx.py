"""IDX reader/writer and the MNIST loader on IDX files the tests write themselves."""
import gzip
import struct

import numpy
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_bn import data
from tinygrad_bn.data.idx import IDXFormatError, read_idx, write_idx

TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


@pytest.fixture
def tmp_dir(tmp_path_factory):
    """A fresh directory (usable inside Hypothesis tests, unlike tmp_path)."""
    return tmp_path_factory.mktemp("idx")


@given(array=hnp.arrays(st.sampled_from(["u1", "i1", ">i2", "<i4", "f4", "f8"]),
                        hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)),
       gzipped=st.booleans())
def test_round_trip_any_supported_dtype_and_shape(tmp_dir, array, gzipped):
    path = tmp_dir / ("a.idx.gz" if gzipped else "a.idx")
    write_idx(path, array)
    back = read_idx(path)
    assert back.shape == array.shape and back.dtype == array.dtype.newbyteorder("=")
    numpy.testing.assert_array_equal(back, array)


def test_header_bytes_follow_the_published_layout(tmp_path):
    """LeCun's description: 0x00000803, then the sizes as big-endian 32-bit integers, then the pixels."""
    images = numpy.arange(2 * 3 * 4, dtype=numpy.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x", images)
    raw = (tmp_path / "x").read_bytes()
    assert raw[:16] == bytes.fromhex("00000803 00000002 00000003 00000004")
    assert raw[16:] == images.tobytes()


def test_gzip_is_detected_by_content_not_name(tmp_path):
    write_idx(tmp_path / "labels.gz", numpy.array([3, 1, 4], numpy.uint8))
    (tmp_path / "labels").write_bytes((tmp_path / "labels.gz").read_bytes())
    numpy.testing.assert_array_equal(read_idx(tmp_path / "labels"), [3, 1, 4])


def test_unsupported_dtype_is_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x", numpy.zeros(3, numpy.int64))


@pytest.mark.parametrize("payload, problem", [
    (b"\x00\x00", "truncated: 2 bytes"),
    (b"\x01\x00\x08\x01" + bytes(8), "wrong magic number 0x01000801"),
    (b"\x00\x00\x07\x01" + bytes(8), "wrong magic number 0x00000701"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated inside the header"),
    (struct.pack(">I3I", 0x803, 2, 28, 28) + bytes(2 * 784 - 1), "truncated: the header announces shape (2, 28, 28)"),
    (struct.pack(">II", 0x801, 3) + bytes(4), "1 unexpected bytes"),
])
def test_malformed_files_name_the_file_and_the_problem(tmp_path, payload, problem):
    for path, content in ((tmp_path / "bad", payload), (tmp_path / "bad.gz", gzip.compress(payload))):
        path.write_bytes(content)
        with pytest.raises(IDXFormatError, match=str(path)) as caught:
            read_idx(path)
        assert problem in str(caught.value)


def test_truncated_gzip_stream_is_reported(tmp_path):
    write_idx(tmp_path / "full.gz", numpy.zeros((50, 28, 28), numpy.uint8))
    cut = tmp_path / "cut.gz"
    cut.write_bytes((tmp_path / "full.gz").read_bytes()[:-20])
    with pytest.raises(IDXFormatError, match="cut.gz.*gzip stream is truncated"):
        read_idx(cut)


# ------------------------------------------------------------------ MNIST on files written here
def write_mnist(folder, images, labels, names=TEST_FILES):
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / names[0], images)
    write_idx(folder / names[1], labels)


def random_mnist(count=7, seed=0):
    rng = numpy.random.default_rng(seed)
    return (rng.integers(0, 256, (count, 28, 28), dtype=numpy.uint8),
            rng.integers(0, 10, count, dtype=numpy.uint8))


@pytest.mark.parametrize("subfolder", ["", "mnist"])
def test_mnist_reads_files_from_root_or_its_mnist_folder(tmp_path, subfolder):
    images, labels = random_mnist()
    write_mnist(tmp_path / subfolder, images, labels)
    test = data.MNIST(tmp_path, train=False)
    assert test.images.dtype == numpy.float32 and test.images.shape == (7, 784)
    assert test.labels.dtype == numpy.int64
    numpy.testing.assert_array_equal(test.images, images.reshape(7, -1) / numpy.float32(255))
    numpy.testing.assert_array_equal(test.labels, labels)
    assert len(test) == 7 and test[2][1] == labels[2]


def test_mnist_reads_raw_files_and_gives_image_tensors_on_request(tmp_path):
    images, labels = random_mnist()
    write_mnist(tmp_path, images, labels, names=[n.removesuffix(".gz") for n in TRAIN_FILES])
    train = data.MNIST(tmp_path, train=True, flatten=False)
    assert train.images.shape == (7, 1, 28, 28)
    assert train.images.min() >= 0 and train.images.max() <= 1
    numpy.testing.assert_array_equal(numpy.rint(train.images[:, 0] * 255).astype(numpy.uint8), images)


def test_root_resolution_argument_then_env_then_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_BN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data.data_root() == tmp_path / "env"
    monkeypatch.delenv("TINYGRAD_BN_DATA")
    assert data.data_root() == tmp_path / "xdg" / "tinygrad_bn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.data_root() == tmp_path / "home" / ".cache" / "tinygrad_bn"


def test_env_root_is_used_by_the_loader(tmp_path, monkeypatch):
    write_mnist(tmp_path / "mnist", *random_mnist())
    monkeypatch.setenv("TINYGRAD_BN_DATA", str(tmp_path))
    assert data.mnist_available(train=False) and not data.mnist_available(train=True)
    assert len(data.MNIST(train=False)) == 7


def test_missing_files_name_the_files_the_places_and_the_remedy(tmp_path):
    write_mnist(tmp_path, *random_mnist(), names=("train-images-idx3-ubyte.gz", "unrelated"))
    with pytest.raises(FileNotFoundError) as caught:
        data.MNIST(tmp_path, train=True)
    message = str(caught.value)
    assert "not found: train-labels-idx1-ubyte.gz. Looked in" in message
    assert str(tmp_path) in message and str(tmp_path / "mnist") in message
    assert "python -m tinygrad_bn.data download mnist" in message and "TINYGRAD_BN_DATA" in message


@pytest.mark.parametrize("images, labels, problem", [
    (numpy.zeros((3, 28, 28), numpy.uint8), numpy.zeros(4, numpy.uint8), "3 images but 4 labels"),
    (numpy.zeros((3, 28, 27), numpy.uint8), numpy.zeros(3, numpy.uint8), "wrong dimensions: images of 28x27"),
    (numpy.zeros(3, numpy.uint8), numpy.zeros(3, numpy.uint8), "wrong magic number 0x00000801 for an image file"),
    (numpy.zeros((3, 28, 28), numpy.uint8), numpy.zeros((3, 1), numpy.uint8), "wrong magic number 0x00000802"),
    (numpy.zeros((3, 28, 28), numpy.float32), numpy.zeros(3, numpy.uint8), "expected 0x00000803"),
    (numpy.zeros((3, 28, 28), numpy.uint8), numpy.array([1, 10, 2], numpy.uint8), "label 10 out of range"),
])
def test_inconsistent_mnist_files_are_refused(tmp_path, images, labels, problem):
    write_mnist(tmp_path, images, labels)
    with pytest.raises(IDXFormatError, match=r"t10k-(images|labels)-idx\d-ubyte.gz") as caught:
        data.MNIST(tmp_path, train=False)
    assert problem in str(caught.value)


def test_truncated_mnist_file_is_refused(tmp_path):
    images, labels = random_mnist()
    write_mnist(tmp_path, images, labels, names=[n.removesuffix(".gz") for n in TEST_FILES])
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IDXFormatError, match="t10k-images-idx3-ubyte: file is truncated"):
        data.MNIST(tmp_path, train=False)
