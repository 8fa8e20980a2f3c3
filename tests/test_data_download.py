"""Downloads against a local HTTP server on 127.0.0.1: good, corrupt, truncated and missing files.

No test here touches the internet: every mirror is the local server (or a
closed local port, to play the offline machine).
"""
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from mirror_server import closed_port_url, server    # noqa: F401 (pytest fixtures)
from tinygrad_bn import data
from tinygrad_bn.data import mnist
from tinygrad_bn.data.__main__ import main
from tinygrad_bn.data.download import DownloadError, ProgressBar, download
from tinygrad_bn.data.idx import write_idx

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
PAYLOAD = bytes(range(256)) * 1000          # 256 kB: several chunks
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def payload_server(server):
    """The mirror server, holding ``payload.bin``."""
    server.files["payload.bin"] = PAYLOAD
    return server


def test_good_file_is_verified_and_kept(payload_server, tmp_path, capsys):
    path = download("payload.bin", SHA, tmp_path, [payload_server.url("good")])
    assert path == tmp_path / "payload.bin" and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payload.bin"]
    assert f"downloading {payload_server.url('good')}payload.bin" in capsys.readouterr().err


@pytest.mark.parametrize("kind, problem", [("corrupt", "differs from the published"),
                                           ("truncated", "connection (closed|broke) after 128,000 of 256,000 bytes"),
                                           ("missing", "HTTP 404")])
def test_bad_mirror_leaves_nothing_behind(payload_server, tmp_path, kind, problem):
    with pytest.raises(DownloadError, match=problem) as caught:
        download("payload.bin", SHA, tmp_path, [payload_server.url(kind)])
    assert not caught.value.offline and "every mirror failed" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_other_published_checksums_are_verified_and_the_hint_ends_the_error(payload_server, tmp_path):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    good = download("payload.bin", md5, tmp_path / "good", [payload_server.url("good")], algorithm="md5")
    assert good.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError) as caught:
        download("payload.bin", md5, tmp_path / "bad", [payload_server.url("corrupt")], algorithm="md5",
                 hint="copy it by hand")
    assert f"of the 256,000 bytes received differs from the published {md5}" in str(caught.value)
    assert "MD5" in str(caught.value) and str(caught.value).endswith("\ncopy it by hand")
    assert list((tmp_path / "bad").iterdir()) == []


def test_mirrors_are_tried_in_order_until_one_verifies(payload_server, tmp_path):
    mirrors = [payload_server.url(kind) for kind in ("missing", "corrupt", "truncated", "good")]
    assert download("payload.bin", SHA, tmp_path, mirrors).read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == ["payload.bin"]


def test_interrupted_download_leaves_nothing_behind(payload_server, tmp_path):
    class Interrupting(ProgressBar):
        def update(self, done):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download("payload.bin", SHA, tmp_path, [payload_server.url("good")], progress=Interrupting(io.StringIO()))
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_redraws_in_place_on_a_terminal(payload_server, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    download("payload.bin", SHA, tmp_path, [payload_server.url("good")], progress=ProgressBar(screen))
    assert "\r" in screen.getvalue() and "100% (0.3 / 0.3 MB)" in screen.getvalue()


def test_offline_error_says_so_and_where_to_put_the_files(closed_port_url, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [closed_port_url, closed_port_url + "other/"])
    with pytest.raises(DownloadError) as caught:
        data.MNIST(tmp_path, train=False, download=True)
    message = str(caught.value)
    assert caught.value.offline and "offline" in message and "cannot connect" in message
    assert f"into {tmp_path / 'mnist'}" in message
    assert list((tmp_path / "mnist").iterdir()) == []


@pytest.fixture
def mnist_server(server):
    """The server, also holding the real MNIST test files (whose SHA-256 is the published one)."""
    server.files.update({name: (SHARED / name).read_bytes() for name in mnist.FILES["test"]})
    return server


def test_mnist_download_falls_back_to_a_good_mirror(mnist_server, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [mnist_server.url("missing"), mnist_server.url("truncated"),
                                           mnist_server.url("good")])
    test = data.MNIST(tmp_path, train=False, download=True)
    assert len(test) == 10000
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(mnist.FILES["test"])
    for name in mnist.FILES["test"]:
        assert (tmp_path / "mnist" / name).read_bytes() == (SHARED / name).read_bytes()


def test_mnist_download_keeps_files_already_present(tmp_path, closed_port_url, monkeypatch):
    rng = numpy.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (5, 28, 28), dtype=numpy.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 5, dtype=numpy.uint8))
    monkeypatch.setattr(mnist, "MIRRORS", [closed_port_url])
    assert len(data.MNIST(tmp_path, train=False, download=True)) == 5     # user files: not checksummed


def test_command_line_downloads_all_four_files(mnist_server, tmp_path, monkeypatch, capsys):
    rng = numpy.random.default_rng(0)
    for name, array in zip(mnist.FILES["train"], (rng.integers(0, 256, (4, 28, 28), dtype=numpy.uint8),
                                                  rng.integers(0, 10, 4, dtype=numpy.uint8))):
        write_idx(tmp_path / name, array)
        mnist_server.files[name] = (tmp_path / name).read_bytes()
        monkeypatch.setitem(mnist.SHA256, name, hashlib.sha256(mnist_server.files[name]).hexdigest())
        (tmp_path / name).unlink()
    root = tmp_path / "root"
    assert main(["download", "mnist", "--root", str(root), "--mirror", mnist_server.url("good")]) == 0
    assert sorted(p.name for p in (root / "mnist").iterdir()) == sorted(mnist.SHA256)
    assert len(data.MNIST(root, train=True)) == 4 and len(data.MNIST(root, train=False)) == 10000
    assert main(["download", "mnist", "--root", str(root), "--mirror", mnist_server.url("missing")]) == 0
    assert "kept as it is" in capsys.readouterr().err


def test_command_line_failure_exits_nonzero_with_the_reason(server, tmp_path, capsys):
    assert main(["download", "mnist", "--root", str(tmp_path), "--mirror", server.url("missing")]) == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err and "train-images-idx3-ubyte.gz" in err


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "tinygrad_bn.data", "download", "--help"],
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert result.returncode == 0 and "--root" in result.stdout and "{mnist,cifar10}" in result.stdout
