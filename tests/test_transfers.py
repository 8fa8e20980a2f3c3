"""Host <-> device traffic of a training step of the Figure 1 network.

Every copy across the bus the library makes goes through ``backend.to_device`` /
``backend.to_numpy``, which count it.  On the GPU (CuPy, or the strict stand-in of
../shared/fakecupy) the steps also run under ``cupyx.allow_synchronize(False)``,
which raises at any wait for the GPU, counted or not: a step must not read
anything back (docs/backends.md lists what remains, and why).
"""
import contextlib

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import backend, nn, optim
from tinygrad_bn.data import ArrayDataset, DataLoader


def figure1_network(device, momentum):
    """784-100-100-100-10, sigmoid, each hidden Linear followed by BatchNorm1d."""
    layers = []
    for n_in, n_out in ((784, 100), (100, 100), (100, 100)):
        layers += [nn.Linear(n_in, n_out, bias=False), nn.BatchNorm1d(n_out, momentum=momentum), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(100, 10)).to(device)


def no_waiting_for_the_gpu(device):
    """On the GPU, a context in which any host synchronisation raises; nothing on the CPU."""
    if device == "cpu":
        return contextlib.nullcontext()
    import cupyx
    return cupyx.allow_synchronize(False)


def train(model, optimizer, loader):
    """One epoch of SGD; the losses are summed on the device (no .item() per step)."""
    total = None
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        total = loss.detach() if total is None else total + loss.detach()
    return total


@pytest.fixture
def loader_and_model(device):
    rng = np.random.default_rng(0)
    data = ArrayDataset(rng.random((240, 784), dtype=np.float32), rng.integers(0, 10, 240))
    tg.manual_seed(0)
    return DataLoader(data, batch_size=60, shuffle=True, seed=0, device=device), device


def test_a_training_epoch_crosses_the_bus_once(loader_and_model):
    loader, device = loader_and_model
    model = figure1_network(device, momentum=0.1)
    optimizer = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    train(model, optimizer, loader)                 # warm-up: the data set moves to the device once
    backend.transfers.clear()
    with no_waiting_for_the_gpu(device):
        total = train(model, optimizer, loader)     # 4 steps
    expected = {} if device == "cpu" else {"to device": 1}      # the epoch's permutation
    assert dict(backend.transfers) == expected
    assert np.isfinite(total.item()) and total.item() > 0      # the one read, after the epoch


def test_momentum_none_reads_the_batch_count_back(loader_and_model):
    """The cumulative average (momentum=None) needs num_batches_tracked on the host: one
    read per BN layer per step (the only waits left in a training step), the first of
    which also reads the previous step's deferred label check."""
    loader, device = loader_and_model
    model = figure1_network(device, momentum=None)
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    train(model, optimizer, loader)
    backend.transfers.clear()
    train(model, optimizer, loader)
    assert backend.transfers["to host"] == (0 if device == "cpu" else (3 + 1) * len(loader))


def test_the_same_seed_gives_the_same_batches_on_every_device(loader_and_model):
    loader, device = loader_and_model
    on_cpu = DataLoader(loader.dataset, batch_size=60, shuffle=True, seed=0, device="cpu")
    for (a, b), (c, d) in zip(loader, on_cpu):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())


def test_a_bad_label_on_the_gpu_is_reported_at_the_next_read(device):
    """The label check of cross_entropy waits for nothing on the GPU; its error surfaces
    with the next value read back to the host (on the CPU: at once)."""
    logits = tg.zeros(2, 3, requires_grad=True, device=device)
    with pytest.raises(IndexError, match="target 7 is out of bounds"):
        loss = F.cross_entropy(logits, tg.tensor([0, 7], device=device))
        loss.backward()
        loss.item()


def test_scalar_operands_and_constants_are_made_without_copies(device):
    x = tg.ones(3, device=device)
    backend.transfers.clear()
    with no_waiting_for_the_gpu(device):
        y = (x * 2.0 + 1) / 3 - 0.5 ** x
        z = tg.zeros(2, 3, device=device) + tg.arange(3, device=device) + tg.full((3,), 2.0, device=device)
    assert dict(backend.transfers) == {}
    np.testing.assert_allclose(y.numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(z.numpy(), [[2, 3, 4], [2, 3, 4]])
