"""tinygrad_bn: a teaching autograd framework built around Batch Normalization.

    import tinygrad_bn as tg
    x = tg.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    (x @ x).sigmoid().sum().backward()
    x.grad
"""
__version__ = "0.1.0"

from . import backend
from .backend import available_devices, get_default_device, set_default_device, manual_seed
from .autograd import Function, no_grad, enable_grad, is_grad_enabled, detect_anomaly, AnomalyError
from .tensor import Tensor, where, float32, float64, int32, int64, bool_
from .ops import concatenate, stack
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .creation import tensor, zeros, ones, full, zeros_like, ones_like, arange, randn, rand
from . import viz
from . import nn, optim, functional
from .serialization import save, load
from . import data

cat = concatenate


def maximum(x, y):
    """Elementwise maximum; ties split the gradient equally."""
    return x.maximum(y)


def minimum(x, y):
    """Elementwise minimum; ties split the gradient equally."""
    return x.minimum(y)
