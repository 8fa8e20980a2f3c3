"""RMSprop: a step per coordinate divided by a running root-mean-square of the gradient."""
from .optimizer import Optimizer, check_eps, state_buffer


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes; the centered form from Graves, 2013) as
    PyTorch computes it.  For each parameter p with gradient g:

        g = g + weight_decay * p                      (L2 penalty)
        v = alpha * v + (1 - alpha) * g^2             state[p]["square_avg"]
        s = sqrt(v) + eps                             plain
        s = sqrt(v - a^2) + eps,                      centered, with the gradient average
            a = alpha * a + (1 - alpha) * g           state[p]["grad_avg"]
        b = momentum * b + g / s,  p = p - lr * b     when momentum > 0, state[p]["momentum_buffer"]
        p = p - lr * g / s                            otherwise

    v, a and b start at zero.  eps is added after the square root (TensorFlow
    adds it inside).  ``state[p]["step"]`` counts the steps, a Python int
    (PyTorch keeps a float32 tensor).  Parameters whose ``grad`` is None are skipped.
    """

    _buffers = ("square_avg", "momentum_buffer", "grad_avg")
    _counters = ("step",)
    _required = ("step", "square_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check(self, group):
        super()._check(group)
        check_eps(group["eps"])
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (expected momentum >= 0)")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']} (expected alpha >= 0)")

    def _update_group(self, group, params):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p in params:
            g, state = self._gradient_and_state(p, weight_decay)
            v = state_buffer(state, "square_avg", p)
            v *= alpha
            v += (1 - alpha) * g * g
            if centered:
                a = state_buffer(state, "grad_avg", p)
                a *= alpha
                a += (1 - alpha) * g
                s = p.xp.sqrt(v - a * a) + eps
            else:
                s = p.xp.sqrt(v) + eps
            if momentum > 0:
                b = state_buffer(state, "momentum_buffer", p)
                b *= momentum
                b += g / s
                p._data -= lr * b
            else:
                p._data -= lr * g / s
