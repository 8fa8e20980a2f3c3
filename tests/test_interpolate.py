"""F.interpolate and nn.Upsample: nearest and (bi)linear resampling against loops written
out from the definitions, gradcheck, PyTorch's output sizes and errors, and torch itself."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from opcheck import check_op


def linear_positions(n, m, scale, align_corners):
    """For each of m outputs: the two input positions and the weight of the second."""
    out = []
    for j in range(m):
        if align_corners:
            s = j * (n - 1) / (m - 1) if m > 1 else 0.0
        else:
            s = max((j + 0.5) * scale - 0.5, 0.0)
        low = min(int(math.floor(s)), n - 1)
        out.append((low, min(low + 1, n - 1), s - low))
    return out


def reference(a, sizes, scales, mode, align_corners=False):
    """The resampling one spatial axis at a time, element by element."""
    out = a
    for axis, (m, scale) in enumerate(zip(sizes, scales), start=2):
        n = out.shape[axis]
        pieces = []
        for j in range(m):
            if mode == "nearest":
                pieces.append(np.take(out, min(int(math.floor(j * scale)), n - 1), axis=axis))
            else:
                low, high, w = linear_positions(n, m, scale, align_corners)[j]
                pieces.append((1 - w) * np.take(out, low, axis=axis) + w * np.take(out, high, axis=axis))
        out = np.stack(pieces, axis=axis)
    return out


A4 = np.random.default_rng(5).normal(size=(2, 2, 4, 5))
A3 = np.random.default_rng(6).normal(size=(2, 3, 6))
CASES = {
    "nearest_x2": (lambda x: F.interpolate(x, scale_factor=2), lambda a: reference(a, (8, 10), (0.5, 0.5), "nearest"), A4),
    "nearest_size": (lambda x: F.interpolate(x, size=(3, 7)),
                     lambda a: reference(a, (3, 7), (4 / 3, 5 / 7), "nearest"), A4),
    "bilinear_size": (lambda x: F.interpolate(x, size=(7, 3), mode="bilinear"),
                      lambda a: reference(a, (7, 3), (4 / 7, 5 / 3), "bilinear"), A4),
    "bilinear_corners": (lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
                         lambda a: reference(a, (6, 7), (None, None), "bilinear", True), A4),
    "linear_down": (lambda x: F.interpolate(x, scale_factor=0.5, mode="linear"),
                    lambda a: reference(a, (3,), (2.0,), "linear"), A3),
}


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients(device, name):
    call, expected, array = CASES[name]
    check_op(call, expected, [array], device)


def test_output_sizes_and_errors(device):
    x = tg.ones(1, 1, 5, 7, device=device)
    assert F.interpolate(x, scale_factor=1.7).shape == (1, 1, 8, 11)          # floor(5 * 1.7), floor(7 * 1.7)
    assert nn.Upsample(scale_factor=2, mode="bilinear")(x).shape == (1, 1, 10, 14)
    assert nn.UpsamplingNearest2d(size=3)(x).shape == (1, 1, 3, 3)
    assert nn.UpsamplingBilinear2d(scale_factor=2)(x).tolist() == tg.ones(1, 1, 10, 14).tolist()
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="mode 'bicubic' is not implemented"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="expected 3D input for 'linear'"):
        F.interpolate(x, scale_factor=2, mode="linear")


@pytest.mark.parametrize("shape,kwargs", [
    ((2, 3, 5, 7), {"scale_factor": 2}), ((2, 3, 5, 7), {"size": (3, 11)}), ((1, 2, 5, 7), {"scale_factor": 1.7}),
    ((2, 3, 5, 7), {"size": (8, 4), "mode": "bilinear"}),
    ((2, 3, 5, 7), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ((2, 3, 5, 7), {"scale_factor": 0.6, "mode": "bilinear"}), ((2, 3, 9), {"size": 4, "mode": "linear"}),
    ((2, 3, 5, 7), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
])
def test_the_same_as_torch(shape, kwargs):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=shape)
    x, t = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.interpolate(x, **kwargs), torch.nn.functional.interpolate(t, **kwargs)
    upstream = np.random.default_rng(1).normal(size=tuple(ty.shape))
    y.backward(tg.tensor(upstream))
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert repr(nn.Upsample(**{k: v for k, v in kwargs.items() if k in ("size", "scale_factor", "mode")})) == \
        repr(torch.nn.Upsample(**{k: v for k, v in kwargs.items() if k in ("size", "scale_factor", "mode")}))
