"""MNIST (LeCun, Cortes & Burges): 60,000 training and 10,000 test digits, 28x28 grey levels.

The data set is four IDX files (see ``idx.py``), gzipped or not, looked for
in the data root and in its ``mnist/`` folder.  Files found there are read
as they are (their format and consistency are checked, not their checksums,
so a subset or a file of one's own works).  ``download=True`` fetches the
missing files into ``<root>/mnist/`` and keeps each one only when its SHA-256
equals the published one.
"""
import sys

import numpy

from .dataset import ArrayDataset, grey_images
from .download import download
from .idx import IDXFormatError, magic_number, read_idx
from .paths import ROOT_RULE, data_root, locate, search_folders

# Base URLs tried in order: PyTorch's and TensorFlow's mirrors, then the original site.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
# Published SHA-256 of the gzipped files, as listed e.g. by torchvision's prototype MNIST dataset
# (torchvision/prototype/datasets/_builtin/mnist.py) and Guild AI's MNIST package; docs/data.md.
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
SIDE = 28
NUM_CLASSES = 10


def _locate(root, name):
    """The path of file ``name`` (gzipped, or raw without ``.gz``) under ``root``, or None."""
    return locate(search_folders(root, "mnist"), [name, name.removesuffix(".gz")])


def _how_to_get(root):
    return (f"Get them with `python -m tinygrad_bn.data download mnist --root {root}` "
            f"(or MNIST(..., download=True)), or, without network, copy the files from one of "
            f"{', '.join(MIRRORS)} into {root / 'mnist'} (gzipped or not). " + ROOT_RULE)


def find_mnist(root=None, train=True):
    """The paths (images, labels) of one split; ``FileNotFoundError`` saying what is missing and where to put it."""
    root = data_root(root)
    split = "train" if train else "test"
    paths = [_locate(root, name) for name in FILES[split]]
    missing = [name for name, path in zip(FILES[split], paths) if path is None]
    if missing:
        folders = " and ".join(str(folder) for folder in search_folders(root, "mnist"))
        raise FileNotFoundError(f"MNIST {split} files not found: {', '.join(missing)}. Looked in {folders} "
                                f"(each name also without .gz). " + _how_to_get(root))
    return tuple(paths)


def mnist_available(root=None, train=True):
    """Whether both files of a split are present under the data root (their contents are not read)."""
    root = data_root(root)
    return all(_locate(root, name) is not None for name in FILES["train" if train else "test"])


def download_mnist(root=None, train=True, mirrors=None, progress=None):
    """Fetch the split's missing files into ``<root>/mnist/``, verified against ``SHA256``; their paths.

    Files already present are kept as they are.  ``mirrors`` defaults to ``MIRRORS``.
    """
    root = data_root(root)
    paths = []
    for name in FILES["train" if train else "test"]:
        present = _locate(root, name)
        if present is not None:
            print(f"found {present}, kept as it is", file=sys.stderr)
            paths.append(present)
            continue
        paths.append(download(name, SHA256[name], root / "mnist", MIRRORS if mirrors is None else mirrors,
                              progress, hint=_how_to_get(root)))
    return tuple(paths)


def _read_images(path):
    """uint8 images of shape (N, 28, 28) from an IDX image file."""
    images = read_idx(path)
    if images.dtype != numpy.uint8 or images.ndim != 3:
        raise IDXFormatError(path, f"wrong magic number 0x{magic_number(images.dtype, images.ndim):08X} "
                                   f"for an image file: expected 0x{magic_number(numpy.uint8, 3):08X} "
                                   f"(unsigned bytes, 3 dimensions)")
    if images.shape[1:] != (SIDE, SIDE):
        raise IDXFormatError(path, f"wrong dimensions: images of {images.shape[1]}x{images.shape[2]} "
                                   f"pixels, expected {SIDE}x{SIDE}")
    return images


def _read_labels(path):
    """uint8 labels 0..9 of shape (N,) from an IDX label file."""
    labels = read_idx(path)
    if labels.dtype != numpy.uint8 or labels.ndim != 1:
        raise IDXFormatError(path, f"wrong magic number 0x{magic_number(labels.dtype, labels.ndim):08X} "
                                   f"for a label file: expected 0x{magic_number(numpy.uint8, 1):08X} "
                                   f"(unsigned bytes, 1 dimension)")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise IDXFormatError(path, f"label {labels.max()} out of range: expected digits 0..{NUM_CLASSES - 1}")
    return labels


class MNIST(ArrayDataset):
    """One split of MNIST: ``images`` float32 in [0, 1], ``labels`` int64 in 0..9.

    ``MNIST(root=None, train=True, download=False, flatten=True)``: the
    training split (60,000) or the test split (10,000); ``flatten=True`` gives
    images of shape (N, 784), ``flatten=False`` image tensors (N, 1, 28, 28)
    for convolutions.  ``self.files`` holds the two paths that were read.
    """

    def __init__(self, root=None, train=True, download=False, flatten=True):
        self.root, self.train = data_root(root), train
        self.files = download_mnist(root, train) if download else find_mnist(root, train)
        images, labels = _read_images(self.files[0]), _read_labels(self.files[1])
        if len(images) != len(labels):
            raise IDXFormatError(self.files[0], f"{len(images)} images but {len(labels)} labels "
                                                f"in {self.files[1]}: the counts must match")
        pixels = images.astype(numpy.float32)
        pixels /= 255
        super().__init__(grey_images(pixels, flatten), labels.astype(numpy.int64))
