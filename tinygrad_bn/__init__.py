"""tinygrad_bn: a teaching autograd framework built around Batch Normalization.

    import tinygrad_bn as tg
    x = tg.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    (x @ x).sigmoid().sum().backward()
    x.grad
"""
__version__ = "0.1.0"

from . import backend
from .backend import (available_devices, get_default_device, set_default_device, manual_seed, device,
                      set_num_threads, get_num_threads, Generator, default_generator)
from .autograd import (Function, no_grad, enable_grad, set_grad_enabled, is_grad_enabled, detect_anomaly,
                       AnomalyError, inference_mode, is_inference_mode_enabled)
from .dims import Size
from .tensor import Tensor, where, float16, float32, float64, int8, int16, int32, int64, uint8, bool_
from .ops import concatenate, stack, einsum
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .creation import (tensor, zeros, ones, full, empty, eye, arange, linspace, from_numpy, from_dlpack, zeros_like,
                       ones_like, full_like, empty_like, randn, rand, randn_like, rand_like, randint, randperm)
from .namespace import *  # noqa: F401,F403  (tg.exp(x), tg.argmax(x, 1), ...: the Tensor methods)
from .namespace import maximum, minimum, is_tensor, isclose, allclose, equal, hstack, vstack, meshgrid
from . import return_types, cuda, accelerator, viz
from . import nn, optim, functional
from .serialization import save, load
from .printing import set_printoptions
from . import data
from . import utils                      # torch.utils.data: DataLoader, Dataset, TensorDataset
from . import models

cat = concat = concatenate
# PyTorch's dtype names (tg.float is float32, as torch.float; tg.bool is NumPy's bool_)
half, float, double = float16, float32, float64  # noqa: A001
short, int, long, bool = int16, int32, int64, bool_  # noqa: A001

# ``from tinygrad_bn import *`` must not shadow Python's float, int and bool
__all__ = [name for name in dir() if not name.startswith("_")
           and name not in ("half", "float", "double", "short", "int", "long", "bool")]
