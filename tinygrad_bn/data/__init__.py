"""Data: MNIST, CIFAR-10 and the offline digits, shuffled mini-batches, input normalisation.

    from tinygrad_bn import data
    train, test = data.Digits(train=True), data.Digits(train=False)   # offline, 8x8
    train = data.MNIST(train=True, download=True)                      # 28x28, verified download
    train = data.MNIST(train=True, flatten=False)                      # (N, 1, 28, 28) for convolutions
    train = data.CIFAR10(train=True, download=True)                    # (N, 3, 32, 32), verified download
    for images, labels in data.DataLoader(train, batch_size=60, shuffle=True, seed=0):
        ...
    for x, y in data.DataLoader(data.TensorDataset(x_all, y_all), batch_size=64, shuffle=True):
        ...                                                                # as torch.utils.data
    white = data.ZCAWhiten().fit(train.images)
    test_white = data.ArrayDataset(white.transform(test.images), test.labels)

See docs/data.md.  scikit-learn (for Digits) is imported only when Digits is used.
"""
from .cifar10 import CIFAR10, cifar10_available, download_cifar10, find_cifar10
from .dataset import ArrayDataset, Dataset, Subset, TensorDataset, random_split
from .digits import Digits
from .download import DownloadError
from .errors import DataFormatError
from .idx import IDXFormatError, read_idx, write_idx
from .loader import DataLoader, collate
from .mnist import MNIST, download_mnist, find_mnist, mnist_available
from .paths import data_root
from .transforms import Center, PCAWhiten, Standardize, Transform, ZCAWhiten
