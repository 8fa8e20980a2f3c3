"""The fully connected layer."""
import math

import numpy

from .. import functional as F
from ..creation import zeros
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, with ``weight`` W of shape (out_features, in_features) and ``bias`` b of shape (out_features,).

    Initialised as PyTorch does: W by ``kaiming_uniform_(a=sqrt(5))``, which is
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and b from the same uniform range.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=numpy.float32):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw new weights and bias from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None and self.in_features > 0:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        # the registry is read directly: Module.__getattr__ (one per name) shows in the
        # time of a small network's step
        params = self._parameters
        return F.linear(x, params["weight"], params["bias"])

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
