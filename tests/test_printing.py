"""How tensors print: PyTorch's format (4 decimals at one width, whole numbers without
decimals, scientific notation past its thresholds, the dtype named unless it is a default,
summaries past 1000 elements, lines broken at 80 characters), checked against strings
written out by hand and, where torch is installed, against torch's own repr."""
import numpy as np
import pytest

import tinygrad_bn as tg

BY_HAND = [
    (lambda m: m.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda m: m.tensor([0.1, 0.25, 3.0]), "tensor([0.1000, 0.2500, 3.0000])"),
    (lambda m: m.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),          # below 1e-4
    (lambda m: m.tensor([1.0, 2000.0]), "tensor([1.0000e+00, 2.0000e+03])"),        # a spread over 1000x
    (lambda m: m.tensor([1, -20]), "tensor([  1, -20])"),
    (lambda m: m.tensor([True, False]), "tensor([ True, False])"),
    (lambda m: m.tensor(3.5), "tensor(3.5000)"),
    (lambda m: m.tensor([1.0, 2.0], dtype=m.float64), "tensor([1., 2.], dtype=float64)"),
    (lambda m: m.tensor([1, 2], dtype=m.int32), "tensor([1, 2], dtype=int32)"),
    (lambda m: m.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda m: m.tensor([float("nan"), float("inf"), -1.5]), "tensor([    nan,     inf, -1.5000])"),
    (lambda m: m.tensor([[1.0, -2.5], [3.0, 4.0]]), "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])"),
    (lambda m: m.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (lambda m: m.tensor([-0.0, 0.0]), "tensor([-0., 0.])"),
    (lambda m: m.tensor([0.5] * 10), "tensor([0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000,\n"
                                     "        0.5000])"),                                # 9 of width 6 fit in 80
]


@pytest.mark.parametrize("make, expected", BY_HAND, ids=[e for _, e in BY_HAND])
def test_the_format_written_out(make, expected):
    assert repr(make(tg)) == expected


def test_the_graph_and_the_device_are_named(device):
    x = tg.tensor([1.5], requires_grad=True, device=device)
    on = "" if device == "cpu" else ", device='cuda:0'"
    assert repr(x) == f"tensor([1.5000]{on}, requires_grad=True)"
    assert repr(x * 2) == f"tensor([3.]{on}, grad_fn=<Mul>)"
    assert repr(tg.nn.Parameter(tg.ones(1, device=device))) == f"Parameter containing:\ntensor([1.]{on}, requires_grad=True)"


def test_set_printoptions():
    x = tg.tensor([1.23456, 2.0])
    try:
        tg.set_printoptions(precision=2)
        assert repr(x) == "tensor([1.23, 2.00])"
        tg.set_printoptions(threshold=5, edgeitems=1)
        assert repr(tg.arange(10)) == "tensor([0,  ..., 9])"
        tg.set_printoptions(sci_mode=True)
        assert repr(tg.tensor([1.5])) == "tensor([1.50e+00])"
        tg.set_printoptions(profile="full")
        assert "..." not in repr(tg.arange(5000))
        with pytest.raises(ValueError, match="profile must be one of"):
            tg.set_printoptions(profile="long")
    finally:
        tg.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346, 2.0000])"


TORCH_CASES = [lambda m: m.tensor([1e9, 1.0]), lambda m: m.tensor(2), lambda m: m.zeros(0), lambda m: m.tensor(float("nan")),
               lambda m: m.tensor([123456.789, 0.5]), lambda m: m.tensor([1e8, 1.0]), lambda m: m.tensor([[1e-5]]),
               lambda m: m.arange(30.0).reshape(3, 10) * 1.5, lambda m: m.tensor([0.1] * 30),
               lambda m: m.arange(3000).reshape(30, 100), lambda m: m.arange(24.0).reshape(2, 3, 4) / 7,
               lambda m: m.tensor([float("-inf"), 2.0]), lambda m: m.tensor([[True, False]]), lambda m: m.zeros(2, 0),
               lambda m: m.tensor([1e-5, float("nan")]), lambda m: m.arange(5000.0).reshape(10, 10, 50) * 0.001,
               lambda m: m.tensor(-0.0), lambda m: m.tensor([1.5, -2.25], dtype=m.float16),
               lambda m: m.tensor([1.0, 2.0], requires_grad=True), lambda m: m.ones(3, 30, dtype=m.float64)]


def test_the_same_as_torch():
    torch = pytest.importorskip("torch")
    for make in [m for m, _ in BY_HAND] + TORCH_CASES:
        assert repr(make(tg)) == repr(make(torch)).replace("torch.", "")
    rng = np.random.default_rng(0)
    for _ in range(20):
        values = rng.standard_normal(rng.integers(1, 40, size=rng.integers(1, 3))) * 10.0 ** rng.integers(-6, 9)
        assert repr(tg.tensor(values.astype(np.float32))) == repr(torch.tensor(values.astype(np.float32)))
