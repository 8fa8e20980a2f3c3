"""tinygrad_bn.models.resnet: the CIFAR ResNets of He et al. (2016), section 4.2.

The layer count 6n + 2 (convolutions and the fully connected layer), the map
sizes through the network for 32x32, 28x28 and 8x8 inputs, the two shortcut
options against NumPy, the parameter counts against a closed form and against
the paper's table 6 (ResNet-20 0.27M, ResNet-110 1.7M), He et al.'s
initialisation by its moments, the midpoint layer, gradcheck of one block in
float64, a short training run, and (where torch is installed) the same network
built in torch (tests/torch_resnet.py) with the same weights: outputs, running
statistics and gradients in training mode, outputs in eval mode.
"""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import models, nn, optim


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def he_et_al_count(n, width=16, classes=10, in_channels=3):
    """Parameters of the option-A network with BN, written out: 3x3 kernels (conv1,
    2n convs per stage, the first of stages 2 and 3 widening the channels), a
    gamma and a beta per channel of each of the 6n + 1 BN layers, and fc."""
    w1, w2, w3 = width, 2 * width, 4 * width
    kernels = 9 * (in_channels * w1 + 2 * n * w1 * w1 + w1 * w2 + (2 * n - 1) * w2 * w2
                   + w2 * w3 + (2 * n - 1) * w3 * w3)
    norms = 2 * (w1 + 2 * n * (w1 + w2 + w3))
    return kernels + norms + w3 * classes + classes


def convolutions(model):
    return [m for m in model.modules() if isinstance(m, nn.Conv2d)]


# ------------------------------------------------------------------- structure
@pytest.mark.parametrize("depth", [8, 20, 56])
def test_the_network_has_6n_plus_2_weighted_layers(depth):
    model = models.ResNet(depth)
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convolutions(model)) + len(linear) == depth
    layers = model.weighted_layers()
    n = (depth - 2) // 6
    expected = ["conv1"] + [f"layer{stage}.{block}.conv{k}" for stage in (1, 2, 3) for block in range(n)
                            for k in (1, 2)] + ["fc"]
    assert [name for name, _ in layers] == expected
    assert layers[-1] == ("fc", model.fc) and len(layers) == depth
    assert all(isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) for _, m in layers[:-1])
    projected = models.ResNet(depth, shortcut="B")
    assert len(convolutions(projected)) == depth - 1 + 2          # plus the two 1x1 projections
    assert len(projected.weighted_layers()) == depth              # which He et al. do not count


def test_depths_that_are_not_6n_plus_2_are_refused():
    for depth in (21, 2, 0, 20.0):
        with pytest.raises(ValueError, match=r"depth must be 6n \+ 2 for an integer n >= 1"):
            models.ResNet(depth)
    with pytest.raises(ValueError, match=r"shortcut must be 'A' \(zero-padded identity\) or 'B'"):
        models.ResNet(20, shortcut="C")


@pytest.mark.parametrize("in_channels, side, maps", [(3, 32, (32, 16, 8)), (1, 28, (28, 14, 7)), (1, 8, (8, 4, 2))])
@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_shapes_through_the_network(device, in_channels, side, maps, shortcut):
    model = models.ResNet(8, in_channels=in_channels, shortcut=shortcut).to(device)
    seen = {}
    for name in ("conv1", "layer1", "layer2", "layer3", "avgpool", "fc"):
        getattr(model, name).register_forward_hook(lambda m, args, out, name=name: seen.__setitem__(name, out.shape))
    logits = model(tg.randn(2, in_channels, side, side, device=device))
    assert logits.shape == (2, 10) and logits.device == device
    assert seen == {"conv1": (2, 16, maps[0], maps[0]), "layer1": (2, 16, maps[0], maps[0]),
                    "layer2": (2, 32, maps[1], maps[1]), "layer3": (2, 64, maps[2], maps[2]),
                    "avgpool": (2, 64, 1, 1), "fc": (2, 10)}


@pytest.mark.parametrize("side", [6, 7])
def test_option_a_is_the_subsampled_identity_with_zero_channels(device, side):
    x = np.random.default_rng(0).normal(size=(2, 3, side, side))
    block = models.BasicBlock(3, 5, stride=2, shortcut="A").to(device).double()
    assert isinstance(block.shortcut, models.ZeroPadShortcut) and list(block.shortcut.parameters()) == []
    y = block.shortcut(tg.tensor(x, device=device)).numpy()
    expected = np.zeros((2, 5, (side + 1) // 2, (side + 1) // 2))
    expected[:, :3] = x[:, :, ::2, ::2]
    np.testing.assert_array_equal(y, expected)
    residual = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(tg.tensor(x, device=device))))))
    assert residual.shape == y.shape                          # the shapes the block adds agree
    assert repr(block.shortcut) == "ZeroPadShortcut(3, 5, stride=2)"


def test_option_b_is_a_1x1_projection_with_its_norm_layer(device):
    block = models.BasicBlock(3, 5, stride=2, shortcut="B").to(device).double()
    conv, norm = block.shortcut
    assert (conv.kernel_size, conv.stride, conv.bias) == ((1, 1), (2, 2), None) and isinstance(norm, nn.BatchNorm2d)
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 7))
    z = np.einsum("oc,nchw->nohw", conv.weight.detach().numpy()[:, :, 0, 0], x[:, :, ::2, ::2])
    expected = (z - z.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(z.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(block.shortcut(tg.tensor(x, device=device)).detach().numpy(), expected, rtol=1e-9,
                               atol=1e-12)
    same = models.BasicBlock(5, 5, shortcut="B")
    assert isinstance(same.shortcut, nn.Identity)             # only where the shape changes


# ------------------------------------------------------------------- parameters and initialisation
def test_parameter_counts_are_he_et_al_s():
    # He et al. (2016), table 6 (CIFAR-10, option A): ResNet-20 0.27M, ResNet-110 1.7M parameters
    for model, n, paper, digits in ((models.resnet20(), 3, 0.27, 2), (models.resnet110(), 18, 1.7, 1)):
        count = parameter_count(model)
        assert count == he_et_al_count(n)
        assert round(count / 1e6, digits) == paper
    assert parameter_count(models.resnet20()) == 269_722 and parameter_count(models.resnet110()) == 1_727_962


def test_parameter_counts_of_the_variants():
    n = 3
    # option B: two 1x1 projections (16 -> 32, 32 -> 64) and their BN layers
    assert parameter_count(models.resnet20(shortcut="B")) == he_et_al_count(n) + 16 * 32 + 32 * 64 + 2 * (32 + 64)
    # without BN: no gamma, beta; a bias for each of the 6n + 1 convolutions instead
    plain = models.resnet20(norm=None)
    assert parameter_count(plain) == he_et_al_count(n) - 2 * (16 + 6 * (16 + 32 + 64)) + (16 + 6 * (16 + 32 + 64))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert not any("running" in key for key in plain.state_dict())
    assert parameter_count(models.ResNet(20, in_channels=1, num_classes=7, width=4)) == \
        he_et_al_count(n, width=4, classes=7, in_channels=1)


def test_he_initialisation():
    """Every convolution N(0, 2 / (k^2 out_channels)) (fan_out, as torchvision); conv biases
    (norm=None) zero; BN weight 1, bias 0; fc nn.Linear's U(-1/sqrt(64), 1/sqrt(64))."""
    model = models.resnet110()
    for name, conv in [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]:
        w = conv.weight.detach().numpy()
        std = math.sqrt(2 / (9 * conv.out_channels))
        # the sample variance of n normal draws has a relative standard error sqrt(2 / n)
        assert abs(w.var() / std ** 2 - 1) < 5 * math.sqrt(2 / w.size), name
        assert abs(w.mean()) < 5 * std / math.sqrt(w.size), name
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 109
    assert all(np.all(m.weight.detach().numpy() == 1) and np.all(m.bias.detach().numpy() == 0) for m in norms)
    assert np.abs(model.fc.weight.detach().numpy()).max() <= 1 / 8
    assert model.fc.weight.detach().numpy().std() > 0.5 / 8 / math.sqrt(3)
    plain = models.resnet20(norm=None)
    assert all(np.all(m.bias.detach().numpy() == 0) for m in convolutions(plain))


def test_the_same_seed_gives_the_same_network():
    tg.manual_seed(5)
    first = models.resnet20().state_dict()
    tg.manual_seed(5)
    for key, value in models.resnet20().state_dict().items():
        np.testing.assert_array_equal(value.numpy(), first[key].numpy(), err_msg=key)


def test_midpoint_layer():
    # Bjorck et al. (2018) show the gradients of "(midpoint) layer 55" of a 110-layer ResNet
    name, layer = models.resnet110().midpoint_layer()
    assert name == "layer2.8.conv2" and isinstance(layer, nn.Conv2d)
    assert [n for n, _ in models.resnet110().weighted_layers()].index(name) + 1 == 55
    assert models.resnet20().midpoint_layer()[0] == "layer2.1.conv1"          # layer 10 of 20


# ------------------------------------------------------------------- gradients and training
@pytest.mark.parametrize("shortcut, norm", [("A", nn.BatchNorm2d), ("B", nn.BatchNorm2d), ("A", None)],
                         ids=["A-bn", "B-bn", "A-plain"])
def test_gradcheck_of_a_block(device, shortcut, norm):
    """Central differences of <u, block(x)> (random u) w.r.t. x and every parameter, BN in
    training mode, a block that halves the map and widens 2 -> 3 channels."""
    block = models.BasicBlock(2, 3, stride=2, shortcut=shortcut, norm=norm).to(device).double()
    for p in block.parameters():                    # biases and gammas away from their special values
        p._data[...] = p.xp.asarray(np.random.default_rng(p.numel()).normal(0.5, 0.5, p.shape))
    x = tg.tensor(np.random.default_rng(1).normal(size=(3, 2, 4, 4)), device=device, requires_grad=True)
    assert tg.gradcheck(lambda x, *parameters: block(x), [x] + list(block.parameters()))


def bars(count, seed):
    """8x8 grey images of a bright vertical (class 0) or horizontal (class 1) bar at a
    random place, on noise."""
    rng = np.random.default_rng(seed)
    images = rng.normal(0, 0.3, size=(count, 1, 8, 8))
    labels = rng.integers(0, 2, count)
    for image, label, place in zip(images, labels, rng.integers(0, 8, count)):
        if label == 0:
            image[0, :, place] += 1
        else:
            image[0, place, :] += 1
    return tg.tensor(images, dtype=tg.float32), tg.tensor(labels)


@pytest.mark.parametrize("norm, lr, factor", [(nn.BatchNorm2d, 0.1, 0.2), (None, 0.2, 0.7)], ids=["bn", "plain"])
def test_a_short_training_run_lowers_the_loss(device, norm, lr, factor):
    """15 SGD steps on 64 bar images: the loss falls below ``factor`` times its start (with
    BN much further than without: the plain net learns slowly at first), and with BN the
    network tells new images apart in eval mode."""
    model = models.ResNet(8, num_classes=2, in_channels=1, norm=norm, width=8).to(device)
    images, labels = (t.to(device) for t in bars(64, seed=0))
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(15):
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < factor * losses[0], losses
    if norm is not None:
        test_images, test_labels = bars(64, seed=1)
        with tg.no_grad():
            predicted = model.eval()(test_images.to(device)).argmax(dim=1).cpu().numpy()
        assert (predicted == test_labels.numpy()).mean() > 0.8


# ------------------------------------------------------------------- against torch
@pytest.mark.parametrize("depth, side, options", [(20, 8, {}), (8, 14, {}), (8, 14, {"shortcut": "B"}),
                                                  (8, 14, {"norm": None}), (8, 14, {"in_channels": 1, "width": 4})],
                         ids=["20-A", "8-A", "8-B", "8-plain", "8-grey"])
def test_same_as_torch_with_the_same_weights(depth, side, options):
    """(14x14 images: maps of 14, 7 and 4, the odd size subsampled.)"""
    pytest.importorskip("torch")
    import torch
    from torch_resnet import copy_of
    model = models.ResNet(depth, **options).double()
    twin = copy_of(model, **options)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, options.get("in_channels", 3), side, side))
    labels = rng.integers(0, 10, 4)
    loss = F.cross_entropy(model(tg.tensor(x)), tg.tensor(labels))                 # training mode
    reference = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(labels))
    np.testing.assert_allclose(loss.item(), reference.item(), rtol=1e-10)
    loss.backward()
    reference.backward()
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
    buffers = dict(twin.named_buffers())
    for name, b in model.named_buffers():
        np.testing.assert_allclose(b.numpy(), buffers[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    model.eval(), twin.eval()
    x = rng.normal(size=(3, options.get("in_channels", 3), side, side))
    np.testing.assert_allclose(model(tg.tensor(x)).detach().numpy(), twin(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-9, atol=1e-10)
