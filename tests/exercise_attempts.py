"""Attempts at the exercises as a student would write them from the hints in the stubs:
right ones, and ones with a mistake students make.  tests/test_exercises.py grades them."""
import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import Function, nn


def axes_and_shape(x):
    """The axes a channel's statistics run over, and the shape a (C,) vector broadcasts with."""
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def composed(x, weight=None, bias=None, eps=1e-5, correction=0, constant_mean=False):
    """Exercise 1 written from its hint; ``correction=1`` and ``constant_mean`` are mistakes."""
    axes, shape = axes_and_shape(x)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, correction=correction)
    x_hat = (x - (mean.detach() if constant_mean else mean)) / (var + eps).sqrt()
    y = x_hat if weight is None else x_hat * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def unbiased_variance(x, weight=None, bias=None, eps=1e-5):
    return composed(x, weight, bias, eps, correction=1)


def constant_mean(x, weight=None, bias=None, eps=1e-5):
    return composed(x, weight, bias, eps, constant_mean=True)


def assumes_3d(x, weight=None, bias=None, eps=1e-5):
    """Takes the mean over axes 0 and 2, which (N, C) input does not have."""
    mean = x.sum(axis=(0, 2), keepdims=True) / (x.shape[0] * x.shape[2])
    return composed(x - mean, weight, bias, eps)


class BatchNorm(Function):
    """Exercise 2 written from its hints: y as exercise 1 computes it, unrecorded;
    backward recomputes x_hat from x with Tensor ops, so it is itself differentiable."""
    forgets_dbeta_over_m = False

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        with tg.no_grad():
            y = composed(x, weight, bias, eps)
        ctx.save_for_backward(x, weight)
        ctx.eps = eps
        return y

    @classmethod
    def backward(cls, ctx, dy):
        x, weight = ctx.saved_tensors
        axes, shape = axes_and_shape(x)
        m = x._data.size // x.shape[1]
        x_hat = composed(x, None, None, ctx.eps)
        inv_sigma = (x.var(axis=axes, keepdims=True, correction=0) + ctx.eps) ** -0.5
        dbeta = dy.sum(axis=axes, keepdims=True)
        dgamma = (dy * x_hat).sum(axis=axes, keepdims=True)
        scale = inv_sigma if weight is None else weight.reshape(shape) * inv_sigma
        mean_dy = 0 if cls.forgets_dbeta_over_m else dbeta / m
        dx = scale * (dy - mean_dy - x_hat * dgamma / m)
        return dx, dgamma.reshape(-1), dbeta.reshape(-1), None


class ForgetsDbetaOverM(BatchNorm):
    forgets_dbeta_over_m = True


class BackwardOnArrays(BatchNorm):
    """Right to first order, but its gradients are copies: not differentiable again."""

    @classmethod
    def backward(cls, ctx, dy):
        grads = super().backward(ctx, dy)
        return tuple(g if g is None else tg.Tensor.wrap(g._data.copy(), g.device) for g in grads)


def fused_with(function):
    """batch_norm_fused as exercises/fused.py writes it, for ``function``."""
    def batch_norm_fused(x, weight=None, bias=None, eps=1e-5):
        return function.apply(x, weight, bias, eps)
    return batch_norm_fused


class BatchNorm1d(nn.BatchNorm1d):
    """Exercise 3 written from its hint; the flags are mistakes."""
    biased_running_var = False
    running_mean_in_float64 = False

    def forward(self, x):
        axes, shape = axes_and_shape(x)
        if not self.training:
            x_hat = (x - self.running_mean.detach().reshape(shape)) / (
                self.running_var.detach().reshape(shape) + self.eps).sqrt()
            return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)
        y = F.batch_norm(x, None, None, self.weight, self.bias, training=True, eps=self.eps)
        m = x._data.size // x.shape[1]
        self.num_batches_tracked._data += 1
        f = 1 / self.num_batches_tracked.item() if self.momentum is None else self.momentum
        variance = x._data.var(axis=axes) * (1 if self.biased_running_var else m / (m - 1))
        mean = (1 - f) * self.running_mean._data + f * x._data.mean(axis=axes)
        if self.running_mean_in_float64:
            self.running_mean = tg.tensor(mean, dtype=tg.float64)
        else:
            self.running_mean._data[...] = mean
        self.running_var._data[...] = (1 - f) * self.running_var._data + f * variance
        return y


class BiasedRunningVar(BatchNorm1d):
    biased_running_var = True


class RunningMeanInFloat64(BatchNorm1d):
    running_mean_in_float64 = True


def recompute_population_stats(model, batches, reset=True):
    """Exercise 4 written from its hint; ``reset=False`` (averaging onto the old
    statistics) is a mistake."""
    layers = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    saved = [(m.training, m.momentum, m.num_batches_tracked.item()) for m in layers]
    for m in layers:
        if reset:
            m.reset_running_stats()
        m.momentum = None
        m.train()
    with tg.no_grad():
        for batch in batches:
            model(batch if isinstance(batch, tg.Tensor) else batch[0])
    for m, (training, momentum, tracked) in zip(layers, saved):
        m.train(training)
        m.momentum = momentum
        m.num_batches_tracked._data[...] = tracked
    return model


def keeps_old_statistics(model, batches):
    return recompute_population_stats(model, batches, reset=False)
