"""The BN proof, part 4: running statistics under any sequence of use.

A Hypothesis state machine (tinygrad_bn/testing/bn_running_stats.py, which the
exercise checks run too) drives a BatchNorm1d through interleaved training
steps, empty batches, batches that raise, eval calls, reset_running_stats() and
momentum changes (float or None) and checks, after every step, its buffers and outputs against a plain NumPy
model of PyTorch's rules:

    train:  out = gamma * (x - mu_B) / sqrt(s2_B + eps) + beta,  num_batches_tracked += 1
            f = momentum, or 1 / num_batches_tracked when momentum is None
            running_mean = (1 - f) running_mean + f mu_B
            running_var  = (1 - f) running_var  + f s2_B m / (m - 1)
    eval:   out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

in float64 and float32, on every device.
"""
import pytest
from hypothesis import settings

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.testing.bn_running_stats import check_running_statistics


@pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])
def test_running_statistics_follow_pytorch_rules(device, dtype):
    check_running_statistics(nn.BatchNorm1d, device, dtype, settings(stateful_step_count=20))
