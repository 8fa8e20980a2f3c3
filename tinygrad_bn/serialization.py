"""Saving and loading state dicts as ``.npz`` archives (one array per name).

``save`` writes to a temporary file in the same directory, flushes it to disk
(``fsync``) and then renames it over ``path`` with ``os.replace``, which is
atomic: whatever happens mid-write (a crash, a full disk), ``path`` holds either
the old checkpoint or the complete new one, never a truncated file.

``load`` returns an ordered dict of name -> Tensor on ``device`` ("cpu" by
default) with the dtypes and bits that were saved; ``Module.load_state_dict``
takes it as it is.
"""
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy

from . import backend
from .tensor import Tensor


def _host_array(name, value):
    array = backend.to_numpy(value.data) if isinstance(value, Tensor) else numpy.asarray(value)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"save: entry {name!r} has dtype {array.dtype}; only numeric arrays can be saved")
    return array


def save(state_dict, path):
    """Write a dict of name -> Tensor/array to ``path`` as an uncompressed ``.npz``, atomically."""
    arrays = OrderedDict()
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: keys must be strings, got {name!r}")
        arrays[name] = _host_array(name, value)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            numpy.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    if hasattr(os, "O_DIRECTORY"):          # make the rename itself durable (POSIX)
        fd = os.open(directory, os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load(path, device="cpu"):
    """Read a ``.npz`` written by ``save``: an ordered dict of name -> Tensor on ``device``.

    A missing file raises FileNotFoundError; a file that is not a complete
    ``.npz`` archive of numeric arrays raises ValueError naming ``path``.
    """
    path = os.fspath(path)
    device = backend.check_device(device)
    try:
        archive = numpy.load(path, allow_pickle=False)
        if not isinstance(archive, numpy.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive of named arrays")
        with archive:
            arrays = OrderedDict((name, archive[name]) for name in archive.files)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"load: {path!r} is not a valid .npz checkpoint (corrupt, truncated or another "
                         f"format): {exc}") from exc
    return OrderedDict((name, Tensor.wrap(backend.to_device(a, device), device)) for name, a in arrays.items())
