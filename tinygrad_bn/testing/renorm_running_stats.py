"""Batch Renormalization under any sequence of use: BatchNorm's state machine with r and d.

``RenormStatsMachine`` is bn_running_stats' RunningStatsMachine (training
steps, empty and failing batches, eval calls, reset_running_stats(), momentum
changes) on a BatchRenorm layer, with drawn limits rmax, dmax and warm-up, and
rules that change the limits.  Its NumPy model keeps BatchNorm's running
statistics; the expected training output is Algorithm 1 of Ioffe (2017) on the
model's running statistics from before the batch:

    sigma = sqrt(running_var + eps),  sigma_B = sqrt(s2_B + eps)
    r = clip(sigma_B / sigma, 1/rmax_t, rmax_t),  d = clip((mu_B - running_mean) / sigma, -dmax_t, dmax_t)
    out = gamma ((x - mu_B)/sigma_B r + d) + beta

with (rmax_t, dmax_t) = (rmax, dmax), or with a warm-up (bn_steps, rmax_steps,
dmax_steps) the limits interpolated linearly (np.interp) from (1, 0) at step
bn_steps to (rmax, dmax) at rmax_steps and dmax_steps, t being the number of
training batches counted since the last reset.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule, run_state_machine_as_test

from ..nn import BatchRenorm1d, RenormWarmup
from ..tensor import float64
from .bn_cases import BATCHNORM1D_NDIMS, channel_shape, numpy_normalize, reduction_axes
from .bn_running_stats import EPS, RunningStatsMachine, momenta

rmaxes = st.floats(1.0, 4.0)
dmaxes = st.floats(0.0, 6.0)
warmups = st.none() | st.builds(lambda start, r, d: RenormWarmup(start, start + r, start + d),
                                st.integers(0, 3), st.integers(1, 6), st.integers(1, 6))


class RenormStatsMachine(RunningStatsMachine):
    TRAINING_OUTPUT = ("gamma ((x - mu_B)/sigma_B r + d) + beta, with r, d clipped from the running statistics "
                       "before the batch (Algorithm 1 of Ioffe 2017)")

    @initialize(channels=st.integers(1, 16), momentum=momenta, seed=st.integers(0, 2 ** 32 - 1), rmax=rmaxes,
                dmax=dmaxes, warmup=warmups)
    def build(self, channels, momentum, seed, rmax, dmax, warmup):
        self._build(channels, momentum, seed, rmax=rmax, dmax=dmax, warmup=warmup)
        self.rmax, self.dmax, self.warmup = rmax, dmax, warmup

    def _limits(self):
        if self.warmup is None:
            return self.rmax, self.dmax
        w, t = self.warmup, self.tracked
        return (np.interp(t, [w.bn_steps, w.rmax_steps], [1.0, self.rmax]),
                np.interp(t, [w.bn_steps, w.dmax_steps], [0.0, self.dmax]))

    def training_output(self, x):
        shape = channel_shape(x)
        x_hat, s2 = numpy_normalize(x, EPS)
        sigma = np.sqrt(self.var.reshape(shape) + EPS)
        rmax, dmax = self._limits()
        r = np.clip(np.sqrt(s2 + EPS) / sigma, 1 / rmax, rmax)
        d = np.clip((x.mean(axis=reduction_axes(x), keepdims=True) - self.mean.reshape(shape)) / sigma, -dmax, dmax)
        return self._affine(x, x_hat * r + d)

    @rule(rmax=rmaxes, dmax=dmaxes)
    def change_limits(self, rmax, dmax):
        self.steps.append(f"rmax, dmax = {rmax}, {dmax}")
        self.bn.rmax, self.bn.dmax = self.rmax, self.dmax = rmax, dmax


def check_renorm_running_statistics(layer=BatchRenorm1d, device=None, dtype=float64, settings=None,
                                    ndims=BATCHNORM1D_NDIMS):
    """Run the machine on ``layer``, called as ``layer(channels, momentum=..., rmax=...,
    dmax=..., warmup=...)``, on batches of the ranks ``ndims``; raises PropertyFailure
    at the first broken rule."""
    run_state_machine_as_test(lambda: RenormStatsMachine(layer, device, dtype, True, ndims), settings=settings)
