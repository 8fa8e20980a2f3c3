"""The convolutional layer: a bank of learned filters slid over feature maps."""
import math

import numpy

from .. import functional as F
from ..creation import zeros
from ..ops.windows import pair
from . import init
from .module import Module, Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """y = conv2d(x, W) + b over (N, C_in, H, W) or (C_in, H, W) input, as ``torch.nn.Conv2d``:
    ``weight`` W of shape (out_channels, in_channels / groups, kH, kW), ``bias`` b of
    shape (out_channels,); stride, padding (an int, a pair, "valid" or "same") and
    dilation as in ``F.conv2d``, which computes it (the output size formula is there).

    Initialised as PyTorch does: W by ``kaiming_uniform_(a=sqrt(5))``, which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW,
    and b from the same range.  ``padding_mode`` other than "zeros" is refused:
    ``F.pad`` pads with constants only.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(f"{name} must be divisible by groups, got {name}={channels} and groups={groups}")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of ('valid', 'same')")
            if padding == "same" and pair(stride, "stride", "Conv2d") != (1, 1):
                raise ValueError(f"padding='same' is not supported for strided convolutions (stride={stride})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {PADDING_MODES}, but got padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode {padding_mode!r} is not implemented; tinygrad_bn pads "
                                      f"with zeros (padding_mode='zeros')")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d")
        self.padding_mode = padding_mode
        dtype = numpy.float32 if dtype is None else dtype
        self.weight = Parameter(zeros((out_channels, in_channels // groups) + self.kernel_size, dtype=dtype,
                                      device=device))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw new weights and bias from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        fan_in = math.prod(self.weight.shape[1:])          # in_channels / groups * kH * kW
        if self.bias is not None and fan_in > 0:
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        """PyTorch's: the arguments that differ from their defaults, stride always."""
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
