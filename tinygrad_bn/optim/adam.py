"""Adam: a step per coordinate scaled by running averages of the gradient and of its square."""
import math

from .optimizer import Optimizer, check_betas, check_eps, state_buffer


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) as PyTorch computes it.  For each parameter p
    with gradient g, at its t-th step (t = 1, 2, ...):

        g = g + weight_decay * p                  (L2 penalty; with decoupled_weight_decay
                                                   instead p = p * (1 - lr * weight_decay): AdamW)
        m = beta1 * m + (1 - beta1) * g           first moment,  state[p]["exp_avg"]
        v = beta2 * v + (1 - beta2) * g^2         second moment, state[p]["exp_avg_sq"]
        v_max = max(v_max, v), used as v below    with amsgrad,  state[p]["max_exp_avg_sq"]
        p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    m, v and v_max start at zero; the divisions by 1 - beta^t undo their bias
    towards zero in the first steps.  With amsgrad the maximum is taken of the
    uncorrected v, and the maximum is then bias-corrected, as in PyTorch.
    ``state[p]["step"]`` is t, a Python int (PyTorch keeps a float32 tensor).
    Parameters whose ``grad`` is None are skipped.
    """

    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _counters = ("step",)
    _required = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check(self, group):
        super()._check(group)
        check_eps(group["eps"])
        check_betas(group["betas"])

    def _update_group(self, group, params):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay, amsgrad, decoupled = group["weight_decay"], group["amsgrad"], group["decoupled_weight_decay"]
        for p in params:
            g = p._grad._data
            state = self.state.setdefault(p, {})
            state["step"] = t = state.get("step", 0) + 1
            if weight_decay != 0:
                if decoupled:
                    p._data *= 1 - lr * weight_decay
                else:
                    g = g + weight_decay * p._data
            m, v = state_buffer(state, "exp_avg", p), state_buffer(state, "exp_avg_sq", p)
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            if amsgrad:
                v_max = state_buffer(state, "max_exp_avg_sq", p)
                p.xp.maximum(v_max, v, out=v_max)
                v = v_max
            denominator = p.xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
            p._data -= (lr / (1 - beta1 ** t)) * m / denominator
