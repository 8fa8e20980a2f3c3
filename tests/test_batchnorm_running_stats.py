"""The BN proof, part 4: running statistics under any sequence of use.

A Hypothesis state machine drives a BatchNorm1d through interleaved training
steps, eval calls, reset_running_stats() and momentum changes (float or None)
and checks, after every step, its buffers and outputs against a plain NumPy
model of PyTorch's rules:

    train:  out = gamma * (x - mu_B) / sqrt(s2_B + eps) + beta,  num_batches_tracked += 1
            f = momentum, or 1 / num_batches_tracked when momentum is None
            running_mean = (1 - f) running_mean + f mu_B
            running_var  = (1 - f) running_var  + f s2_B m / (m - 1)
    eval:   out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

An empty training batch (N = 0 or L = 0) gives an empty output, counts in
num_batches_tracked and changes no statistic (as torch 2.13 does).  A training
batch that raises (one value per channel; NaN statistics under
tg.detect_anomaly()) changes nothing, num_batches_tracked included (where
torch 2.13, which counts the batch before it fails, would be one ahead).
Checked in float64 and float32, on every device.
"""
import numpy as np
import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

import tinygrad_bn as tg
from tinygrad_bn import nn

from bn_cases import channel_shape, numpy_normalize, reduction_axes

EPS = 1e-5
TOLERANCE = {tg.float64: 1e-10, tg.float32: 1e-4}
momenta = st.none() | st.floats(0.0, 1.0)


class RunningStatsMachine(RuleBasedStateMachine):
    def __init__(self, device, dtype):
        super().__init__()
        self.device, self.dtype = device, dtype

    @initialize(channels=st.integers(1, 16), momentum=momenta, seed=st.integers(0, 2 ** 32 - 1))
    def build(self, channels, momentum, seed):
        self.rng = np.random.default_rng(seed)
        self.bn = nn.BatchNorm1d(channels, momentum=momentum).to(self.device, self.dtype)
        self.bn.weight.data[...] = self.bn.weight.xp.asarray(self.rng.uniform(-2, 2, channels), dtype=self.dtype)
        self.bn.bias.data[...] = self.bn.weight.xp.asarray(self.rng.uniform(-2, 2, channels), dtype=self.dtype)
        self.gamma, self.beta = self.bn.weight.detach().numpy().astype(np.float64), self.bn.bias.detach().numpy().astype(np.float64)
        self.momentum = momentum
        self.mean, self.var, self.tracked = np.zeros(channels), np.ones(channels), 0

    def _input(self, batch, length):
        shape = (batch, self.bn.num_features) + (() if length is None else (length,))
        x = self.rng.standard_normal(shape) * self.rng.uniform(0.5, 3) + self.rng.uniform(-4, 4)
        return x.astype(self.dtype).astype(np.float64)      # exactly representable in both dtypes

    def _check_output(self, x, expected):
        y = self.bn(tg.tensor(x, dtype=self.dtype, device=self.device))
        assert y.dtype == self.dtype and y.device == self.device
        np.testing.assert_allclose(y.detach().numpy(), expected, rtol=TOLERANCE[self.dtype],
                                   atol=TOLERANCE[self.dtype] * 10)

    def _affine(self, x, x_hat):
        return x_hat * self.gamma.reshape(channel_shape(x)) + self.beta.reshape(channel_shape(x))

    @rule(batch=st.integers(2, 64), length=st.none() | st.integers(1, 4))
    def train_step(self, batch, length):
        self.bn.train()
        x = self._input(batch, length)
        x_hat, s2 = numpy_normalize(x, EPS)
        self._check_output(x, self._affine(x, x_hat))
        self.tracked += 1
        m = x.size // x.shape[1]
        factor = 1 / self.tracked if self.momentum is None else self.momentum
        self.mean = (1 - factor) * self.mean + factor * x.mean(axis=reduction_axes(x))
        self.var = (1 - factor) * self.var + factor * s2.reshape(-1) * m / (m - 1)

    @rule(batch=st.integers(1, 64), length=st.none() | st.integers(1, 4))
    def eval_call(self, batch, length):
        self.bn.eval()
        x = self._input(batch, length)
        shape = channel_shape(x)
        x_hat = (x - self.mean.reshape(shape)) / np.sqrt(self.var.reshape(shape) + EPS)
        self._check_output(x, self._affine(x, x_hat))

    @rule(empty=st.sampled_from(["N = 0", "L = 0"]))
    def empty_train_step(self, empty):
        self.bn.train()
        shape = (0, self.bn.num_features) if empty == "N = 0" else (3, self.bn.num_features, 0)
        y = self.bn(tg.zeros(shape, dtype=self.dtype, device=self.device))
        assert y.shape == shape and y.dtype == self.dtype
        self.tracked += 1

    @rule(length=st.none() | st.just(1), failure=st.sampled_from(["one value per channel", "NaN"]))
    def failed_train_step(self, length, failure):
        self.bn.train()
        if failure == "one value per channel":
            with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
                self.bn(tg.tensor(self._input(1, length), dtype=self.dtype, device=self.device))
            return
        x = self._input(4, length)
        x[1, 0] = np.nan
        with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="BatchNorm produced NaN or Inf"):
            self.bn(tg.tensor(x, dtype=self.dtype, device=self.device))

    @rule()
    def reset(self):
        self.bn.reset_running_stats()
        self.mean, self.var, self.tracked = np.zeros_like(self.mean), np.ones_like(self.var), 0

    @rule(momentum=momenta)
    def change_momentum(self, momentum):
        self.bn.momentum = self.momentum = momentum

    @invariant()
    def buffers_match(self):
        if not hasattr(self, "bn"):
            return
        assert self.bn.num_batches_tracked.dtype == np.int64 and self.bn.num_batches_tracked.shape == ()
        assert self.bn.num_batches_tracked.item() == self.tracked
        for buffer, expected in ((self.bn.running_mean, self.mean), (self.bn.running_var, self.var)):
            assert buffer.dtype == self.dtype
            np.testing.assert_allclose(buffer.numpy(), expected, rtol=TOLERANCE[self.dtype],
                                       atol=TOLERANCE[self.dtype])


@pytest.mark.parametrize("dtype", [tg.float64, tg.float32], ids=["float64", "float32"])
def test_running_statistics_follow_pytorch_rules(device, dtype):
    run_state_machine_as_test(lambda: RunningStatsMachine(device, dtype),
                              settings=settings(stateful_step_count=20))
