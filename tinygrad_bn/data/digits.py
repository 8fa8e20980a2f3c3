"""Digits: scikit-learn's bundled handwritten digits, the offline stand-in for MNIST.

1,797 real 8x8 images of the digits 0-9 (the UCI "optical recognition of
handwritten digits" test set, 16 grey levels), shipped inside scikit-learn,
so no download is needed.  Pixels are divided by 16 to lie in [0, 1].

The split is fixed: the examples are permuted with
``numpy.random.default_rng(0).permutation(1797)``; the first 1,437 are the
training split and the last 360 the test split (a 80/20 split).
"""
import numpy

from .dataset import ArrayDataset, grey_images

SPLIT_SEED = 0
NUM_TRAIN = 1437      # of 1,797; the remaining 360 are the test split
MAX_PIXEL = 16


def _load_digits():
    """scikit-learn's ``load_digits``, imported on first use."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError("data.Digits needs scikit-learn, which is not installed; install it with "
                          "the demos extra: pip install 'tinygrad_bn[demos]'") from exc
    return load_digits()


class Digits(ArrayDataset):
    """One split of the digits: ``images`` float32 in [0, 1], ``labels`` int64 in 0..9.

    ``Digits(train=True, flatten=True)``: 1,437 training or 360 test
    examples; ``flatten=True`` gives images of shape (N, 64), ``flatten=False``
    image tensors (N, 1, 8, 8) for convolutions.
    """

    def __init__(self, train=True, flatten=True):
        bunch = _load_digits()
        order = numpy.random.default_rng(SPLIT_SEED).permutation(len(bunch.target))
        chosen = order[:NUM_TRAIN] if train else order[NUM_TRAIN:]
        images = (bunch.images[chosen] / MAX_PIXEL).astype(numpy.float32)
        self.train = train
        super().__init__(grey_images(images, flatten), bunch.target[chosen].astype(numpy.int64))
