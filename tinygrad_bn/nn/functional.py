"""``tinygrad_bn.nn.functional`` is ``tinygrad_bn.functional``, under PyTorch's spelling
(``import torch.nn.functional as F``): the module itself, not a copy."""
import sys

from .. import functional

sys.modules[__name__] = functional
