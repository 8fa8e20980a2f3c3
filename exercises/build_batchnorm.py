# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Build Batch Normalization yourself
#
# Batch Normalization (Ioffe & Szegedy, 2015) normalises every channel of a
# layer's input with the mean and variance of the mini-batch. Here you write it
# four times over, each time closer to the way a framework does it:
#
# 1. compose it from Tensor operations, and let autograd differentiate it
#    (`exercises/composed.py`);
# 2. derive its backward pass in closed form and fuse it into one `Function`
#    (`exercises/fused.py`), then gradcheck it and time both versions;
# 3. keep running statistics for inference (`exercises/running_stats.py`);
# 4. replace them by population statistics, the paper's Algorithm 2
#    (`exercises/population_stats.py`).
#
# In each file one function or method raises `NotImplementedError` with a hint.
# Write it, then run the `check()` cell that follows: it runs the test suite's
# own properties and gradient checks on your code and tells you what held and,
# if something did not, for which input, what came out, and where to look. The
# cells after a check use your code, so they fail until it is written.
#
# The `autoreload` lines below make every cell see your latest edits.

# %%
# %load_ext autoreload
# %autoreload 2

# %%
import timeit

import numpy as np

import tinygrad_bn as tg
from exercises import composed, fused, population_stats, running_stats
from tinygrad_bn import nn

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Compose BN from ops
#
# For an input of shape `(N, C)` (or `(N, C, L)`), each channel is normalised
# over its `m = N` (or `N * L`) values, then scaled and shifted by two learned
# per-channel parameters, `gamma` (the `weight`) and `beta` (the `bias`):
#
#     mu    = (1/m) sum_i x_i
#     s2    = (1/m) sum_i (x_i - mu)^2          the biased variance: the batch's own spread
#     x_hat = (x - mu) / sqrt(s2 + eps)
#     y     = gamma * x_hat + beta
#
# Open `exercises/composed.py` and write `batch_norm_composed` with Tensor
# operations (`mean`, `var`, `sqrt`, `/`, `reshape`). Then:

# %%
print(composed.check())

# %% [markdown]
# ## 2. Autograd differentiates it
#
# Each operation you used recorded a node of the graph, and `backward` runs the
# nodes in reverse, each turning the gradient of its output into gradients of
# its inputs. Here is the graph of your function:

# %%
x = tg.tensor(rng.normal(1.0, 2.0, size=(8, 3)), requires_grad=True)     # float64, as NumPy drew it
gamma = tg.tensor(rng.uniform(0.5, 2.0, 3), requires_grad=True)
beta = tg.tensor(rng.uniform(-1.0, 1.0, 3), requires_grad=True)
y = composed.batch_norm_composed(x, gamma, beta)
nodes = [type(node).__name__ for node in tg.viz.recorded_ops(y.grad_fn)]
print(f"{len(nodes)} nodes:", " -> ".join(nodes))

# %% [markdown]
# A first test of a gradient: `y.sum().backward()`. Each output channel sums to
# `m * beta` whatever `x` is, so the gradient with respect to `x` is zero, for
# your code and for any code at all. A gradient check with an upstream gradient
# of ones proves nothing about `dx`:

# %%
y.sum().backward()
print("largest |dx| for dy = 1:", np.abs(x.grad.numpy()).max())

# %% [markdown]
# With a random upstream gradient `dy` it does. Nudge one element of `x` by
# `+-h` and compare the change of `sum(dy * y)` with what autograd says; this is
# what `tg.gradcheck` does for every element:

# %%
dy = rng.standard_normal(x.shape)
x.grad = gamma.grad = beta.grad = None
composed.batch_norm_composed(x, gamma, beta).backward(tg.tensor(dy))


def weighted_output(x_values):
    y = composed.batch_norm_composed(tg.tensor(x_values), gamma.detach(), beta.detach())
    return float((y.numpy() * dy).sum())


h = np.zeros(x.shape)
h[2, 0] = 1e-6
numerical = (weighted_output(x.detach().numpy() + h) - weighted_output(x.detach().numpy() - h)) / 2e-6
print(f"dx[2, 0]: autograd {x.grad.numpy()[2, 0]:.10f}, central differences {numerical:.10f}")

# %% [markdown]
# ## 3. Derive the closed form
#
# Autograd went through all those nodes. By hand, the chain rule through
# `x_hat`, `s2` and `mu` (with `dxhat_i = gamma dy_i`, `sigma = sqrt(s2 + eps)`):
#
#     ds2  = sum_i dxhat_i (x_i - mu) * (-1/2) sigma^-3
#     dmu  = -sum_i dxhat_i / sigma            (the term through s2 vanishes: sum_i (x_i - mu) = 0)
#     dx_i = dxhat_i / sigma + ds2 * 2 (x_i - mu) / m + dmu / m
#
# Substitute `x_i - mu = sigma x_hat_i`, and note that `sum_j dxhat_j = gamma dbeta`
# and `sum_j dxhat_j x_hat_j = gamma dgamma`, the two parameter gradients:
#
#     dbeta  = sum_i dy_i
#     dgamma = sum_i dy_i x_hat_i
#     dx_i   = gamma / sigma * (dy_i - dbeta / m - x_hat_i * dgamma / m)
#
# (`docs/batchnorm.md` has every step.) In NumPy, against autograd's numbers:

# %%
x_values, m = x.detach().numpy(), x.shape[0]
sigma = np.sqrt(x_values.var(axis=0) + 1e-5)
x_hat = (x_values - x_values.mean(axis=0)) / sigma
dbeta, dgamma = dy.sum(axis=0), (dy * x_hat).sum(axis=0)
dx = gamma.detach().numpy() / sigma * (dy - dbeta / m - x_hat * dgamma / m)
print("largest difference from autograd: dx", np.abs(dx - x.grad.numpy()).max(),
      " dgamma", np.abs(dgamma - gamma.grad.numpy()).max(), " dbeta", np.abs(dbeta - beta.grad.numpy()).max())
print("dx summed over each channel:", dx.sum(axis=0))

# %% [markdown]
# The last line is one of the identities the checks test: `dx` sums to zero in
# each channel (shifting a whole channel changes nothing), and it is
# orthogonal to `x_hat` (nor does scaling it, up to `eps`).
#
# ## 4. Fuse it
#
# The formula needs only `x_hat`, `1/sigma` and `gamma`, so one node can do the
# whole job: a `Function` whose `forward` computes `y` and whose `backward`
# evaluates the closed form. Open `exercises/fused.py` and write
# `BatchNorm.forward` and `BatchNorm.backward`. Then:

# %%
print(fused.check())

# %% [markdown]
# ## 5. Gradcheck
#
# The check ran `tg.gradcheck` and `tg.gradgradcheck` on drawn inputs; here is
# one call of each on the tensors above, and what a failure looks like: the
# composed version with the batch mean taken as a constant (`detach()`), a
# classic slip. Its output is right; its gradient misses the path through `mu`.

# %%
print("gradcheck:", tg.gradcheck(fused.batch_norm_fused, (x, gamma, beta)))
print("gradgradcheck:", tg.gradgradcheck(fused.batch_norm_fused, (x, gamma, beta)))


def constant_mean(x, weight, bias, eps=1e-5):
    centered = x - x.mean(axis=0, keepdims=True).detach()
    return centered / ((centered * centered).mean(axis=0, keepdims=True) + eps).sqrt() * weight + bias


try:
    tg.gradcheck(constant_mean, (x, gamma, beta))
except tg.GradcheckError as error:
    print("gradcheck of constant_mean:", error)

# %% [markdown]
# ## 6. Time both
#
# One training step of each (forward and backward, float32), in milliseconds,
# the best of a few repeats:

# %%
def training_step(batch_norm, x, weight, bias, dy):
    x.grad = weight.grad = bias.grad = None
    batch_norm(x, weight, bias).backward(dy)


print("| input shape | composed (ms) | fused (ms) | composed / fused |")
print("| --- | --- | --- | --- |")
for shape in [(64, 100), (256, 100), (1024, 100)]:
    inputs = (tg.randn(*shape, requires_grad=True), tg.ones(shape[1], requires_grad=True),
              tg.zeros(shape[1], requires_grad=True), tg.randn(*shape))
    best = {}
    for name, batch_norm in (("composed", composed.batch_norm_composed), ("fused", fused.batch_norm_fused)):
        runs = timeit.repeat(lambda: training_step(batch_norm, *inputs), number=10, repeat=3)
        best[name] = min(runs) / 10 * 1e3
    print(f"| {shape} | {best['composed']:.3f} | {best['fused']:.3f} | {best['composed'] / best['fused']:.2f} |")

# %% [markdown]
# The composed version records a node per operation and keeps each node's
# inputs alive until `backward`; the fused one records one node and, in
# backward, does the arithmetic of the closed form. `python bench/bn.py`
# compares the library's fused op with hand-written NumPy.
#
# ## 7. Running statistics
#
# At inference there is often no batch, and an example's output should not
# depend on the others in its batch anyway. So a BatchNorm layer, while
# training, also keeps running estimates of each channel's mean and variance
# and uses them in eval mode. Open `exercises/running_stats.py` and write
# `BatchNorm1d.forward` (the rules are in its docstring). Then:

# %%
print(running_stats.check())

# %% [markdown]
# With PyTorch's default `momentum=0.1`, the running mean is an exponential
# average that forgets slowly: after `k` batches from a distribution with mean
# 3 it has come `1 - 0.9^k` of the way from 0. With `momentum=None` it is the
# plain average of all the batches so far.

# %%
layers = {0.1: running_stats.BatchNorm1d(1, momentum=0.1), None: running_stats.BatchNorm1d(1, momentum=None)}
batches = [tg.tensor(rng.normal(3.0, 2.0, size=(32, 1)), dtype=tg.float32) for _ in range(30)]
for k, batch in enumerate(batches, 1):
    for layer in layers.values():
        layer(batch)
    if k in (1, 5, 10, 30):
        print(f"after {k:2d} batches: running_mean {layers[0.1].running_mean.item():.3f} (momentum 0.1), "
              f"{layers[None].running_mean.item():.3f} (momentum None);  1 - 0.9^k = {1 - 0.9 ** k:.3f}")
layers[0.1].eval()
print("eval mode takes a single example:", layers[0.1](batches[0][:1]).detach().numpy())

# %% [markdown]
# ## 8. Population statistics: Algorithm 2
#
# While a network trains, the input of each BN layer drifts, and an
# exponential average lags behind it. The paper's inference network uses,
# instead, population statistics over training batches with the final
# weights: `E[x]` is the average of the batch means and
# `Var[x] = m/(m - 1)` times the average of the biased batch variances. Open
# `exercises/population_stats.py` and write `recompute_population_stats`. Then:

# %%
print(population_stats.check())

# %% [markdown]
# A layer whose input moved, from mean 0 to mean 3, five batches ago: its
# running mean still lags, the recomputed one does not.

# %%
model = nn.Sequential(nn.BatchNorm1d(1))
moved = [tg.tensor(rng.normal(3.0, 2.0, size=(32, 1)), dtype=tg.float32) for _ in range(5)]
for batch in [tg.tensor(rng.normal(0.0, 1.0, size=(32, 1)), dtype=tg.float32) for _ in range(20)] + moved:
    model(batch)
print(f"running mean {model[0].running_mean.item():.3f}, running variance {model[0].running_var.item():.3f}")
population_stats.recompute_population_stats(model, moved)
print(f"population mean {model[0].running_mean.item():.3f}, "
      f"population variance {model[0].running_var.item():.3f} (the batches: mean 3, variance 4)")

# %% [markdown]
# ## What the checks proved
#
# Every check ran its properties on a few dozen inputs Hypothesis drew, shrank
# any failure to a small input, and compared against something independent:
# NumPy, central differences, or a law BN must obey. That is strong evidence,
# not a proof: `docs/exercises.md` says what it establishes and what it cannot,
# and `docs/batchnorm.md` and `docs/testing.md` show the same properties at
# work on the library itself.
