"""Exercise 1: Batch Normalization composed from ops.

Write Algorithm 1 of Ioffe & Szegedy (training mode) with Tensor operations,
so that autograd can differentiate it.  Each channel (axis 1) of an (N, C)
or (N, C, L) input is normalised over its m values (axis 0, and axis 2 when
there is one):

    mu    = (1/m) sum_i x_i
    s2    = (1/m) sum_i (x_i - mu)^2         the biased variance: the batch's own spread
    x_hat = (x - mu) / sqrt(s2 + eps)
    y     = gamma * x_hat + beta             gamma = weight, beta = bias, both of shape (C,)

Then run ``composed.check()`` (in the notebook) or ``python -m exercises.composed``.
"""
from tinygrad_bn.testing.bn_properties import fused

from . import steps
from .grading import grade


def batch_norm_composed(x, weight=None, bias=None, eps=1e-5):
    """Training-mode Batch Normalization of x, (N, C) or (N, C, L), from Tensor ops.
    weight and bias are (C,) Tensors, or None (gamma = 1, beta = 0)."""
    raise NotImplementedError(
        "exercises/composed.py, batch_norm_composed: take the mean and the biased variance over axis 0 "
        "(and axis 2 of a 3-D input) with x.mean(axis=..., keepdims=True) and x.var(axis=..., "
        "keepdims=True, correction=0); x_hat = (x - mean) / (var + eps).sqrt(); then multiply by weight "
        "and add bias, each reshaped to (1, C), or (1, C, 1) for 3-D input, so that they broadcast")


# The check.  Nothing to write below this line.

WHERE = {
    "output": "the value batch_norm_composed returns (the forward pass)",
    **dict.fromkeys(["dx", "dweight", "dbias", "second derivatives"],
                    "batch_norm_composed: autograd differentiates exactly what you wrote, so a wrong gradient "
                    "from a right output means a step autograd did not see: .data, .numpy(), .detach(), "
                    "no_grad or a NumPy function cut the graph there"),
}


def check(solution=None):
    """Grade batch_norm_composed, or ``solution`` (called the same way), on the
    suite's BatchNorm properties; returns the Report."""
    batch_norm = solution or batch_norm_composed
    return grade("Exercise 1, BN composed from ops", batch_norm, [
        steps.runs(batch_norm),
        steps.output_statistics(batch_norm),
        steps.same_as(batch_norm, fused, "the library's fused op", order=2),
        steps.gradcheck(batch_norm),
        steps.shift_invariance(batch_norm),
        steps.scale_invariance(batch_norm),
    ], WHERE)


if __name__ == "__main__":
    print(check())
