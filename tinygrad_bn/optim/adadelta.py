"""Adadelta: steps scaled by the ratio of running root-mean-squares of past steps and gradients."""
from .optimizer import Optimizer, check_eps, state_buffer


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012) as PyTorch computes it.  For each parameter p with
    gradient g:

        g = g + weight_decay * p                        (L2 penalty)
        v = rho * v + (1 - rho) * g^2                   state[p]["square_avg"]
        d = sqrt(u + eps) / sqrt(v + eps) * g           the step, in the units of p
        u = rho * u + (1 - rho) * d^2                   state[p]["acc_delta"]
        p = p - lr * d

    v and u start at zero.  Zeiler's rule has no learning rate (lr = 1, the
    default); ``state[p]["step"]`` counts the steps, a Python int.  Parameters
    whose ``grad`` is None are skipped.
    """

    _buffers = ("square_avg", "acc_delta")
    _counters = ("step",)
    _required = ("step", "square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _check(self, group):
        super()._check(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']} (expected 0 <= rho <= 1)")
        check_eps(group["eps"])

    def _update_group(self, group, params):
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for p in params:
            g, state = self._gradient_and_state(p, weight_decay)
            v, u = state_buffer(state, "square_avg", p), state_buffer(state, "acc_delta", p)
            xp = p.xp
            v *= rho
            v += (1 - rho) * g * g
            d = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * d * d
            p._data -= lr * d
