"""Adamax: Adam with the second moment replaced by a running maximum of |g|."""
from .optimizer import Optimizer, check_betas, check_eps, state_buffer


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7) as PyTorch computes it.  For each
    parameter p with gradient g, at its t-th step:

        g = g + weight_decay * p                    (L2 penalty)
        m = beta1 * m + (1 - beta1) * g             state[p]["exp_avg"]
        u = max(beta2 * u, |g| + eps)               state[p]["exp_inf"], the infinity norm
        p = p - lr / (1 - beta1^t) * m / u

    m and u start at zero.  ``state[p]["step"]`` is t, a Python int.
    Parameters whose ``grad`` is None are skipped.
    """

    _buffers = ("exp_avg", "exp_inf")
    _counters = ("step",)
    _required = ("step", "exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _check(self, group):
        super()._check(group)
        check_eps(group["eps"])
        check_betas(group["betas"])

    def _update_group(self, group, params):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for p in params:
            g, state = self._gradient_and_state(p, weight_decay)
            t = state["step"]
            m, u = state_buffer(state, "exp_avg", p), state_buffer(state, "exp_inf", p)
            m *= beta1
            m += (1 - beta1) * g
            u *= beta2
            p.xp.maximum(u, p.xp.abs(g) + eps, out=u)
            p._data -= (lr / (1 - beta1 ** t)) * m / u
