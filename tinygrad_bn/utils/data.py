"""``torch.utils.data``'s names, so that ``from torch.utils.data import DataLoader, TensorDataset``
becomes ``from tinygrad_bn.utils.data import DataLoader, TensorDataset``; the code lives in
``tinygrad_bn.data`` (loader.py, dataset.py)."""
from ..data import DataLoader, Dataset, Subset, TensorDataset, random_split  # noqa: F401

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]
