"""The running statistics of BatchNorm1d and BatchNorm2d under any sequence of use: a Hypothesis state machine.

``RunningStatsMachine`` drives a layer through interleaved training steps,
eval calls, reset_running_stats() and momentum changes (float or None) and
checks, after every step, its buffers and outputs against a plain NumPy model
of PyTorch's rules:

    train:  out = gamma * (x - mu_B) / sqrt(s2_B + eps) + beta,  num_batches_tracked += 1
            f = momentum, or 1 / num_batches_tracked when momentum is None
            running_mean = (1 - f) running_mean + f mu_B
            running_var  = (1 - f) running_var  + f s2_B m / (m - 1)
    eval:   out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

The batches have the shapes the layer takes ((N, C) and (N, C, L), or
(N, C, H, W): ``ndims``).  An empty training batch (N = 0, or L or H = 0)
gives an empty output, counts in num_batches_tracked and changes no
statistic (as torch 2.13 does).  A training batch that raises (one value per
channel; NaN statistics under tg.detect_anomaly()) changes nothing,
num_batches_tracked included (torch 2.13 counts the batch before it fails).

A broken rule raises PropertyFailure naming the steps that led to it (which
Hypothesis first shrinks to as few as it can).  ``check_running_statistics``
runs the machine on a BatchNorm class: the library's, or one of your own.
"""
from contextlib import contextmanager

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from .. import backend, nn
from ..autograd import AnomalyError, detect_anomaly
from ..creation import tensor, zeros
from ..tensor import float32, float64
from .bn_cases import BATCHNORM1D_NDIMS, channel_shape, numpy_normalize, reduction_axes, spatial_sizes
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
    def __init__(self, layer, device, dtype, edge_cases, ndims):
        super().__init__()
        self.layer, self.dtype, self.edge_cases, self.ndims = layer, dtype, edge_cases, ndims
        self.device = device or backend.get_default_device()
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
        self._build(channels, momentum, seed)

    def _build(self, channels, momentum, seed, **options):
        """The layer ``layer(channels, momentum=momentum, **options)`` with drawn gamma and
        beta, and the NumPy model's state: fresh running statistics."""
        self.rng = np.random.default_rng(seed)
        arguments = "".join(f", {name}={value!r}" for name, value in options.items())
        with self._step(f"{self.layer.__name__}({channels}, momentum={momentum}{arguments}) in "
                        f"{np.dtype(self.dtype).name}"):
            self.bn = self.layer(channels, momentum=momentum, **options).to(self.device, self.dtype)
        self.bn.weight._data[...] = self.bn.weight.xp.asarray(self.rng.uniform(-2, 2, channels), dtype=self.dtype)
        self.bn.bias._data[...] = self.bn.weight.xp.asarray(self.rng.uniform(-2, 2, channels), dtype=self.dtype)
        self.gamma = self.bn.weight.detach().numpy().astype(np.float64)
        self.beta = self.bn.bias.detach().numpy().astype(np.float64)
        self.momentum = momentum
        self.mean, self.var, self.tracked = np.zeros(channels), np.ones(channels), 0

    def _input(self, batch, spatial):
        shape = (batch, self.bn.num_features) + spatial
        x = self.rng.standard_normal(shape) * self.rng.uniform(0.5, 3) + self.rng.uniform(-4, 4)
        return x.astype(self.dtype).astype(np.float64)      # exactly representable in both dtypes

    def _check_output(self, x, expected, mode, formula):
        with self._step(f"{mode} on a batch of shape {tuple(x.shape)}"):
            y = self.bn(tensor(x, dtype=self.dtype, device=self.device))
        should = f"in {mode} mode the output should be {formula}"
        if y.dtype != self.dtype or y.device != self.device:
            fail(should, f"it is {np.dtype(y.dtype).name} on {y.device}, expected {np.dtype(self.dtype).name} "
                         f"on {self.device}", f"{mode} output", context=self._so_far())
        assert_close(y.detach().numpy(), expected, rtol=TOLERANCE[self.dtype], atol=TOLERANCE[self.dtype] * 10,
                     what="the output", quantity=f"{mode} output", should=should, context=self._so_far())

    def _affine(self, x, x_hat):
        return x_hat * self.gamma.reshape(channel_shape(x)) + self.beta.reshape(channel_shape(x))

    TRAINING_OUTPUT = "gamma (x - mu_B)/sqrt(s2_B + eps) + beta, with the batch's mean and biased variance"

    def training_output(self, x):
        """What the layer should give for the training batch x, from the model's state
        before the batch (BatchNorm: the batch's own statistics only)."""
        return self._affine(x, numpy_normalize(x, EPS)[0])

    @rule(batch=st.integers(2, 64), data=st.data())
    def train_step(self, batch, data):
        self.bn.train()
        x = self._input(batch, data.draw(spatial_sizes(self.ndims), label="spatial sizes"))
        self._check_output(x, self.training_output(x), "training", self.TRAINING_OUTPUT)
        s2 = numpy_normalize(x, EPS)[1]
        self.tracked += 1
        m = x.size // x.shape[1]
        factor = 1 / self.tracked if self.momentum is None else self.momentum
        self.mean = (1 - factor) * self.mean + factor * x.mean(axis=reduction_axes(x))
        self.var = (1 - factor) * self.var + factor * s2.reshape(-1) * m / (m - 1)

    @rule(batch=st.integers(1, 64), data=st.data())
    def eval_call(self, batch, data):
        self.bn.eval()
        x = self._input(batch, data.draw(spatial_sizes(self.ndims), label="spatial sizes"))
        shape = channel_shape(x)
        x_hat = (x - self.mean.reshape(shape)) / np.sqrt(self.var.reshape(shape) + EPS)
        self._check_output(x, self._affine(x, x_hat), "eval",
                           "gamma (x - running_mean)/sqrt(running_var + eps) + beta")

    @precondition(lambda self: self.edge_cases)
    @rule(empty=st.sampled_from(["N = 0", "a spatial size 0"]))
    def empty_train_step(self, empty):
        """An empty batch gives an empty output, counts in num_batches_tracked and changes
        no statistic (as torch 2.13 does)."""
        self.bn.train()
        channels = self.bn.num_features
        if empty == "N = 0":
            shape = (0, channels) + (2,) * (min(self.ndims) - 2)
        else:                                              # (3, C, 0) or (3, C, 0, 2)
            shape = (3, channels, 0) + (2,) * (max(self.ndims) - 3)
        with self._step(f"training on an empty batch of shape {shape}"):
            y = self.bn(zeros(shape, dtype=self.dtype, device=self.device))
        if y.shape != shape or y.dtype != self.dtype:
            fail("an empty training batch should give an empty output of the input's shape and dtype",
                 f"it is {np.dtype(y.dtype).name} of shape {tuple(y.shape)}", "empty batch", context=self._so_far())
        self.tracked += 1

    @precondition(lambda self: self.edge_cases)
    @rule(data=st.data(), failure=st.sampled_from(["one value per channel", "NaN"]))
    def failed_train_step(self, data, failure):
        """A training batch that raises (one value per channel; NaN statistics under
        detect_anomaly) changes nothing, num_batches_tracked included."""
        self.bn.train()
        ones = data.draw(spatial_sizes(self.ndims, max_per_sample=1), label="spatial sizes")
        if failure == "one value per channel":
            x, expected = self._input(1, ones), ValueError
        else:
            x, expected = self._input(4, ones), AnomalyError
            x[1, 0] = np.nan
        self.steps.append(f"training on a batch of shape {tuple(x.shape)} that must raise ({failure})")
        try:
            with detect_anomaly():
                self.bn(tensor(x, dtype=self.dtype, device=self.device))
        except expected:
            return
        fail(f"a training batch with {failure} should raise {expected.__name__}", "it did not raise",
             "failed batch", context=self._so_far())

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
                 f"{tuple(tracked.shape)}", "num_batches_tracked", context=self._so_far())
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


def check_running_statistics(layer=nn.BatchNorm1d, device=None, dtype=float64, settings=None, edge_cases=True,
                             ndims=BATCHNORM1D_NDIMS):
    """Run the machine on ``layer``, a class called as ``layer(channels, momentum=...)``
    with BatchNorm1d's attributes, on batches of the ranks ``ndims`` (bn_cases:
    BATCHNORM1D_NDIMS, or BATCHNORM2D_NDIMS for a BatchNorm2d); raises
    PropertyFailure at the first broken rule.  ``edge_cases`` adds empty batches
    and batches that must raise to the steps."""
    run_state_machine_as_test(lambda: RunningStatsMachine(layer, device, dtype, edge_cases, ndims), settings=settings)
