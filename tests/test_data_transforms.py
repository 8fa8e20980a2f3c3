"""Fitted input normalisation: zero mean, unit variance, identity covariance, train statistics on test data."""
import numpy
import pytest
import scipy.linalg
from hypothesis import given, strategies as st

from tinygrad_bn import data

FEATURES = 6


def correlated(count, seed, shift=0.0):
    """Gaussian examples with a random full-rank covariance and a non-zero mean."""
    rng = numpy.random.default_rng(seed)
    mixing = numpy.random.default_rng(100).normal(size=(FEATURES, FEATURES)) + 2 * numpy.eye(FEATURES)
    return rng.normal(size=(count, FEATURES)) @ mixing + 3.0 + shift


def covariance(x):
    centred = x - x.mean(axis=0)
    return centred.T @ centred / len(x)


TRAIN, TEST = correlated(2000, 0), correlated(500, 1, shift=0.5)


def test_center_gives_zero_mean_and_subtracts_the_train_mean_from_test():
    center = data.Center()
    numpy.testing.assert_allclose(center.fit_transform(TRAIN).mean(axis=0), 0, atol=1e-12)
    numpy.testing.assert_allclose(center.transform(TEST), TEST - TRAIN.mean(axis=0), atol=1e-12)


def test_standardize_gives_zero_mean_unit_variance_per_feature():
    standardize = data.Standardize()
    out = standardize.fit_transform(TRAIN)
    numpy.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    numpy.testing.assert_allclose(out.std(axis=0), 1, atol=1e-12)
    numpy.testing.assert_allclose(standardize.transform(TEST),
                                  (TEST - TRAIN.mean(axis=0)) / TRAIN.std(axis=0), atol=1e-12)


def test_standardize_floors_the_std_of_constant_features():
    train = numpy.column_stack([TRAIN[:, 0], numpy.full(len(TRAIN), 0.25)])
    standardize = data.Standardize(min_std=0.01).fit(train)
    numpy.testing.assert_array_equal(standardize.transform(train)[:, 1], 0)
    numpy.testing.assert_allclose(standardize.transform(numpy.array([[0.0, 0.35]]))[0, 1], 10.0)


@pytest.mark.parametrize("whiten", [data.PCAWhiten, data.ZCAWhiten])
@pytest.mark.parametrize("eps", [0.0, 1e-5, 1e-2])
def test_whitening_gives_zero_mean_and_identity_covariance(whiten, eps):
    """The output covariance has eigenvalues lambda / (lambda + eps): identity up to eps / lambda_min."""
    out = whiten(eps=eps).fit_transform(TRAIN)
    numpy.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    deviation = numpy.linalg.norm(covariance(out) - numpy.eye(FEATURES), ord=2)
    smallest = numpy.linalg.eigvalsh(covariance(TRAIN)).min()
    assert deviation <= eps / (smallest + eps) + 1e-10


def test_pca_components_are_the_principal_axes_in_order_of_variance():
    pca = data.PCAWhiten(eps=0).fit(TRAIN)
    out = pca.transform(TRAIN)
    _, singular, axes = numpy.linalg.svd(TRAIN - TRAIN.mean(axis=0), full_matrices=False)
    # component k is the projection on the k-th right singular vector, scaled to unit variance
    for k in range(FEATURES):
        projection = (TRAIN - TRAIN.mean(axis=0)) @ axes[k] / (singular[k] / numpy.sqrt(len(TRAIN)))
        numpy.testing.assert_allclose(numpy.abs(out[:, k] @ projection) / len(TRAIN), 1, atol=1e-8)
    assert numpy.all(numpy.diff(pca.eigenvalues) <= 0)


def test_zca_matrix_is_the_symmetric_inverse_square_root_of_the_train_covariance():
    zca = data.ZCAWhiten(eps=0).fit(TRAIN)
    numpy.testing.assert_allclose(zca.matrix, zca.matrix.T, atol=1e-12)
    inverse_root = numpy.linalg.inv(scipy.linalg.sqrtm(covariance(TRAIN)).real)
    numpy.testing.assert_allclose(zca.transform(TEST), (TEST - TRAIN.mean(axis=0)) @ inverse_root, atol=1e-8)


@given(seed=st.integers(0, 2**32 - 1))
def test_zca_output_is_closest_to_the_input_among_whitenings(seed):
    """Any whitening is Q @ W_zca with Q orthogonal; ZCA (Q = I) moves the centred data the least."""
    centred = TRAIN - TRAIN.mean(axis=0)
    zca = data.ZCAWhiten(eps=0).fit(TRAIN)
    distance = lambda out: numpy.mean(numpy.sum((out - centred) ** 2, axis=1))
    rotation, _ = numpy.linalg.qr(numpy.random.default_rng(seed).normal(size=(FEATURES, FEATURES)))
    other = zca.transform(TRAIN) @ rotation
    numpy.testing.assert_allclose(covariance(other), numpy.eye(FEATURES), atol=1e-8)   # also a whitening
    assert distance(zca.transform(TRAIN)) <= distance(other) + 1e-9
    assert distance(zca.transform(TRAIN)) < distance(data.PCAWhiten(eps=0).fit_transform(TRAIN))


@pytest.mark.parametrize("transform", [data.Center(), data.Standardize(), data.PCAWhiten(), data.ZCAWhiten()])
def test_test_data_is_mapped_with_train_statistics(transform):
    transform.fit(TRAIN)
    from_train = transform.transform(TEST)
    numpy.testing.assert_array_equal(transform.transform(TEST[:7]), from_train[:7])  # row by row, no refit
    assert numpy.abs(from_train.mean(axis=0)).max() > 0.1                           # the test shift shows
    assert not numpy.allclose(from_train, type(transform)().fit_transform(TEST))


def test_shape_and_float_dtype_are_kept_and_constant_pixels_stay_finite():
    images = numpy.random.default_rng(0).random((200, 4, 4), dtype=numpy.float32)
    images[:, 0, 0] = 0                                           # a border pixel that is always off
    for transform in (data.Standardize(), data.PCAWhiten(), data.ZCAWhiten()):
        out = transform.fit_transform(images)
        assert out.shape == images.shape and out.dtype == numpy.float32 and numpy.isfinite(out).all()


def test_misuse_is_refused_with_the_reason():
    with pytest.raises(RuntimeError, match="ZCAWhiten is not fitted: call fit"):
        data.ZCAWhiten().transform(TRAIN)
    with pytest.raises(ValueError, match="fitted on 6 features per example, got 5"):
        data.Center().fit(TRAIN).transform(TRAIN[:, :5])
    with pytest.raises(ValueError, match="at least 2 examples"):
        data.Standardize().fit(TRAIN[:1])


# ------------------------------------------------------------------ per channel, for images (N, C, H, W)
def colour_images(count, seed, shift=0.0):
    """Images (N, 3, 5, 4) whose channels have different means and spreads, as colour photographs do."""
    rng = numpy.random.default_rng(seed)
    means, spreads = numpy.array([0.5, 0.3, 0.1]), numpy.array([0.25, 0.05, 0.1])
    return (rng.normal(size=(count, 3, 5, 4)) * spreads[:, None, None] + means[:, None, None] + shift).astype(
        numpy.float32)


IMAGES_TRAIN, IMAGES_TEST = colour_images(400, 2), colour_images(100, 3, shift=0.2)


def test_per_channel_standardize_gives_each_channel_mean_0_std_1_over_n_h_w():
    standardize = data.Standardize(per_channel=True)
    out = standardize.fit_transform(IMAGES_TRAIN)
    assert out.shape == IMAGES_TRAIN.shape and out.dtype == numpy.float32 and out.flags.c_contiguous
    numpy.testing.assert_allclose(out.mean(axis=(0, 2, 3), dtype=numpy.float64), 0, atol=1e-6)
    numpy.testing.assert_allclose(out.std(axis=(0, 2, 3), dtype=numpy.float64), 1, atol=1e-5)
    numpy.testing.assert_allclose(standardize.mean, IMAGES_TRAIN.mean(axis=(0, 2, 3), dtype=numpy.float64),
                                  rtol=1e-12)


def test_per_channel_statistics_of_the_train_split_are_applied_to_the_test_split():
    standardize = data.Standardize(per_channel=True).fit(IMAGES_TRAIN)
    train = IMAGES_TRAIN.astype(numpy.float64)
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True)
    out = standardize.transform(IMAGES_TEST)
    numpy.testing.assert_allclose(out, (IMAGES_TEST - mean) / std, rtol=1e-5, atol=1e-5)
    refitted = data.Standardize(per_channel=True).fit_transform(IMAGES_TEST)
    assert out.mean() > 1 and not numpy.allclose(out, refitted)             # the test shift shows


@pytest.mark.parametrize("transform", [data.Center, data.Standardize, data.PCAWhiten, data.ZCAWhiten])
def test_per_channel_is_the_transform_of_the_pixels_as_rows_of_channels(transform):
    """Every transform treats the channel values of each pixel position as one example."""
    rows = numpy.moveaxis(IMAGES_TRAIN, 1, -1).reshape(-1, 3)
    expected = numpy.moveaxis(transform().fit_transform(rows).reshape(400, 5, 4, 3), -1, 1)
    numpy.testing.assert_allclose(transform(per_channel=True).fit_transform(IMAGES_TRAIN), expected,
                                  rtol=1e-5, atol=1e-5)


def test_per_channel_misuse_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"per_channel=True\) expects images of shape \(N, C, H, W...\), "
                                         r"got \(400, 6\)"):
        data.Standardize(per_channel=True).fit(IMAGES_TRAIN.reshape(400, -1)[:, :6])
    with pytest.raises(ValueError, match="fitted on 3 channels, got 2"):
        data.Standardize(per_channel=True).fit(IMAGES_TRAIN).transform(IMAGES_TRAIN[:, :2])
