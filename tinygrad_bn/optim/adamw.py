"""AdamW: Adam with weight decay decoupled from the gradient."""
from .adam import Adam


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the
    parameter directly instead of entering the gradient,

        p = p * (1 - lr * weight_decay),   then Adam's step with the plain gradient g,

    so the decay is not rescaled by 1 / sqrt(v) and does not accumulate in m or v.
    The rule is ``Adam``'s with ``decoupled_weight_decay=True`` (as in PyTorch);
    the default weight_decay is 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)

    def _check(self, group):
        super()._check(group)
        if not group["decoupled_weight_decay"]:
            raise ValueError("AdamW's weight decay is decoupled by definition: decoupled_weight_decay must be "
                             "True (use Adam for the L2 penalty)")
