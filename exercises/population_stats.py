"""Exercise 4: Algorithm 2 of Ioffe & Szegedy, population statistics for inference.

The running averages of exercise 3 weight recent batches more, and lag behind
while the network trains.  The paper's inference network instead uses, for
each BN layer, statistics of its input over many training mini-batches B of
size m, the network running as in training (batch statistics throughout):

    E[x]   = average over B of mu_B
    Var[x] = m/(m - 1) * average over B of s2_B          (s2_B biased)

Write ``recompute_population_stats(model, batches)``: put these into the
running_mean and running_var of every nn.BatchNorm1d in the model, and leave
the rest (modes, momenta, num_batches_tracked, parameters) as it was.  Then
run ``population_stats.check()`` (in the notebook) or
``python -m exercises.population_stats``.
"""
from tinygrad_bn import Tensor, nn, no_grad  # noqa: F401  (for your code)

from . import steps
from .grading import grade


def recompute_population_stats(model, batches):
    """Set every BatchNorm1d's running statistics to population statistics over
    ``batches`` (input Tensors, or (input, target) pairs as a DataLoader yields
    them); return the model."""
    raise NotImplementedError(
        "exercises/population_stats.py, recompute_population_stats: a BatchNorm1d with momentum=None "
        "keeps the plain average of the statistics of the batches it has seen since reset_running_stats() "
        "(exercise 3): use that for every nn.BatchNorm1d in model.modules(), run the model over the "
        "batches in training mode under no_grad(), then put back each layer's mode, momentum and "
        "num_batches_tracked")


# The check.  Nothing to write below this line.

WHERE = {
    "running_mean": "recompute_population_stats: each layer's running_mean must end as the average of its "
                    "batch means, with nothing left of the statistics it had before",
    "running_var": "recompute_population_stats: each layer's running_var must end as m/(m-1) times the "
                   "average of its biased batch variances, with nothing left of the statistics it had before",
    **dict.fromkeys(["modes", "momentum", "num_batches_tracked", "parameters"],
                    "recompute_population_stats: put back what you changed on the way"),
    "return value": "recompute_population_stats: return the model",
}


def check(solution=None):
    """Grade recompute_population_stats, or ``solution`` (called the same way),
    against Algorithm 2 computed in NumPy; returns the Report."""
    recompute = solution or recompute_population_stats
    return grade("Exercise 4, Algorithm 2", recompute, [
        steps.runs_on_a_small_model(recompute),
        steps.population_statistics(recompute),
    ], WHERE)


if __name__ == "__main__":
    print(check())
