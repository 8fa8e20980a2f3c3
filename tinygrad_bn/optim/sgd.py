"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov's variant."""
from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's update rule, for each parameter p with gradient g:

        g = g + weight_decay * p                          (L2 penalty)
        b = g (first step),  b = momentum * b + (1 - dampening) * g (later)
        g = g + momentum * b   with nesterov,   g = b   without     (when momentum != 0)
        p = p - lr * g

    Parameters whose ``grad`` is None are skipped.  The momentum buffer b lives
    in ``state[p]["momentum_buffer"]``.  The rule is linear in g, so complex
    parameters are updated too.
    """

    _buffers = ("momentum_buffer",)
    _dtype_kinds = "fc"

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check(self, group):
        super()._check(group)
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (expected momentum >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update_group(self, group, params):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov = group["weight_decay"], group["nesterov"]
        for p in params:
            d = p._grad._data
            if weight_decay != 0:
                d = d + weight_decay * p._data
            if momentum != 0:
                state = self.state.setdefault(p, {})
                if "momentum_buffer" not in state:
                    buf = d.copy()
                    state["momentum_buffer"] = Tensor.wrap(buf, p.device)
                else:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += (1 - dampening) * d
                d = d + momentum * buf if nesterov else buf
            p._data -= lr * d
