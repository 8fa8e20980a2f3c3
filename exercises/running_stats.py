"""Exercise 3: BatchNorm1d's forward pass, with running statistics for inference.

In training, a BatchNorm1d layer normalises with the batch's own statistics
and folds them into its running estimates; in eval mode it uses the
estimates instead, so that the output for one example does not depend on the
rest of the batch.  PyTorch's rules, with m values per channel:

    training:  y = gamma (x - mu_B) / sqrt(s2_B + eps) + beta        s2_B biased
               num_batches_tracked += 1
               f = momentum, or 1 / num_batches_tracked when momentum is None
               running_mean = (1 - f) running_mean + f mu_B
               running_var  = (1 - f) running_var  + f s2_B m / (m - 1)   (unbiased)
    eval:      y = gamma (x - running_mean) / sqrt(running_var + eps) + beta

Write ``BatchNorm1d.forward``.  The rest of the layer (its weight and bias,
the buffers running_mean, running_var and num_batches_tracked, and
reset_running_stats()) comes from nn.BatchNorm1d.  Then run
``running_stats.check()`` (in the notebook) or ``python -m exercises.running_stats``.
"""
import tinygrad_bn.functional as F  # noqa: F401  (for your code: F.batch_norm)
from tinygrad_bn import float32, float64, nn

from . import steps
from .grading import grade


class BatchNorm1d(nn.BatchNorm1d):
    """nn.BatchNorm1d with the forward pass to write (affine, with running statistics)."""

    def forward(self, x):
        raise NotImplementedError(
            "exercises/running_stats.py, BatchNorm1d.forward: if self.training, y = F.batch_norm(x, None, "
            "None, self.weight, self.bias, training=True, eps=self.eps) (or your exercise 2), then update "
            "the buffers in place from the batch's mean and biased variance (x.data.mean(axis=...), "
            "x.data.var(axis=...)): self.num_batches_tracked.data += 1, self.running_mean.data[...] = ..., "
            "self.running_var.data[...] = ...; otherwise normalise with self.running_mean and "
            "self.running_var using Tensor ops, so that eval mode stays differentiable")


# The check.  Nothing to write below this line.

TRAINING = "BatchNorm1d.forward in training mode"
WHERE = {
    "training output": f"{TRAINING}: the y it returns, from the batch's own mean and biased variance",
    "eval output": "BatchNorm1d.forward in eval mode: the y it returns, from running_mean and running_var",
    "running_mean": f"{TRAINING}: the update of self.running_mean",
    "running_var": f"{TRAINING}: the update of self.running_var (the batch variance it stores is unbiased)",
    "num_batches_tracked": f"{TRAINING}: self.num_batches_tracked counts the batches (in place, int64)",
}


def check(solution=None):
    """Grade BatchNorm1d, or ``solution`` (a class used the same way), against the
    suite's running-statistics state machine; returns the Report."""
    layer = solution or BatchNorm1d
    return grade("Exercise 3, running statistics", layer, [
        steps.runs_in_both_modes(layer),
        steps.running_statistics(layer, float64),
        steps.running_statistics(layer, float32),
    ], WHERE)


if __name__ == "__main__":
    print(check())
