"""The running statistics of BatchNorm1d under any sequence of use: a Hypothesis state machine.

``RunningStatsMachine`` drives a layer through interleaved training steps,
eval calls, reset_running_stats() and momentum changes (float or None) and
checks, after every step, its buffers and outputs against a plain NumPy model
of PyTorch's rules:

    train:  out = gamma * (x - mu_B) / sqrt(s2_B + eps) + beta,  num_batches_tracked += 1
            f = momentum, or 1 / num_batches_tracked when momentum is None
            running_mean = (1 - f) running_mean + f mu_B
            running_var  = (1 - f) running_var  + f s2_B m / (m - 1)
    eval:   out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

A broken rule raises PropertyFailure naming the steps that led to it (which
Hypothesis first shrinks to as few as it can).  ``check_running_statistics``
runs the machine on a BatchNorm1d class: the library's, or one of your own.
"""
from contextlib import contextmanager

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from .. import nn
from ..creation import tensor
from ..tensor import float32, float64
from .bn_cases import channel_shape, numpy_normalize, reduction_axes
from .bn_properties import PropertyFailure, assert_close, fail

EPS = 1e-5
TOLERANCE = {float64: 1e-10, float32: 1e-4}
momenta = st.none() | st.floats(0.0, 1.0)
RULES = {
    "running_mean": "running_mean should follow running_mean = (1 - f) running_mean + f mu_B, with f = momentum, "
                    "or 1/num_batches_tracked when momentum is None",
    "running_var": "running_var should follow running_var = (1 - f) running_var + f s2_B m/(m - 1) (the unbiased "
                   "batch variance), with f = momentum, or 1/num_batches_tracked when momentum is None",
}


class RunningStatsMachine(RuleBasedStateMachine):
    def __init__(self, layer, device, dtype):
        super().__init__()
        self.layer, self.device, self.dtype = layer, device, dtype
        self.steps = []

    def _so_far(self):
        return " -> ".join(self.steps)

    @contextmanager
    def _step(self, description):
        """Note the step; an error of the layer in it becomes a PropertyFailure naming the steps so far."""
        self.steps.append(description)
        try:
            yield
        except (PropertyFailure, NotImplementedError):
            raise
        except Exception as error:
            raise PropertyFailure(f"{type(error).__name__}: {error}; {self._so_far()}", "crash") from error

    @initialize(channels=st.integers(1, 16), momentum=momenta, seed=st.integers(0, 2 ** 32 - 1))
    def build(self, channels, momentum, seed):
        self.rng = np.random.default_rng(seed)
        with self._step(f"{self.layer.__name__}({channels}, momentum={momentum}) in {np.dtype(self.dtype).name}"):
            self.bn = self.layer(channels, momentum=momentum).to(self.device, self.dtype)
        self.bn.weight.data[...] = self.bn.weight.xp.asarray(self.rng.uniform(-2, 2, channels), dtype=self.dtype)
        self.bn.bias.data[...] = self.bn.weight.xp.asarray(self.rng.uniform(-2, 2, channels), dtype=self.dtype)
        self.gamma = self.bn.weight.detach().numpy().astype(np.float64)
        self.beta = self.bn.bias.detach().numpy().astype(np.float64)
        self.momentum = momentum
        self.mean, self.var, self.tracked = np.zeros(channels), np.ones(channels), 0

    def _input(self, batch, length):
        shape = (batch, self.bn.num_features) + (() if length is None else (length,))
        x = self.rng.standard_normal(shape) * self.rng.uniform(0.5, 3) + self.rng.uniform(-4, 4)
        return x.astype(self.dtype).astype(np.float64)      # exactly representable in both dtypes

    def _check_output(self, x, expected, mode, formula):
        with self._step(f"{mode} on a batch of shape {x.shape}"):
            y = self.bn(tensor(x, dtype=self.dtype, device=self.device))
        should = f"in {mode} mode the output should be {formula}"
        if y.dtype != self.dtype or y.device != self.device:
            fail(should, f"it is {np.dtype(y.dtype).name} on {y.device}, expected {np.dtype(self.dtype).name} "
                         f"on {self.device}", f"{mode} output", context=self._so_far())
        assert_close(y.detach().numpy(), expected, rtol=TOLERANCE[self.dtype], atol=TOLERANCE[self.dtype] * 10,
                     what="the output", quantity=f"{mode} output", should=should, context=self._so_far())

    def _affine(self, x, x_hat):
        return x_hat * self.gamma.reshape(channel_shape(x)) + self.beta.reshape(channel_shape(x))

    @rule(batch=st.integers(2, 64), length=st.none() | st.integers(1, 4))
    def train_step(self, batch, length):
        self.bn.train()
        x = self._input(batch, length)
        x_hat, s2 = numpy_normalize(x, EPS)
        self._check_output(x, self._affine(x, x_hat), "training",
                           "gamma (x - mu_B)/sqrt(s2_B + eps) + beta, with the batch's mean and biased variance")
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
        self._check_output(x, self._affine(x, x_hat), "eval",
                           "gamma (x - running_mean)/sqrt(running_var + eps) + beta")

    @rule()
    def reset(self):
        with self._step("reset_running_stats()"):
            self.bn.reset_running_stats()
        self.mean, self.var, self.tracked = np.zeros_like(self.mean), np.ones_like(self.var), 0

    @rule(momentum=momenta)
    def change_momentum(self, momentum):
        self.steps.append(f"momentum = {momentum}")
        self.bn.momentum = self.momentum = momentum

    @invariant()
    def buffers_match(self):
        if not hasattr(self, "bn"):
            return
        tracked = self.bn.num_batches_tracked
        if tracked.dtype != np.int64 or tracked.shape != ():
            fail("num_batches_tracked should be an int64 scalar", f"it is {np.dtype(tracked.dtype).name} of shape "
                 f"{tracked.shape}", "num_batches_tracked", context=self._so_far())
        if tracked.item() != self.tracked:
            fail("num_batches_tracked should count the training batches since the last reset",
                 f"it is {tracked.item()}, expected {self.tracked}", "num_batches_tracked", context=self._so_far())
        for name, expected in (("running_mean", self.mean), ("running_var", self.var)):
            buffer = getattr(self.bn, name)
            if buffer.dtype != self.dtype:
                fail(f"{name} should stay {np.dtype(self.dtype).name}", f"it is {np.dtype(buffer.dtype).name}",
                     name, context=self._so_far())
            assert_close(buffer.numpy(), expected, rtol=TOLERANCE[self.dtype], atol=TOLERANCE[self.dtype],
                         what=name, quantity=name, should=RULES[name], context=self._so_far(), per_channel=True)


def check_running_statistics(layer=nn.BatchNorm1d, device="cpu", dtype=float64, settings=None):
    """Run the machine on ``layer``, a class called as ``layer(channels, momentum=...)``
    with BatchNorm1d's attributes; raises PropertyFailure at the first broken rule."""
    run_state_machine_as_test(lambda: RunningStatsMachine(layer, device, dtype), settings=settings)
