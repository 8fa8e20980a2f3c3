"""nn.init: gains, the variance each scaled initialiser promises (within a 4-sigma
sampling bound of the sample variance), orthogonality, in-place semantics."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import init


@pytest.mark.parametrize("nonlinearity, param, gain", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("conv2d", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))), ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
    ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


def _moment_bounds(sample, var, fourth_moment):
    """|mean| and |sample variance - var| within 4 standard errors (normal approximation)."""
    n = sample.size
    assert abs(sample.mean()) < 4 * math.sqrt(var / n)
    assert abs(sample.var() - var) < 4 * math.sqrt((fourth_moment - var ** 2) / n)


def _fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


SHAPES = [(200, 300), (40, 16, 3, 3)]
NORMAL, UNIFORM = "normal", "uniform"
# name, call, distribution, variance as a function of (fan_in, fan_out)
SCALED = [
    ("xavier_uniform", lambda t: init.xavier_uniform_(t), UNIFORM, lambda i, o: 2 / (i + o)),
    ("xavier_uniform_gain", lambda t: init.xavier_uniform_(t, gain=2.0), UNIFORM, lambda i, o: 4 * 2 / (i + o)),
    ("xavier_normal", lambda t: init.xavier_normal_(t), NORMAL, lambda i, o: 2 / (i + o)),
    ("kaiming_uniform_default", lambda t: init.kaiming_uniform_(t), UNIFORM, lambda i, o: 2 / i),
    ("kaiming_uniform_sqrt5", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), UNIFORM, lambda i, o: 1 / (3 * i)),
    ("kaiming_uniform_relu_out", lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     UNIFORM, lambda i, o: 2 / o),
    ("kaiming_normal_relu", lambda t: init.kaiming_normal_(t, nonlinearity="relu"), NORMAL, lambda i, o: 2 / i),
    ("kaiming_normal_tanh_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"),
     NORMAL, lambda i, o: (5 / 3) ** 2 / o),
    ("lecun_normal", lambda t: init.lecun_normal_(t), NORMAL, lambda i, o: 1 / i),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, fill, distribution, variance", SCALED, ids=[s[0] for s in SCALED])
def test_scaled_initialisers_have_the_promised_variance(name, fill, distribution, variance, shape):
    t = tg.zeros(*shape, dtype=tg.float64)
    sample = fill(t).numpy()
    var = variance(*_fans(shape))
    if distribution == UNIFORM:
        bound = math.sqrt(3 * var)
        assert np.abs(sample).max() <= bound
        _moment_bounds(sample, var, bound ** 4 / 5)      # E x^4 of U(-b, b) is b^4 / 5
    else:
        _moment_bounds(sample, var, 3 * var ** 2)        # E x^4 of N(0, s^2) is 3 s^4


def test_uniform_and_normal():
    u = init.uniform_(tg.zeros(100000, dtype=tg.float64), -1.0, 3.0).numpy()
    assert u.min() >= -1 and u.max() < 3
    _moment_bounds(u - 1, 4 / 3, 16 / 5)
    g = init.normal_(tg.zeros(100000, dtype=tg.float64), 2.0, 0.5).numpy()
    _moment_bounds(g - 2, 0.25, 3 * 0.25 ** 2)


def test_constants():
    t = tg.ones(3, 2)
    assert (init.zeros_(t).numpy() == 0).all()
    assert (init.ones_(t).numpy() == 1).all()
    assert (init.constant_(t, 0.25).numpy() == 0.25).all()


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 4, 3, 3), (1, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(tg.zeros(*shape, dtype=tg.float64), gain=gain).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-12)


def test_writes_in_place_on_the_device_without_a_graph(device):
    p = nn.Parameter(tg.zeros(20, 10, device=device))
    array = p._data
    for fill in (init.kaiming_uniform_, init.xavier_normal_, init.orthogonal_, init.lecun_normal_):
        assert fill(p) is p
        assert p._data is array and p.dtype == np.float32 and p.device == device
        assert p.grad_fn is None and p.requires_grad and p.grad is None
    assert np.abs(p.detach().numpy()).max() > 0


def test_seeded_draws_repeat():
    tg.manual_seed(3)
    a = init.kaiming_normal_(tg.zeros(4, 4)).numpy().copy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, init.kaiming_normal_(tg.zeros(4, 4)).numpy())


def test_fan_errors():
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(shape \(5,\)\)"):
        init.xavier_uniform_(tg.zeros(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(tg.zeros(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.orthogonal_(tg.zeros(5))


def test_trunc_normal_stays_within_its_bounds_with_the_truncated_moments():
    """N(0, 1) truncated to [-1, 2]: mean (phi(-1) - phi(2)) / Z, all values inside."""
    from math import erf, exp, pi, sqrt
    tg.manual_seed(0)
    w = nn.init.trunc_normal_(tg.empty(200_000, dtype=tg.float64), mean=0.0, std=1.0, a=-1.0, b=2.0)
    values = w.numpy()
    assert values.min() >= -1.0 and values.max() <= 2.0
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)             # noqa: E731
    cdf = lambda z: (1 + erf(z / sqrt(2))) / 2                  # noqa: E731
    mean = (phi(-1.0) - phi(2.0)) / (cdf(2.0) - cdf(-1.0))
    assert abs(values.mean() - mean) < 0.01
    with pytest.raises(ValueError, match="expected a < b"):
        nn.init.trunc_normal_(tg.empty(3), a=1.0, b=0.0)


def test_eye_and_dirac_give_identity_maps():
    assert nn.init.eye_(tg.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    weight = nn.init.dirac_(tg.empty(3, 3, 3, 3))
    x = tg.randn(2, 3, 5, 5)
    np.testing.assert_allclose(tg.nn.functional.conv2d(x, weight, padding=1).numpy(), x.numpy(), rtol=1e-6)
    grouped = nn.init.dirac_(tg.empty(4, 1, 3, 3), groups=4)
    assert grouped.sum().item() == 4 and grouped[2, 0, 1, 1].item() == 1
    with pytest.raises(ValueError, match="only 2-D"):
        nn.init.eye_(tg.empty(2, 2, 2))
