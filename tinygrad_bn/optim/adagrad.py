"""Adagrad: a step per coordinate divided by the root of its summed squared gradients."""
from .optimizer import Optimizer, state_buffer


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011) as PyTorch computes it.  For each
    parameter p with gradient g, at its t-th step:

        g = g + weight_decay * p                    (L2 penalty)
        s = s + g^2                                 state[p]["sum"], from initial_accumulator_value
        p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)

    Coordinates with large past gradients take small steps.  ``state[p]["step"]``
    is t, a Python int.  Parameters whose ``grad`` is None are skipped.
    """

    _buffers = ("sum",)
    _counters = ("step",)
    _required = ("step", "sum")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _check(self, group):
        super()._check(group)
        for name in ("lr_decay", "initial_accumulator_value", "eps"):
            if not 0.0 <= group[name]:
                raise ValueError(f"Invalid {name} value: {group[name]} (expected {name} >= 0)")

    def _update_group(self, group, params):
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay, start = group["weight_decay"], group["initial_accumulator_value"]
        for p in params:
            g, state = self._gradient_and_state(p, weight_decay)
            t, fresh = state["step"], "sum" not in state
            s = state_buffer(state, "sum", p)
            if fresh:
                s += start
            s += g * g
            p._data -= (lr / (1 + (t - 1) * lr_decay)) * g / (p.xp.sqrt(s) + eps)
