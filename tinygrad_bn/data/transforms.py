"""Input normalisation as fitted transforms: statistics from the training set, applied to any set.

Each transform learns its statistics with ``fit(train_images)`` and then maps
any array with the *same* statistics via ``transform(images)`` (test data is
normalised with the training mean, never its own); ``fit_transform`` does
both on one array.  They work on host NumPy arrays of shape (N, ...), treat
each example as a flat vector of D features, compute in float64 and return
the input's float dtype and shape.  With ``per_channel=True`` the features are
instead the C channels of images (N, C, H, W): a channel's values at every
position of every image are its samples, so ``Standardize(per_channel=True)``
gives each channel mean 0 and std 1 over (N, H, W), the statistics BatchNorm2d
normalises with and the usual preprocessing of colour images (CIFAR-10).

With mean mu and covariance C = (X - mu)^T (X - mu) / N = U diag(lambda) U^T:

    Center        x - mu
    Standardize   (x - mu) / max(sigma, min_std)          per feature
    PCAWhiten     (x - mu) U (diag(lambda) + eps)^(-1/2)   decorrelated, unit variance
    ZCAWhiten     (x - mu) U (diag(lambda) + eps)^(-1/2) U^T

The two whitenings give identity covariance; ZCA's matrix is symmetric and,
of all whitening matrices, gives the output closest to the centred input in
mean squared distance (Kessy, Lewin & Strimmer 2018), so ZCA-whitened images
still look like images.  LeCun et al. (Efficient BackProp) recommend such
normalised inputs; Ioffe & Szegedy cite whitening as the motivation for BN.
"""
import numpy


class Transform:
    """Base class: ``fit`` stores statistics, ``transform`` applies them.

    ``per_channel=False``: one feature per entry of an example (N, ...);
    ``per_channel=True``: one feature per channel of images (N, C, ...).
    """

    def __init__(self, per_channel=False):
        self.per_channel = per_channel

    def fit(self, images):
        """Learn the statistics of ``images`` (N, ...); returns self."""
        self._fit(self._as_matrix(images, fitting=True))
        return self

    def transform(self, images):
        """``images`` mapped with the fitted statistics, same shape and float dtype."""
        if not hasattr(self, "mean"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(train_images) first")
        images = numpy.asarray(images)
        out = self._from_matrix(self._apply(self._as_matrix(images) - self.mean), images.shape)
        dtype = images.dtype if numpy.issubdtype(images.dtype, numpy.floating) else numpy.float32
        return numpy.ascontiguousarray(out, dtype=dtype)

    def fit_transform(self, images):
        """``fit(images).transform(images)``."""
        return self.fit(images).transform(images)

    def _as_matrix(self, images, fitting=False):
        """float64 (samples, features) view of ``images``, checked against the fitted feature count.

        Rows are the N examples and columns their D entries; with
        ``per_channel``, rows are the N * H * W pixel positions and columns the
        C channels.
        """
        images, name = numpy.asarray(images), type(self).__name__
        if self.per_channel:
            if images.ndim < 3:
                raise ValueError(f"{name}(per_channel=True) expects images of shape (N, C, H, W...), "
                                 f"got {tuple(images.shape)}")
            # laid out as (C, N * H * W), so that each channel's values are contiguous
            channels_first = numpy.ascontiguousarray(numpy.swapaxes(images, 0, 1), dtype=numpy.float64)
            matrix = channels_first.reshape(images.shape[1], -1).T
            samples, features = "values per channel", "channels"
        else:
            if images.ndim < 2:
                raise ValueError(f"{name} expects images of shape (N, features...), got {tuple(images.shape)}")
            matrix = images.reshape(len(images), -1).astype(numpy.float64)
            samples, features = "examples", "features per example"
        if fitting and len(matrix) < 2:
            raise ValueError(f"{name}.fit needs at least 2 {samples}, got {len(matrix)}")
        if not fitting and matrix.shape[1] != self.mean.shape[0]:
            raise ValueError(f"{name} was fitted on {self.mean.shape[0]} {features}, "
                             f"got {matrix.shape[1]} (shape {tuple(images.shape)})")
        return matrix

    def _from_matrix(self, matrix, shape):
        """The inverse of ``_as_matrix``'s rearrangement: the (samples, features) matrix as images of ``shape``."""
        if self.per_channel:
            return numpy.swapaxes(matrix.T.reshape(shape[1], shape[0], *shape[2:]), 0, 1)
        return matrix.reshape(shape)

    def _fit(self, matrix):
        self.mean = matrix.mean(axis=0)

    def _apply(self, centred):
        return centred


class Center(Transform):
    """Subtract the per-feature training mean."""


class Standardize(Transform):
    """Per feature: subtract the training mean, divide by the training std, floored at ``min_std``.

    The floor keeps (nearly) constant features, such as MNIST's border
    pixels, from being divided by zero or blown up; it is in the units of the
    data (for pixels in [0, 1], 0.01 is about 2.5 of 255 grey levels).
    ``Standardize(per_channel=True)``: per channel of (N, C, H, W) images,
    statistics over (N, H, W).
    """

    def __init__(self, min_std=1e-2, per_channel=False):
        super().__init__(per_channel)
        self.min_std = min_std

    def _fit(self, matrix):
        super()._fit(matrix)
        self.std = numpy.maximum(matrix.std(axis=0), self.min_std)

    def _apply(self, centred):
        return centred / self.std


class _Whiten(Transform):
    """Shared fitting of the whitenings: the eigendecomposition of the covariance."""

    def __init__(self, eps=1e-5, per_channel=False):
        super().__init__(per_channel)
        self.eps = eps

    def _fit(self, matrix):
        super()._fit(matrix)
        centred = matrix - self.mean
        covariance = centred.T @ centred / len(matrix)
        eigenvalues, eigenvectors = numpy.linalg.eigh(covariance)
        order = numpy.argsort(eigenvalues)[::-1]           # largest variance first
        self.eigenvalues = numpy.clip(eigenvalues[order], 0, None)   # round-off can make them -1e-17
        self.eigenvectors = eigenvectors[:, order]
        self.matrix = self._whitening_matrix(self.eigenvectors / numpy.sqrt(self.eigenvalues + self.eps))

    def _apply(self, centred):
        return centred @ self.matrix


class PCAWhiten(_Whiten):
    """Rotate onto the principal axes (largest variance first) and scale each to unit variance.

    ``eps`` is added to every eigenvalue: it bounds the gain on directions of
    (almost) no variance.  Output feature k is principal component k.
    """

    def _whitening_matrix(self, scaled_axes):
        return scaled_axes


class ZCAWhiten(_Whiten):
    """PCA whitening rotated back to the input axes: the symmetric whitening matrix.

    ``eps`` is added to every eigenvalue, as in ``PCAWhiten``.
    """

    def _whitening_matrix(self, scaled_axes):
        return scaled_axes @ self.eigenvectors.T
