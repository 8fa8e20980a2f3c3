"""CIFAR-10 (Krizhevsky, 2009): 50,000 training and 10,000 test colour images, 32x32, in 10 classes.

The official python version is one tarball, ``cifar-10-python.tar.gz``.  Its
folder ``cifar-10-batches-py/`` holds the training batches ``data_batch_1`` to
``data_batch_5``, the ``test_batch`` and ``batches.meta`` (the class names),
each a pickled dict written by Python 2.  A batch's ``data`` is a uint8 array
(N, 3072), one image per row: 1024 red, then 1024 green, then 1024 blue
values, each channel 32x32 in row-major order, so a row reshapes directly to
(3, 32, 32); its ``labels`` are a list of N class indices.

The data set is looked for in the data root and in its ``cifar10/`` folder,
extracted (the folder ``cifar-10-batches-py``, as torchvision leaves it) or
as the tarball, which is read in place, never extracted.  What is found there
is read as it is (format and consistency are checked, not the checksum, so a
subset works).  ``download=True`` fetches the tarball into ``<root>/cifar10/``
and keeps it only when its MD5 equals the published one.  The batches are
unpickled by ``safe_pickle``, which calls no function but NumPy's array
constructors, so a hostile file cannot run code.
"""
import sys
import tarfile
import zlib

import numpy

from .dataset import ArrayDataset
from .download import download
from .errors import DataFormatError
from .paths import ROOT_RULE, data_root, locate, search_folders
from .safe_pickle import safe_loads

MIRRORS = ["https://www.cs.toronto.edu/~kriz/"]     # the data set's home; no other mirror is official
TARBALL = "cifar-10-python.tar.gz"
# The MD5 that the data set's authors publish beside the download, on https://www.cs.toronto.edu/~kriz/cifar.html
# (torchvision's CIFAR10.tgz_md5 is the same value).  No SHA-256 is published, so MD5 is what is verified.
MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
META = "batches.meta"
CHANNELS, SIDE, NUM_CLASSES = 3, 32, 10


def _how_to_get(root):
    return (f"Get it with `python -m tinygrad_bn.data download cifar10 --root {root}` "
            f"(or CIFAR10(..., download=True)), or, without network, copy {TARBALL} from {MIRRORS[0]} "
            f"into {root / 'cifar10'} (as it is, or extracted). " + ROOT_RULE)


def _locate(root):
    """The folder or the tarball under ``root``, or None."""
    return locate(search_folders(root, "cifar10"), [FOLDER, TARBALL])


def find_cifar10(root=None):
    """The folder ``cifar-10-batches-py`` or the tarball under the data root; ``FileNotFoundError`` if neither."""
    root = data_root(root)
    found = _locate(root)
    if found is None:
        folders = " and ".join(str(folder) for folder in search_folders(root, "cifar10"))
        raise FileNotFoundError(f"CIFAR-10 not found: neither the folder {FOLDER} nor {TARBALL} "
                                f"is in {folders}. " + _how_to_get(root))
    return found


def cifar10_available(root=None):
    """Whether the folder or the tarball is present under the data root (its contents are not read)."""
    return _locate(data_root(root)) is not None


def download_cifar10(root=None, mirrors=None, progress=None):
    """Fetch the tarball into ``<root>/cifar10/``, verified against ``MD5``, unless CIFAR-10 is present; its path.

    ``mirrors`` defaults to ``MIRRORS``.
    """
    root = data_root(root)
    present = _locate(root)
    if present is not None:
        print(f"found {present}, kept as it is", file=sys.stderr)
        return present
    return download(TARBALL, MD5, root / "cifar10", MIRRORS if mirrors is None else mirrors, progress,
                    algorithm="md5", hint=_how_to_get(root))


def _read_members(source, names):
    """``{name: (where, bytes)}`` for each batch file in ``names``, from the folder or the tarball ``source``."""
    if source.is_dir():
        missing = [name for name in names if not (source / name).is_file()]
        if missing:
            raise DataFormatError(source, f"{', '.join(missing)} missing: expected the files "
                                          f"{', '.join([*BATCHES['train'], *BATCHES['test'], META])}")
        return {name: (source / name, (source / name).read_bytes()) for name in names}
    wanted = {f"{FOLDER}/{name}": name for name in names}
    found = {}
    try:
        with tarfile.open(source, "r|*") as tar:        # one pass over the stream, nothing written to disk
            for member in tar:
                if member.name in wanted and member.isfile():
                    where = f"{source} (member {member.name})"
                    found[wanted[member.name]] = where, tar.extractfile(member).read()
                    if len(found) == len(wanted):
                        break
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataFormatError(source, f"not a readable tar archive ({exc})") from exc
    missing = [member for member, name in wanted.items() if name not in found]
    if missing:
        raise DataFormatError(source, f"no member {', '.join(missing)}: expected the official tarball's "
                                      f"members {FOLDER}/data_batch_1..5, test_batch and {META}")
    return found


def _unpickle(where, raw):
    """The object pickled in ``raw``, unpickled by ``safe_loads`` (no code from the file runs)."""
    try:
        return safe_loads(raw)
    except Exception as exc:     # a damaged or hostile pickle fails in many ways: EOFError, UnpicklingError, ...
        raise DataFormatError(where, f"not a CIFAR-10 pickle ({type(exc).__name__}: {exc})") from exc


def _describe(value):
    """What ``value`` is, for an error message: "a uint8 array of shape (3, 1024)", "a list of 9 items"."""
    if isinstance(value, numpy.ndarray):
        return f"a {value.dtype} array of shape {tuple(value.shape)}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return f"a {type(value).__name__}"


def _entries(where, content, keys):
    """The values of ``keys`` in the unpickled dict (its keys are bytes in the official files, str in one's own)."""
    if not isinstance(content, dict):
        raise DataFormatError(where, f"holds {_describe(content)}: expected a dict with {', '.join(keys)}")
    entries = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in content.items()}
    missing = [key for key in keys if key not in entries]
    if missing:
        raise DataFormatError(where, f"no {', '.join(missing)} entry: expected a dict with {', '.join(keys)}")
    return [entries[key] for key in keys]


def _read_batch(where, raw):
    """uint8 images (N, 3, 32, 32) and int64 labels (N,) of one batch file."""
    data, labels = _entries(where, _unpickle(where, raw), ["data", "labels"])
    features = CHANNELS * SIDE * SIDE
    if not (isinstance(data, numpy.ndarray) and data.dtype == numpy.uint8 and data.ndim == 2
            and data.shape[1] == features):
        raise DataFormatError(where, f"data is {_describe(data)}: expected uint8 of shape (N, {features}), "
                                     f"one {CHANNELS}x{SIDE}x{SIDE} image per row")
    given = labels
    if isinstance(labels, list) and all(isinstance(label, int) for label in labels):
        labels = numpy.array(labels, dtype=numpy.int64)
    if not (isinstance(labels, numpy.ndarray) and labels.dtype.kind in "iu" and labels.shape == (len(data),)):
        raise DataFormatError(where, f"labels are {_describe(given)}: expected {len(data)} integers, "
                                     f"one per image")
    if labels.size and not 0 <= labels.min() <= labels.max() < NUM_CLASSES:
        raise DataFormatError(where, f"labels range over {labels.min()}..{labels.max()}: "
                                     f"expected classes 0..{NUM_CLASSES - 1}")
    return data.reshape(len(data), CHANNELS, SIDE, SIDE), labels.astype(numpy.int64)


def _read_classes(where, raw):
    """The class names of ``batches.meta``, as str."""
    (names,) = _entries(where, _unpickle(where, raw), ["label_names"])
    if not (isinstance(names, list) and len(names) == NUM_CLASSES
            and all(isinstance(name, (bytes, str)) for name in names)):
        raise DataFormatError(where, f"label_names is {_describe(names)}: expected a list of "
                                     f"{NUM_CLASSES} class names")
    return [name.decode("latin1") if isinstance(name, bytes) else name for name in names]


class CIFAR10(ArrayDataset):
    """One split of CIFAR-10: ``images`` float32 (N, 3, 32, 32) in [0, 1], ``labels`` int64 in 0..9.

    ``CIFAR10(root=None, train=True, download=False)``: the five training
    batches in order (50,000 images) or the test batch (10,000).  Pixels are
    the 8-bit values divided by 255, channels in the order red, green, blue.
    ``classes`` holds the class names (``classes[label]``, from
    ``batches.meta``); ``source`` is the folder or tarball that was read.
    """

    def __init__(self, root=None, train=True, download=False):
        self.root, self.train = data_root(root), train
        self.source = download_cifar10(root) if download else find_cifar10(root)
        names = BATCHES["train" if train else "test"]
        members = _read_members(self.source, [META, *names])
        self.classes = _read_classes(*members[META])
        batches = [_read_batch(*members[name]) for name in names]
        pixels = numpy.concatenate([images for images, _ in batches]).astype(numpy.float32)
        pixels /= 255
        super().__init__(pixels, numpy.concatenate([labels for _, labels in batches]))
