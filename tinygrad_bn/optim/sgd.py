"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov's variant."""
from ..autograd import no_grad
from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's update rule, for each parameter p with gradient g:

        g = g + weight_decay * p                          (L2 penalty)
        b = g (first step),  b = momentum * b + (1 - dampening) * g (later)
        g = g + momentum * b   with nesterov,   g = b   without     (when momentum != 0)
        p = p - lr * g

    Parameters whose ``grad`` is None are skipped.  The momentum buffer b lives
    in ``state[p]["momentum_buffer"]``.
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _check(self, group):
        if group["lr"] < 0:
            raise ValueError(f"invalid learning rate: {group['lr']} (must be >= 0)")
        if group["momentum"] < 0:
            raise ValueError(f"invalid momentum: {group['momentum']} (must be >= 0)")
        if group["weight_decay"] < 0:
            raise ValueError(f"invalid weight_decay: {group['weight_decay']} (must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"Nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    @no_grad()
    def step(self):
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.data
                if weight_decay != 0:
                    d = d + weight_decay * p.data
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d.copy()
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * d
                    d = d + momentum * buf if nesterov else buf
                p.data -= lr * d
