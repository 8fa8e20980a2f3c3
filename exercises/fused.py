"""Exercise 2: Batch Normalization as one Function with the closed-form backward.

Autograd differentiates exercise 1 through every op it used, a node for
each.  One node can do the same work, with the derivative worked out by hand:
for m values per channel, dy the upstream gradient and sigma = sqrt(s2 + eps),

    dbeta  = sum_i dy_i
    dgamma = sum_i dy_i x_hat_i
    dx_i   = gamma / sigma * (dy_i - dbeta / m - x_hat_i * dgamma / m)

(derived in docs/batchnorm.md: the chain rule through x_hat, s2 and mu, summed).

Write ``BatchNorm.forward`` and ``BatchNorm.backward``; ``batch_norm_fused``
calls them.  Then run ``fused.check()`` (in the notebook) or
``python -m exercises.fused``.
"""
import tinygrad_bn as tg  # noqa: F401  (for your code: tg.no_grad())
from tinygrad_bn import Function
from tinygrad_bn.nn.batchnorm_reference import batch_norm_composed

from . import steps
from .grading import grade


class BatchNorm(Function):
    """y = gamma * (x - mu) / sqrt(s2 + eps) + beta with the batch's statistics, as one node.

    forward(ctx, x, weight, bias, eps) gets Tensors x (N, C) or (N, C, L) and
    weight, bias (C,) or None; it returns y.  backward(ctx, dy) returns one
    gradient per argument of forward: (dx, dweight, dbias, None), dweight and
    dbias of shape (C,) (or None when weight, bias are None).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        raise NotImplementedError(
            "exercises/fused.py, BatchNorm.forward: compute y as in exercise 1, inside `with tg.no_grad():` "
            "(this one node stands for all of it: nothing inside should be recorded); keep what backward needs with "
            "ctx.save_for_backward(x, weight) and ctx.eps = eps, and return y")

    @staticmethod
    def backward(ctx, dy):
        raise NotImplementedError(
            "exercises/fused.py, BatchNorm.backward: x, weight = ctx.saved_tensors; recompute x_hat and "
            "1/sigma from x with Tensor ops, then dbeta = dy.sum(axes), dgamma = (dy * x_hat).sum(axes) and "
            "dx = gamma / sigma * (dy - dbeta / m - x_hat * dgamma / m) (keepdims=True sums broadcast); "
            "return dx, dgamma, dbeta (reshaped to (C,), or None without weight) and None for eps. "
            "Written with Tensor ops, backward is itself differentiable (second derivatives)")


def batch_norm_fused(x, weight=None, bias=None, eps=1e-5):
    """Training-mode Batch Normalization as one node: your BatchNorm."""
    return BatchNorm.apply(x, weight, bias, eps)


# The check.  Nothing to write below this line.

WHERE = {
    "graph": "batch_norm_fused should return BatchNorm.apply(x, weight, bias, eps): one node",
    "output": "BatchNorm.forward: the y it returns",
    "dx": "BatchNorm.backward: dx, the first gradient it returns",
    "dweight": "BatchNorm.backward: dgamma, the second gradient it returns (shape (C,))",
    "dbias": "BatchNorm.backward: dbeta, the third gradient it returns (shape (C,))",
    "second derivatives": "BatchNorm.backward: it must be differentiable itself, so compute dx with Tensor "
                          "ops on the Tensors forward saved (x, weight), not on .data, arrays or copies",
}


def check(solution=None):
    """Grade batch_norm_fused, or ``solution`` (called the same way), on the
    suite's BatchNorm properties; returns the Report."""
    batch_norm = solution or batch_norm_fused
    return grade("Exercise 2, BN as one Function", batch_norm, [
        steps.runs(batch_norm),
        steps.one_node(batch_norm),
        steps.output_statistics(batch_norm),
        steps.gradient_identities(batch_norm),
        steps.same_as(batch_norm, batch_norm_composed, "the library's composed version", order=1),
        steps.gradcheck(batch_norm),
        steps.gradgradcheck(batch_norm),
    ], WHERE)


if __name__ == "__main__":
    print(check())
