"""Checkpoints: ``tg.save(obj, path)`` and ``tg.load(path)``, as in PyTorch.

What can be saved is what PyTorch users save: a state dict, or any nesting of
dicts (str or int keys), lists and tuples whose leaves are Tensors, NumPy
arrays, NumPy scalars, int, float, bool, complex, str and None, e.g.
``{"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict()}``.
``load`` gives back the same structure: the same types (OrderedDict stays
OrderedDict, tuple stays tuple, int keys stay int), the same key order, and
bit-exact arrays of the same dtype and shape.  Tensors come back as Tensors
(a Parameter as a Parameter, with ``requires_grad`` as saved); NumPy arrays
and scalars come back as NumPy arrays and scalars, on the host, as PyTorch
returns whatever was pickled.

The file is an uncompressed ``.npz`` (a zip of ``.npy`` files), so NumPy
opens it too.  Entry ``tinygrad_bn.json`` holds ``{"format": "tinygrad_bn",
"version": 1, "object": node}``, where a node describes one value:

    {"type": "dict" | "OrderedDict", "items": [[key, node], ...]}
    {"type": "list" | "tuple", "items": [node, ...]}
    {"type": "Tensor" | "Parameter", "array": n, "device": "cpu", "requires_grad": false}
    {"type": "ndarray" | "numpy_scalar", "array": n}
    {"type": "int" | "bool" | "str", "value": ...}      {"type": "None"}
    {"type": "float", "value": f}   {"type": "complex", "real": f, "imag": f}

The array of a node is entry ``<n>.npy``: arrays are named by position, so a
key may be any string (``"allow_pickle"``, ``"file"``, ``""``, ``"a/b"``).  JSON
keeps a key's type (``1`` and ``"1"`` differ).  A finite float ``f`` is a JSON
number (exact: Python writes the shortest decimal that reads back to the same
double); inf and NaN, which JSON lacks, are their 8 IEEE-754 bytes in hex.

Loading reads JSON and ``.npy`` data (``allow_pickle=False``) and nothing
else, so opening a checkpoint can never run code.  That is why ``load``
refuses pickles (``torch.save``'s files among them) and says what it found.
It also reads the plain ``.npz`` of name -> array that earlier versions wrote.

``save`` writes a temporary file in the same folder, flushes it to disk
(``fsync``) and renames it over ``path`` with ``os.replace``, which is atomic:
whatever happens mid-write, ``path`` holds the old checkpoint or the complete
new one, never a part.  Everything is checked before the first byte is written.
"""
import errno
import io
import json
import math
import os
import secrets
import struct
import zipfile
from collections import OrderedDict

import numpy
from numpy.lib import format as npy_format

from . import backend
from .nn import Parameter
from .tensor import Tensor

FORMAT, VERSION = "tinygrad_bn", 1
STRUCTURE_ENTRY = "tinygrad_bn.json"
NUMERIC_KINDS = "biufc"          # bool, signed and unsigned int, float, complex
SAVEABLE = ("dicts (str or int keys), lists and tuples of Tensors, NumPy arrays and scalars, "
            "int, float, bool, complex, str and None")


# ------------------------------------------------------------ save

def save(obj, path):
    """Write ``obj`` (a state dict or a nesting of dicts, lists and tuples, see
    the module docstring) to ``path`` as an ``.npz`` checkpoint, atomically.

    Raises TypeError naming where in ``obj`` a value that cannot be saved sits
    (e.g. ``obj['model']['0.weight']``), before anything is written.
    """
    arrays = []
    structure = {"format": FORMAT, "version": VERSION, "object": _describe(obj, "obj", arrays, set())}
    _write_atomically(os.fspath(path), lambda file: _write_archive(file, structure, arrays))


def _describe(value, where, arrays, enclosing):
    """The JSON node of ``value``; its arrays (host copies) are appended to ``arrays``.

    ``where`` spells the value's place for error messages; ``enclosing`` holds the
    ids of the containers around it, to refuse a container that holds itself.
    Types are matched exactly: a subclass (a namedtuple, a defaultdict, an
    IntEnum) would not come back as itself, so it is refused, not converted.
    """
    if isinstance(value, Tensor):
        node = {"type": "Parameter" if isinstance(value, Parameter) else "Tensor",
                "device": value.device, "requires_grad": value.requires_grad}
        return _array_node(node, backend.to_numpy(value._data), where, arrays)
    if type(value) is numpy.ndarray:
        return _array_node({"type": "ndarray"}, value, where, arrays)
    if isinstance(value, numpy.generic):            # before float: numpy.float64 is a float
        return _array_node({"type": "numpy_scalar"}, numpy.asarray(value), where, arrays)
    kind = type(value)
    if value is None:
        return {"type": "None"}
    if kind in (bool, int, str):
        return {"type": kind.__name__, "value": value}
    if kind is float:
        return {"type": "float", "value": _float_to_json(value)}
    if kind is complex:
        return {"type": "complex", "real": _float_to_json(value.real), "imag": _float_to_json(value.imag)}
    if kind not in (dict, OrderedDict, list, tuple):
        hint = " (for a model or an optimizer, save its state_dict())" if hasattr(value, "state_dict") else ""
        raise TypeError(f"save: {where} is a {_type_name(value)}, which a checkpoint cannot hold{hint}; "
                        f"expected {SAVEABLE}")
    if id(value) in enclosing:
        raise ValueError(f"save: {where} contains itself (a reference cycle); a checkpoint must be a tree")
    enclosing.add(id(value))
    if kind in (list, tuple):
        items = [_describe(item, f"{where}[{i}]", arrays, enclosing) for i, item in enumerate(value)]
    else:
        items = [[_check_key(key, where), _describe(item, f"{where}[{key!r}]", arrays, enclosing)]
                 for key, item in value.items()]
    enclosing.discard(id(value))
    return {"type": kind.__name__, "items": items}


def _array_node(node, array, where, arrays):
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"save: {where} has dtype {array.dtype}; only numeric and bool arrays can be saved")
    node["array"] = len(arrays)
    arrays.append(array)
    return node


def _check_key(key, where):
    if type(key) not in (str, int):
        raise TypeError(f"save: {where} has the key {key!r} of type {_type_name(key)}; keys must be str or int")
    return key


def _type_name(value):
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _float_to_json(x):
    return x if math.isfinite(x) else struct.pack(">d", x).hex()


def _write_archive(file, structure, arrays):
    """The ``.npz``: the structure entry, then ``0.npy``, ``1.npy``, ... (uncompressed).

    Each entry gets the same fixed timestamp, so saving the same object twice
    writes the same bytes.
    """
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        text = json.dumps(structure, allow_nan=False)
        archive.writestr(zipfile.ZipInfo(STRUCTURE_ENTRY), text.encode("ascii"))
        for index, array in enumerate(arrays):
            with archive.open(zipfile.ZipInfo(f"{index}.npy"), "w", force_zip64=True) as entry:
                npy_format.write_array(entry, array, allow_pickle=False)


def _write_atomically(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    The temporary file is created with mode 0o666 less the umask, as ``open``
    would create ``path``, so the checkpoint gets the usual permissions.
    """
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        handle = os.open(temporary, flags, 0o666)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"save: cannot write {path!r}: no such folder", directory) from None
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.remove(temporary)
        raise
    if hasattr(os, "O_DIRECTORY"):          # make the rename itself durable (POSIX)
        folder = os.open(directory, os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


# ------------------------------------------------------------ load

def load(path, map_location=None, device=None, weights_only=None):
    """Read a checkpoint written by ``save``: the saved object, rebuilt.

    ``map_location`` puts every Tensor on one device ("cpu", "cuda", "cuda:0");
    ``None`` puts each back on the device it was saved from, as in PyTorch.
    Functions and dicts as ``map_location`` are not supported.  ``device`` is
    another name for ``map_location``.  ``weights_only`` is accepted for
    PyTorch's sake and changes nothing: loading never runs code.

    A plain ``.npz`` of name -> array (the earlier format) loads as an ordered
    dict of name -> Tensor, on "cpu" unless ``map_location`` says otherwise.
    A missing file raises FileNotFoundError; any other file (a PyTorch or
    pickle checkpoint, a single ``.npy``, an ``.npz`` of object arrays, a
    truncated or corrupt file) raises ValueError saying what it is.
    """
    path = os.fspath(path)
    target = _target_device(map_location, device)
    with open(path, "rb") as file:
        start = file.read(8)
        if not start.startswith(b"PK"):
            raise _refusal(path, _what_it_is(start))
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                return _read_archive(archive, path, target)
        except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError) as exc:
            raise _refusal(path, f"it is a truncated or corrupt zip archive ({exc})") from exc


def _target_device(map_location, device):
    """The one device every Tensor goes to, or None for "where it was saved"."""
    if device is not None:
        if map_location is not None:
            raise TypeError("load: give map_location or device, not both (device is another name for it)")
        map_location = device
    if map_location is None:
        return None
    if callable(map_location) or isinstance(map_location, dict):
        raise TypeError(f"load: map_location={map_location!r} is not supported; give a device name "
                        f"('cpu', 'cuda', 'cuda:0') or None (each Tensor back on the device it was saved from)")
    target = backend.check_device(map_location)
    backend.xp_of(target)                   # "cuda" without CuPy or a GPU fails here, with the reason
    return target


def _what_it_is(start):
    """What a file that is not a zip archive is, from its first bytes."""
    if not start:
        return "the file is empty"
    if start.startswith(b"\x80"):
        return ("it is a pickle (its first byte is 0x80), as written by pickle.dump or by torch.save with "
                "_use_new_zipfile_serialization=False; unpickling can run any code, so tinygrad_bn never does")
    if start.startswith(b"\x93NUMPY"):
        return "it is a single NumPy array (.npy), not a checkpoint; read it with numpy.load"
    return f"it is not a zip archive (it starts with {start!r})"


def _refusal(path, what):
    return ValueError(f"load: {path!r} is not a tinygrad_bn checkpoint: {what}. "
                      f"Expected a file written by tg.save (an .npz of numeric arrays).")


def _read_archive(archive, path, target):
    names = archive.namelist()
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        raise _refusal(path, "it is a PyTorch checkpoint (a zip holding data.pkl, written by torch.save), "
                             "whose structure is a pickle; unpickling can run any code, so tinygrad_bn never "
                             "does. Where PyTorch is installed, pass its tensors as NumPy arrays "
                             "(tensor.numpy()) to tg.save or to Module.load_state_dict")
    if STRUCTURE_ENTRY not in names:
        return _read_plain_npz(archive, names, path, target or backend.CPU)
    try:
        structure = json.loads(archive.read(STRUCTURE_ENTRY))
        version = structure["version"]
        if structure["format"] != FORMAT or type(version) is not int:
            raise ValueError(f"format {structure['format']!r}, version {version!r}")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise _refusal(path, f"its entry {STRUCTURE_ENTRY!r} is not a tinygrad_bn structure ({exc})") from exc
    if version > VERSION:
        raise _refusal(path, f"it was written by a newer tinygrad_bn (checkpoint format version {version}); "
                             f"this one reads version {VERSION} and earlier")
    if names != [STRUCTURE_ENTRY] + [f"{index}.npy" for index in range(len(names) - 1)]:
        raise _refusal(path, f"its entries are {names}; expected {STRUCTURE_ENTRY!r}, then 0.npy, 1.npy, ...")
    arrays = [_read_array(archive, name, path) for name in names[1:]]
    try:
        return _rebuild(structure["object"], arrays, target, path)
    except (ValueError, KeyError, TypeError, IndexError, struct.error, RecursionError) as exc:
        raise _refusal(path, f"its entry {STRUCTURE_ENTRY!r} is malformed ({type(exc).__name__}: {exc})") from exc


def _read_plain_npz(archive, names, path, target):
    state = OrderedDict()
    for name in names:
        if not name.endswith(".npy"):
            raise _refusal(path, f"it is a zip archive whose entry {name!r} is not an .npy array")
        array = _read_array(archive, name, path)
        state[name[:-len(".npy")]] = Tensor.wrap(backend.to_device(array, target), target)
    return state


_NPY_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


def _read_array(archive, name, path):
    """The numeric array in entry ``name``; its header is read first, so an object
    array (a pickle inside the ``.npy``) is refused before any of its data is touched."""
    stream = io.BytesIO(archive.read(name))          # the whole entry, so zipfile checks its CRC
    try:
        read_header = _NPY_HEADER_READERS[npy_format.read_magic(stream)]
        dtype = read_header(stream)[2]
    except (ValueError, KeyError) as exc:
        raise _refusal(path, f"its entry {name!r} is not an .npy array of format 1.0 or 2.0 ({exc})") from exc
    if dtype.hasobject:
        raise _refusal(path, f"its entry {name!r} is an object array: Python objects stored as a pickle, "
                             f"which only unpickling (able to run any code) could read")
    if dtype.kind not in NUMERIC_KINDS:
        raise _refusal(path, f"its entry {name!r} has dtype {dtype}, not a numeric or bool one")
    stream.seek(0)
    try:
        return npy_format.read_array(stream, allow_pickle=False)
    except ValueError as exc:
        raise _refusal(path, f"its entry {name!r} is truncated or corrupt ({exc})") from exc


def _rebuild(node, arrays, target, path):
    """The value a JSON node describes (the inverse of ``_describe``)."""
    kind = node["type"]
    if kind in ("dict", "OrderedDict"):
        container = dict if kind == "dict" else OrderedDict
        return container((_checked_key(key), _rebuild(item, arrays, target, path)) for key, item in node["items"])
    if kind in ("list", "tuple"):
        items = [_rebuild(item, arrays, target, path) for item in node["items"]]
        return items if kind == "list" else tuple(items)
    if kind in ("Tensor", "Parameter"):
        return _rebuild_tensor(node, arrays[node["array"]], target, path)
    if kind == "ndarray":
        return arrays[node["array"]]
    if kind == "numpy_scalar":
        return arrays[node["array"]][()]
    if kind == "None":
        return None
    if kind in ("bool", "int", "str"):
        value = node["value"]
        if type(value).__name__ != kind:
            raise ValueError(f"a {kind} node holds {value!r}")
        return value
    if kind == "float":
        return _float_from_json(node["value"])
    if kind == "complex":
        return complex(_float_from_json(node["real"]), _float_from_json(node["imag"]))
    raise ValueError(f"unknown node type {kind!r}")


def _rebuild_tensor(node, array, target, path):
    saved_on = backend.check_device(node["device"])
    device = target or saved_on
    if target is None and saved_on == backend.CUDA:
        try:
            backend.xp_of(backend.CUDA)
        except RuntimeError as exc:
            raise RuntimeError(f"load: {path!r} holds Tensors saved on 'cuda', which cannot be used here "
                               f"({exc}); pass map_location='cpu' to load them onto the CPU") from exc
    tensor = Tensor.wrap(backend.to_device(array, device), device)
    if node["type"] == "Parameter":
        return Parameter(tensor, requires_grad=node["requires_grad"])
    return tensor.requires_grad_(True) if node["requires_grad"] else tensor


def _checked_key(key):
    if type(key) not in (str, int):
        raise ValueError(f"the key {key!r} is neither str nor int")
    return key


def _float_from_json(value):
    if type(value) in (int, float):
        return float(value)
    return struct.unpack(">d", bytes.fromhex(value))[0]
