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
