"""Residual networks for CIFAR-10 (He, Zhang, Ren & Sun, 2016, "Deep Residual Learning for
Image Recognition", section 4.2), with the normalization layer as an argument.

    from tinygrad_bn import models, nn
    net = models.resnet20()                      # 0.27M parameters, BatchNorm2d after every convolution
    plain = models.resnet110(norm=None)          # the same network without BN
    grey = models.resnet20(in_channels=1)        # MNIST (28x28) or the digits (8x8) as images

The network has 6n + 2 weighted layers (n = 3: ResNet-20, n = 18: ResNet-110):

    conv 3x3, 16 filters                                            32x32 maps
    n residual blocks of two 3x3 convs, 16 filters                  32x32
    n blocks, 32 filters; the first conv of the first has stride 2  16x16
    n blocks, 64 filters; stride 2 likewise                         8x8
    global average pool, fully connected layer to 10 classes

A block computes relu(norm(conv(relu(norm(conv(x))))) + shortcut(x)): the
normalization "right after each convolution and before activation" (section
3.4), the shortcut added before the last ReLU.  Where a block changes the
shape (twice the channels on maps half the size) the shortcut is

* option "A" (the default): the identity on the map subsampled with stride 2,
  x[:, :, ::2, ::2], with the new channels zero.  It has no parameters, so a
  residual network has the depth, width and parameter count of its plain
  counterpart; it is the paper's choice for CIFAR ("we use identity shortcuts
  in all cases (i.e., option A)", section 4.2), and what its parameter counts
  (table 6) are of;
* option "B": a projection, a 1x1 convolution with stride 2 followed by the
  normalization layer (equation 2 of the paper, as torchvision builds it).

Elsewhere the shortcut is the identity.  ``norm`` makes the normalization
layer for a number of channels (``nn.BatchNorm2d``, or e.g.
``functools.partial(nn.BatchNorm2d, momentum=0.01)``); ``norm=None`` leaves
it out, and every convolution then has a bias (starting at zero, standing in
for the beta that BN would provide), so with and without BN is one flag.

Initialisation: He et al. "initialize the weights as in [13]", i.e. He et al.
(2015), "Delving deep into rectifiers": N(0, 2/n) for a ReLU network, here
with n = k^2 * out_channels (the fan-out, which keeps the gradients' variance
through the backward pass), as torchvision's ResNets do
(``kaiming_normal_(mode="fan_out", nonlinearity="relu")``); the
normalization layers start at weight 1, bias 0; the fully connected layer
keeps nn.Linear's default, as in torchvision.

Smaller inputs: ``in_channels`` sets the image channels, and since the
global average pool takes any map size, a 28x28 image runs on 28/14/7-pixel
maps and an 8x8 one on 8/4/2 (docs/models.md).
"""
from .. import functional as F
from .. import nn

SHORTCUTS = ("A", "B")


def _norm_layer(norm, channels):
    """norm(channels), or the identity for norm=None."""
    return nn.Identity() if norm is None else norm(channels)


def _conv3x3(in_channels, out_channels, stride, norm):
    """A 3x3 convolution that keeps the map size (padding 1) or halves it (stride 2);
    without a norm layer after it, it has a bias."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=norm is None)


class ZeroPadShortcut(nn.Module):
    """Option A: x subsampled with ``stride`` (x[:, :, ::s, ::s], which has the size of
    a stride-s convolution's output), with out_channels - in_channels zero channels
    appended.  No parameters."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x):
        subsampled = x[:, :, ::self.stride, ::self.stride] if self.stride > 1 else x
        return F.pad(subsampled, (0, 0, 0, 0, 0, self.out_channels - self.in_channels))

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def _shortcut(in_channels, out_channels, stride, option, norm):
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    if option == "A":
        return ZeroPadShortcut(in_channels, out_channels, stride)
    projection = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=norm is None)
    return nn.Sequential(projection, _norm_layer(norm, out_channels))


class BasicBlock(nn.Module):
    """The residual block of two 3x3 convolutions:
    y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), with conv1 of ``stride``
    (1, or 2 to halve the map) and ``shortcut`` option "A" or "B" where the shape
    changes (module docstring).  bn1 and bn2 are ``norm(out_channels)``, or
    nn.Identity for norm=None."""

    def __init__(self, in_channels, out_channels, stride=1, shortcut="A", norm=nn.BatchNorm2d):
        super().__init__()
        if shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut must be 'A' (zero-padded identity) or 'B' (1x1 projection), got {shortcut!r}")
        self.conv1 = _conv3x3(in_channels, out_channels, stride, norm)
        self.bn1 = _norm_layer(norm, out_channels)
        self.conv2 = _conv3x3(out_channels, out_channels, 1, norm)
        self.bn2 = _norm_layer(norm, out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride, shortcut, norm)

    def forward(self, x):
        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(residual + self.shortcut(x))


class ResNet(nn.Module):
    """The CIFAR ResNet of depth 6n + 2 (module docstring): ``conv1``, ``bn1``, the three
    stages ``layer1``, ``layer2``, ``layer3`` (Sequentials of n BasicBlocks, with
    width, 2 width and 4 width channels), ``avgpool``, ``fc``.

    depth: 20, 32, 44, 56, 110, ... (6n + 2); num_classes: outputs of fc;
    in_channels: channels of the images (3 for CIFAR-10, 1 for grey images);
    shortcut: "A" (default, the paper's for CIFAR) or "B"; norm: a callable making
    the normalization layer for a number of channels, or None; width: the first
    stage's channels (16 in the paper).
    """

    def __init__(self, depth=20, num_classes=10, in_channels=3, shortcut="A", norm=nn.BatchNorm2d, width=16):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 for an integer n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), "
                             f"got {depth!r}")
        blocks = (depth - 2) // 6
        self.depth = depth
        self.conv1 = _conv3x3(in_channels, width, 1, norm)
        self.bn1 = _norm_layer(norm, width)
        stages, channels = [], width
        for stage, out_channels in enumerate((width, 2 * width, 4 * width)):
            first_stride = 1 if stage == 0 else 2
            stages.append(nn.Sequential(*[
                BasicBlock(channels if b == 0 else out_channels, out_channels, first_stride if b == 0 else 1,
                           shortcut, norm) for b in range(blocks)]))
            channels = out_channels
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self.reset_parameters()

    def reset_parameters(self):
        """He et al.'s initialisation (module docstring): every convolution's weight from
        N(0, 2 / (k^2 out_channels)) and its bias (norm=None) zero; the norm layers
        and fc reset to their defaults."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))

    def weighted_layers(self):
        """The 6n + 2 layers He et al. count, as (name, module) in the order the input
        meets them: conv1, the two convolutions of every block, fc (option B's
        projections are not counted)."""
        names = {id(module): name for name, module in self.named_modules()}
        convs = [conv for stage in (self.layer1, self.layer2, self.layer3) for block in stage
                 for conv in (block.conv1, block.conv2)]
        return [(names[id(m)], m) for m in [self.conv1] + convs + [self.fc]]

    def midpoint_layer(self):
        """(name, module) of the layer in the middle of weighted_layers(): layer 3n + 1 of
        6n + 2, counting from 1.  For ResNet-110 that is layer 55, the "(midpoint)
        layer 55" whose gradients Bjorck et al. (2018) show in histograms."""
        layers = self.weighted_layers()
        return layers[(len(layers) - 1) // 2]


def resnet20(**kwargs):
    """ResNet-20 (n = 3): 0.27M parameters (He et al., table 6)."""
    return ResNet(20, **kwargs)


def resnet110(**kwargs):
    """ResNet-110 (n = 18): 1.7M parameters (He et al., table 6)."""
    return ResNet(110, **kwargs)
