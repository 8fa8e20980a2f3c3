"""Build Batch Normalization yourself: four exercises, each graded by the test suite's own properties.

    1. composed.py          BN's forward pass composed from Tensor ops (autograd differentiates it)
    2. fused.py             the same as one Function with the closed-form backward
    3. running_stats.py     BatchNorm1d's forward: running statistics, train and eval
    4. population_stats.py  Algorithm 2: population statistics for inference

Write the function or method that raises NotImplementedError in each file,
then run its ``check()``: ``python -m exercises.composed`` or, in the
notebook build_batchnorm.py, ``composed.check()``.  docs/exercises.md
explains the path and what a passing check does and does not prove.
"""
