"""Flatten as a layer: the bridge from images or sequences to a Linear layer."""
from .. import functional as F
from .module import Module


class Flatten(Module):
    """Axes ``start_dim`` to ``end_dim`` (inclusive) merged into one: by default every
    axis but the batch axis 0, so (N, C, H, W) becomes (N, C * H * W)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        F._expect_tensors("flatten", ("input",), x)
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Axis ``dim`` split into ``unflattened_size`` (one -1 allowed): (N, 784) with
    ``Unflatten(1, (1, 28, 28))`` becomes (N, 1, 28, 28), Flatten's inverse."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        F._expect_tensors("unflatten", ("input",), x)
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
