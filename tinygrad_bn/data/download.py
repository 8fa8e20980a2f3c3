"""Download a file from mirrors, keeping it only when its published checksum matches.

The mirrors are tried in order.  The bytes of each attempt stream into a
temporary file in the destination directory while their checksum is computed
(SHA-256 for MNIST; MD5 for CIFAR-10, the only checksum its authors publish);
only a file whose checksum equals the published one is renamed into place
(``os.replace``, atomic within one file system).  Anything else (an HTTP
error, a dropped connection, a corrupt file, Ctrl-C) deletes the temporary
file, so an interrupted or corrupt download leaves nothing behind.
Standard library only (urllib).
"""
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT = 30          # seconds without an answer before a mirror is given up
CHUNK = 1 << 16       # bytes read at a time


class DownloadError(RuntimeError):
    """No mirror delivered the file; ``offline`` when none could even be reached."""

    def __init__(self, message, offline):
        super().__init__(message)
        self.offline = offline


class _MirrorFailed(Exception):
    """One mirror did not deliver; ``unreachable`` when the connection itself failed."""

    def __init__(self, reason, unreachable=False):
        super().__init__(reason)
        self.unreachable = unreachable


class ProgressBar:
    """Reports a download on stderr: redrawn in place on a terminal, a start and an end line otherwise."""

    def __init__(self, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.live = self.stream.isatty()

    def start(self, url, total):
        self.url, self.total, self.shown = url, total, None
        size = f" ({total / 1e6:.1f} MB)" if total else ""
        self.stream.write(f"downloading {url}{size}" + ("" if self.live else "\n"))
        self.stream.flush()

    def update(self, done):
        if not (self.live and self.total):
            return
        percent = 100 * done // self.total
        if percent != self.shown:
            self.shown = percent
            self.stream.write(f"\rdownloading {self.url}: {percent:3d}% "
                              f"({done / 1e6:.1f} / {self.total / 1e6:.1f} MB)")
            self.stream.flush()

    def finish(self, done):
        self.stream.write(("\n" if self.live else "") + f"  received {done:,} bytes\n")
        self.stream.flush()


def _fetch(url, directory, name, algorithm, progress):
    """Stream ``url`` into a temporary file in ``directory``; its path, size and checksum."""
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise _MirrorFailed(f"cannot connect ({getattr(exc, 'reason', exc)})", unreachable=True) from exc
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
    try:
        with response, os.fdopen(fd, "wb") as out:
            digest, done = hashlib.new(algorithm, usedforsecurity=False), 0
            total = int(response.headers.get("Content-Length") or 0) or None
            progress.start(url, total)
            try:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    progress.update(done)
            except (http.client.IncompleteRead, OSError) as exc:
                raise _MirrorFailed(f"connection broke after {done:,} of {total or '?'} bytes ({exc!r})") from exc
        if total is not None and done != total:
            raise _MirrorFailed(f"connection closed after {done:,} of {total:,} bytes")
        progress.finish(done)
        return Path(temporary), done, digest.hexdigest()
    except BaseException:
        os.remove(temporary)
        raise


def download(name, checksum, directory, mirrors, progress=None, algorithm="sha256", hint=None):
    """Fetch ``mirror + name`` from the first mirror that serves the file with this published checksum.

    ``checksum`` is the published hex digest and ``algorithm`` its hashlib
    name ("sha256", "md5").  Returns the path ``directory/name``; raises
    ``DownloadError`` listing what went wrong at each mirror, followed by
    ``hint`` (how else to get the file).  ``progress`` is a ``ProgressBar``
    (default: one on stderr).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    progress = ProgressBar() if progress is None else progress
    failures, unreachable = [], []
    for mirror in mirrors:
        url = mirror + name
        try:
            temporary, size, digest = _fetch(url, directory, name, algorithm, progress)
        except _MirrorFailed as exc:
            failures.append(f"  {url}: {exc}")
            unreachable.append(exc.unreachable)
            continue
        if digest != checksum:
            os.remove(temporary)
            failures.append(f"  {url}: {algorithm.upper()} {digest} of the {size:,} bytes received differs "
                            f"from the published {checksum} (file discarded)")
            unreachable.append(False)
            continue
        target = directory / name
        os.replace(temporary, target)
        return target
    offline = bool(unreachable) and all(unreachable)
    summary = "no mirror could be reached: is this machine offline?" if offline else "every mirror failed"
    message = f"could not download {name}: {summary}\n" + "\n".join(failures)
    raise DownloadError(message + (f"\n{hint}" if hint else ""), offline)
