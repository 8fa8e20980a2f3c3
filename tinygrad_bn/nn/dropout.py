"""Dropout as a layer (Srivastava et al., 2014): random zeros in training, the identity in eval mode."""
from .. import functional as F
from .module import Module


class Dropout(Module):
    """In training mode each element is zeroed with probability ``p`` and the others are
    scaled by 1/(1 - p), so each keeps its expected value; in eval mode y = x
    (``F.dropout``).  p outside [0, 1] is an error here, when the layer is made."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_dropout(p)
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
