"""PyTorch's ``torch.utils`` path, for code written against it: ``tinygrad_bn.utils.data``."""
from . import data  # noqa: F401
