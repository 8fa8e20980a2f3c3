"""CIFAR-10 from tarballs and folders built here, in the official layout; downloads from a local server.

The official batches are Python 2 pickles: ``py2_pickle`` writes them the
way Python 2 did (protocol 2, byte strings as Python 2 str, arrays through
``numpy.core.multiarray._reconstruct``), and the first test checks that the
standard library reads them back, so the fixture is a faithful stand-in.  No
test touches the internet: every mirror is the local server on 127.0.0.1.
"""
import hashlib
import io
import pickle
import pickletools
import struct
import tarfile

import numpy
import pytest

from mirror_server import closed_port_url, server    # noqa: F401 (pytest fixtures)
from tinygrad_bn import data
from tinygrad_bn.data import cifar10
from tinygrad_bn.data.__main__ import main
from tinygrad_bn.data.download import DownloadError
from tinygrad_bn.data.safe_pickle import safe_loads

CLASSES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
TRAIN_SIZES = [3, 1, 4, 1, 5]            # images in data_batch_1..5: concatenation order shows
TEST_SIZE = 6


# ------------------------------------------------------------------ the official layout, small
def _opcodes(value):
    """Pickle opcodes for ``value`` as Python 2's cPickle emitted them (protocol 2)."""
    if value is None:
        return b"N"
    if isinstance(value, bytes):            # a Python 2 str: SHORT_BINSTRING or BINSTRING
        return (b"U" + struct.pack("<B", len(value)) if len(value) < 256 else
                b"T" + struct.pack("<I", len(value))) + value
    if isinstance(value, int):              # BININT1 or BININT
        return b"K" + struct.pack("<B", value) if 0 <= value < 256 else b"J" + struct.pack("<i", value)
    if isinstance(value, tuple):
        return b"(" + b"".join(map(_opcodes, value)) + b"t"
    if isinstance(value, list):
        return b"](" + b"".join(map(_opcodes, value)) + b"e"
    if isinstance(value, dict):
        return b"}(" + b"".join(_opcodes(k) + _opcodes(v) for k, v in value.items()) + b"u"
    assert isinstance(value, numpy.ndarray) and value.dtype == numpy.uint8
    # An array is rebuilt in two steps: _reconstruct(ndarray, (0,), "b") makes an empty one, then BUILD
    # calls its __setstate__((1, shape, dtype, fortran_order, raw bytes)); the dtype is dtype("u1", 0, 1)
    # followed by its own __setstate__.
    empty = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + _opcodes((0,)) + _opcodes(b"b") + b"\x87R"
    uint8 = (b"cnumpy\ndtype\n" + _opcodes((b"u1", 0, 1)) + b"R"
             + _opcodes((3, b"|", None, None, None, -1, -1, 0)) + b"b")
    state = b"(" + _opcodes(1) + _opcodes(value.shape) + uint8 + b"\x89" + _opcodes(value.tobytes()) + b"t"
    return empty + state + b"b"


def py2_pickle(value):
    return b"\x80\x02" + _opcodes(value) + b"."


def batch(count, seed, label):
    """A batch dict with the official keys: random images, random labels, file names."""
    rng = numpy.random.default_rng(seed)
    return {b"batch_label": label, b"labels": rng.integers(0, 10, count).tolist(),
            b"data": rng.integers(0, 256, (count, 3072), dtype=numpy.uint8),
            b"filenames": [f"image_{seed}_{i}.png".encode() for i in range(count)]}


def official_contents():
    """``{file name: dict}`` of a small CIFAR-10 with the official files and keys."""
    contents = {f"data_batch_{i}": batch(size, i, f"training batch {i} of 5".encode())
                for i, size in enumerate(TRAIN_SIZES, start=1)}
    contents["test_batch"] = batch(TEST_SIZE, 6, b"testing batch 1 of 1")
    contents["batches.meta"] = {b"num_cases_per_batch": 10000, b"label_names": CLASSES, b"num_vis": 3072}
    return contents


def official_files(**replaced):
    """``{file name: bytes}``: the pickled contents, with ``replaced`` file bytes swapped in (None drops one)."""
    files = {name: py2_pickle(content) for name, content in official_contents().items()}
    files.update(replaced)
    return {name: raw for name, raw in files.items() if raw is not None}


def write_tarball(path, files):
    """A gzipped tarball with the official member names: ``cifar-10-batches-py/<name>``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        folder = tarfile.TarInfo("cifar-10-batches-py")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, raw in {**files, "readme.html": b"<html></html>"}.items():
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(raw)
            tar.addfile(member, io.BytesIO(raw))
    return path


def write_folder(folder, files):
    folder.mkdir(parents=True)
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    return folder


def expected_split(train):
    """Images (N, 3, 32, 32) read from the rows by the published layout, and labels, of the built data set."""
    contents = official_contents()
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    rows = numpy.concatenate([contents[name][b"data"] for name in names])
    images = numpy.empty((len(rows), 3, 32, 32), numpy.float32)
    for channel in range(3):                # 1024 red, then 1024 green, then 1024 blue values, row-major
        for row in range(32):
            start = channel * 1024 + row * 32
            images[:, channel, row, :] = rows[:, start:start + 32] / numpy.float32(255)
    labels = numpy.concatenate([contents[name][b"labels"] for name in names])
    return images, labels


def test_fixture_pickles_are_read_by_the_standard_library_and_name_only_numpy():
    for name, content in official_contents().items():
        raw = py2_pickle(content)
        loaded = pickle.loads(raw, encoding="bytes")
        assert loaded.keys() == content.keys()
        for key, value in content.items():
            numpy.testing.assert_array_equal(loaded[key], value)
        names = {argument for opcode, argument, _ in pickletools.genops(raw) if opcode.name == "GLOBAL"}
        assert names == ({"numpy.core.multiarray _reconstruct", "numpy ndarray", "numpy dtype"}
                         if b"data" in content else set())


# ------------------------------------------------------------------ reading
@pytest.mark.parametrize("train", [True, False])
def test_tarball_is_read_in_place(tmp_path, train):
    write_tarball(tmp_path / "cifar-10-python.tar.gz", official_files())
    split = data.CIFAR10(tmp_path, train=train)
    images, labels = expected_split(train)
    assert split.images.dtype == numpy.float32 and split.images.shape == (len(labels), 3, 32, 32)
    assert split.labels.dtype == numpy.int64 and 0 <= split.images.min() and split.images.max() <= 1
    numpy.testing.assert_array_equal(split.images, images)
    numpy.testing.assert_array_equal(split.labels, labels)
    assert split.classes == [name.decode() for name in CLASSES] and split.classes[3] == "cat"
    assert len(split) == len(labels) and split.source == tmp_path / "cifar-10-python.tar.gz"
    assert [p.name for p in tmp_path.iterdir()] == ["cifar-10-python.tar.gz"]       # nothing extracted


@pytest.mark.parametrize("where", ["cifar-10-batches-py", "cifar10/cifar-10-batches-py",
                                   "cifar10/cifar-10-python.tar.gz"])
def test_extracted_folder_and_cifar10_subfolder_read_the_same(tmp_path, where):
    if where.endswith(".tar.gz"):
        write_tarball(tmp_path / where, official_files())
    else:
        write_folder(tmp_path / where, official_files())
    assert data.cifar10_available(tmp_path) and data.find_cifar10(tmp_path) == tmp_path / where
    images, labels = expected_split(train=True)
    train = data.CIFAR10(tmp_path, train=True)
    numpy.testing.assert_array_equal(train.images, images)
    numpy.testing.assert_array_equal(train.labels, labels)


def test_batches_pickled_by_current_python_and_numpy_read_too(tmp_path):
    """A subset of one's own, with str keys and NumPy >= 2's module names, is read as it is."""
    own = {name: pickle.dumps({key.decode(): value for key, value in content.items()}, protocol=4)
           for name, content in official_contents().items()}
    write_folder(tmp_path / "cifar-10-batches-py", own)
    images, labels = expected_split(train=False)
    test = data.CIFAR10(tmp_path, train=False)
    numpy.testing.assert_array_equal(test.images, images)
    numpy.testing.assert_array_equal(test.labels, labels)


def test_data_root_comes_from_the_environment(tmp_path, monkeypatch):
    write_tarball(tmp_path / "cifar10" / "cifar-10-python.tar.gz", official_files())
    monkeypatch.setenv("TINYGRAD_BN_DATA", str(tmp_path))
    assert data.cifar10_available() and len(data.CIFAR10(train=False)) == TEST_SIZE


def test_missing_data_set_names_the_folders_and_the_ways_to_get_it(tmp_path):
    assert not data.cifar10_available(tmp_path)
    with pytest.raises(FileNotFoundError) as caught:
        data.CIFAR10(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path} and {tmp_path / 'cifar10'}" in message and "cifar-10-python.tar.gz" in message
    assert "python -m tinygrad_bn.data download cifar10" in message and "$TINYGRAD_BN_DATA" in message


# ------------------------------------------------------------------ no code runs
class _Exploit:
    """Unpickled by a plain pickle.load, this creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_hostile_batch_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "marker"
    hostile = pickle.dumps({b"data": _Exploit(marker), b"labels": [0]}, protocol=4)
    pickle.loads(hostile)[b"data"].close()
    assert marker.exists()                  # the payload works on an unguarded unpickler
    marker.unlink()
    write_tarball(tmp_path / "root" / "cifar-10-python.tar.gz", official_files(data_batch_2=hostile))
    with pytest.raises(data.DataFormatError, match=r"data_batch_2.*refused to load io\.open") as caught:
        data.CIFAR10(tmp_path / "root", train=True)
    assert "cifar-10-python.tar.gz" in str(caught.value.path) and not marker.exists()


@pytest.mark.parametrize("module, name", [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"),
                                          ("numpy", "load"), ("numpy.core.multiarray", "scalar"),
                                          ("numpy.core", "_reconstruct"), ("_codecs", "encode")])
def test_safe_unpickler_refuses_every_other_name(module, name):
    raw = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."      # call module.name()
    with pytest.raises(pickle.UnpicklingError, match=f"refused to load {module}.{name}:"):
        safe_loads(raw)


# ------------------------------------------------------------------ files that are not CIFAR-10
def _labels_out_of_range():
    bad = batch(3, 1, b"training batch 1 of 5")
    bad[b"labels"][1] = 10
    return py2_pickle(bad)


def _with(name, key, value):
    content = official_contents()[name]
    content[key] = value
    return py2_pickle(content)


MALFORMED = {
    "missing batch": ({"data_batch_3": None}, "data_batch_3",
                      "no member cifar-10-batches-py/data_batch_3: expected the official"),
    "wrong row length": ({"data_batch_2": _with("data_batch_2", b"data", numpy.zeros((1, 1024), numpy.uint8))},
                         "data_batch_2", r"data is a uint8 array of shape \(1, 1024\): expected uint8 of shape "
                                         r"\(N, 3072\)"),
    "float pixels": ({"data_batch_1": pickle.dumps({b"data": numpy.zeros((3, 3072)), b"labels": [0, 1, 2]})},
                     "data_batch_1", r"data is a float64 array of shape \(3, 3072\)"),
    "too few labels": ({"data_batch_1": _with("data_batch_1", b"labels", [0, 1])}, "data_batch_1",
                       "labels are a list of 2 items: expected 3 integers, one per image"),
    "label out of range": ({"data_batch_1": _labels_out_of_range()}, "data_batch_1", r"expected classes 0\.\.9"),
    "no labels": ({"data_batch_4": py2_pickle({b"data": numpy.zeros((1, 3072), numpy.uint8)})}, "data_batch_4",
                  "no labels entry: expected a dict with data, labels"),
    "not a dict": ({"data_batch_5": py2_pickle([1, 2, 3])}, "data_batch_5",
                   "holds a list of 3 items: expected a dict"),
    "truncated pickle": ({"data_batch_1": py2_pickle(official_contents()["data_batch_1"])[:5000]}, "data_batch_1",
                         "not a CIFAR-10 pickle"),
    "nine classes": ({"batches.meta": py2_pickle({b"label_names": CLASSES[:9]})}, "batches.meta",
                     "label_names is a list of 9 items: expected a list of 10 class names"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_member_is_named_with_the_problem(tmp_path, case):
    replaced, member, problem = MALFORMED[case]
    write_tarball(tmp_path / "cifar-10-python.tar.gz", official_files(**replaced))
    with pytest.raises(data.DataFormatError, match=problem) as caught:
        data.CIFAR10(tmp_path, train=True)
    assert member in str(caught.value) and "cifar-10-python.tar.gz" in str(caught.value)


def test_malformed_file_in_a_folder_is_named(tmp_path):
    folder = write_folder(tmp_path / "cifar-10-batches-py", official_files(test_batch=b"not a pickle"))
    with pytest.raises(data.DataFormatError, match="not a CIFAR-10 pickle") as caught:
        data.CIFAR10(tmp_path, train=False)
    assert caught.value.path == folder / "test_batch"
    (folder / "batches.meta").unlink()
    with pytest.raises(data.DataFormatError, match="batches.meta missing: expected the files data_batch_1"):
        data.CIFAR10(tmp_path, train=False)


@pytest.mark.parametrize("damage", ["truncated", "not gzip"])
def test_damaged_tarball_is_named(tmp_path, damage):
    tarball = write_tarball(tmp_path / "cifar-10-python.tar.gz", official_files())
    raw = tarball.read_bytes()
    tarball.write_bytes(raw[:len(raw) // 2] if damage == "truncated" else b"CIFAR" * 100)
    with pytest.raises(data.DataFormatError, match="not a readable tar archive") as caught:
        data.CIFAR10(tmp_path, train=True)
    assert caught.value.path == tarball


# ------------------------------------------------------------------ downloads
@pytest.fixture
def cifar_server(server, tmp_path):
    """The server holding a built tarball, whose MD5 stands in for the published one (see the next test)."""
    raw = write_tarball(tmp_path / "served" / "cifar-10-python.tar.gz", official_files()).read_bytes()
    server.files["cifar-10-python.tar.gz"] = raw
    server.tarball = raw
    return server


def test_the_published_md5_refuses_a_tarball_that_is_not_the_official_one(cifar_server, tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "MIRRORS", [cifar_server.url("good")])
    with pytest.raises(DownloadError, match="differs from the published c58f30108f718f92721af3b95e74349a"):
        data.CIFAR10(tmp_path / "root", download=True)
    assert list((tmp_path / "root" / "cifar10").iterdir()) == []


def test_download_falls_back_until_a_mirror_verifies(cifar_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(cifar_server.tarball).hexdigest())
    monkeypatch.setattr(cifar10, "MIRRORS", [cifar_server.url(kind) for kind in ("missing", "corrupt",
                                                                                  "truncated", "good")])
    test = data.CIFAR10(tmp_path / "root", train=False, download=True)
    assert len(test) == TEST_SIZE and test.source == tmp_path / "root" / "cifar10" / "cifar-10-python.tar.gz"
    assert [p.name for p in (tmp_path / "root" / "cifar10").iterdir()] == ["cifar-10-python.tar.gz"]
    assert test.source.read_bytes() == cifar_server.tarball
    assert f"downloading {cifar_server.url('good')}cifar-10-python.tar.gz" in capsys.readouterr().err


def test_failed_download_keeps_nothing_and_says_how_to_get_it(cifar_server, tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(cifar_server.tarball).hexdigest())
    monkeypatch.setattr(cifar10, "MIRRORS", [cifar_server.url(kind) for kind in ("missing", "corrupt", "truncated")])
    with pytest.raises(DownloadError) as caught:
        data.CIFAR10(tmp_path, download=True)
    message = str(caught.value)
    assert "HTTP 404" in message and "MD5" in message and "connection" in message and not caught.value.offline
    assert f"into {tmp_path / 'cifar10'}" in message and "download cifar10" in message
    assert list((tmp_path / "cifar10").iterdir()) == []


def test_offline_download_says_so(closed_port_url, tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "MIRRORS", [closed_port_url])
    with pytest.raises(DownloadError, match="offline") as caught:
        data.CIFAR10(tmp_path, download=True)
    assert caught.value.offline and list((tmp_path / "cifar10").iterdir()) == []


def test_download_keeps_a_data_set_already_present(closed_port_url, tmp_path, monkeypatch, capsys):
    write_folder(tmp_path / "cifar-10-batches-py", official_files())            # not checksummed
    monkeypatch.setattr(cifar10, "MIRRORS", [closed_port_url])
    assert len(data.CIFAR10(tmp_path, train=True, download=True)) == sum(TRAIN_SIZES)
    assert "kept as it is" in capsys.readouterr().err


def test_command_line_downloads_the_tarball(cifar_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cifar10, "MD5", hashlib.md5(cifar_server.tarball).hexdigest())
    root = tmp_path / "root"
    assert main(["download", "cifar10", "--root", str(root), "--mirror", cifar_server.url("good")]) == 0
    assert (root / "cifar10" / "cifar-10-python.tar.gz").read_bytes() == cifar_server.tarball
    assert "CIFAR-10 is ready" in capsys.readouterr().err
    assert main(["download", "cifar10", "--root", str(root), "--mirror", cifar_server.url("missing")]) == 0
    assert "kept as it is" in capsys.readouterr().err
    assert main(["download", "cifar10", "--root", str(tmp_path / "other"), "--mirror",
                 cifar_server.url("missing")]) == 1
    assert "HTTP 404" in capsys.readouterr().err
