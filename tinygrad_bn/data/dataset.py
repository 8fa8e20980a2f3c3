"""ArrayDataset: a labelled data set held as two host arrays.

Every data set of the library is one of these: ``images`` (float32, one
example per row, or one image tensor (C, H, W) per leading index) and
``labels`` (int64 class indices).  ``DataLoader`` batches any object with
these two attributes, so a demo builds a data set from arrays of its own with
``ArrayDataset(x, y)``.
"""
import numpy


class ArrayDataset:
    """``dataset[i] == (images[i], labels[i])``; ``len(dataset)`` examples."""

    def __init__(self, images, labels):
        images, labels = numpy.asarray(images), numpy.asarray(labels)
        if labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"expected one label per example: images of shape {images.shape} "
                             f"and labels of shape {labels.shape}")
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]

    def __repr__(self):
        return f"{type(self).__name__}(images={self.images.shape} {self.images.dtype}, " \
               f"labels={self.labels.shape} {self.labels.dtype})"


def grey_images(pixels, flatten):
    """(N, H, W) grey images as rows (N, H*W) for a linear layer, or (N, 1, H, W) for a convolution.

    The second layout is PyTorch's (N, C, H, W) with one channel; both are
    views of the same pixels, row-major, so ``rows[i, r * W + c] == tensors[i, 0, r, c]``.
    """
    return pixels.reshape(len(pixels), -1) if flatten else pixels[:, numpy.newaxis]
