"""tinygrad_bn.models.ResNet written again in PyTorch, module for module with the same
parameter and buffer names, so a state_dict moves between the two: the oracle of
tests/test_resnet.py and the baseline of bench/resnet.py.  Import it only where torch
is installed."""
import numpy
import torch
import torch.nn.functional as F
from torch import nn


class ZeroPadShortcut(nn.Module):
    """Option A: x[:, :, ::stride, ::stride] with zero channels appended up to out_channels."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.extra, self.stride = out_channels - in_channels, stride

    def forward(self, x):
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))


def norm_layer(batch_norm, channels):
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride, shortcut, batch_norm):
        super().__init__()
        bias = not batch_norm
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=bias)
        self.bn1 = norm_layer(batch_norm, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=bias)
        self.bn2 = norm_layer(batch_norm, out_channels)
        if stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        elif shortcut == "A":
            self.shortcut = ZeroPadShortcut(in_channels, out_channels, stride)
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=bias),
                                          norm_layer(batch_norm, out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, depth=20, num_classes=10, in_channels=3, shortcut="A", batch_norm=True, width=16):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=not batch_norm)
        self.bn1 = norm_layer(batch_norm, width)
        widths = [width, width, 2 * width, 4 * width]
        for stage in range(3):
            blocks = [BasicBlock(widths[stage] if b == 0 else widths[stage + 1], widths[stage + 1],
                                 2 if stage > 0 and b == 0 else 1, shortcut, batch_norm) for b in range(n)]
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def copy_of(model, **options):
    """The torch ResNet with ``model``'s (a tinygrad_bn ResNet built with ``options``)
    parameters and buffers, in float64 when the model is."""
    batch_norm = options.pop("norm", True) is not None
    twin = ResNet(model.depth, batch_norm=batch_norm, **options)
    if model.fc.weight.dtype == numpy.float64:
        twin = twin.double()
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return twin
