"""One SGD training step of the paper's MNIST network, against hand-written NumPy.

The network of Ioffe & Szegedy's Figure 1: 784-100-100-100-10, sigmoid hidden
units, softmax cross-entropy, batch 60, float32, plain SGD (lr 0.1).  With
``--bn``, each hidden Linear (without bias) is followed by BatchNorm1d before
its sigmoid.

    tinygrad_bn   opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
    numpy         the same network written out: forward, the analytic backward
                  (no autograd; no gradient for the input), the SGD update

Both run with ``--threads`` BLAS threads (default 1) and are timed
interleaved (A, B, A, B, ...) so machine noise hits both alike; each figure is
the median over ``--repeats`` timings of microseconds per step (``--loops``
steps each).  Target: tinygrad_bn / numpy <= 1.25 in both variants.  Then
``--memory-steps`` more steps of tinygrad_bn print the peak resident memory at
step 1000 and at the end: equal figures mean no graph or buffer leaks.

``--python-only`` runs all of it on a 4-4-4-4-3 network and batches of 2,
where the arithmetic costs next to nothing: the difference between the two
steps is then the framework's own Python per step (docs/backends.md, "The
framework's own cost").

``--busy`` then times the tinygrad_bn step on the machine as it is ("idle") and
with one competing CPU-bound process running (bench/busy.py, started and
stopped for each round), with the BLAS library's own thread count (one per
core, unless the environment sets it) and with one thread.  Each round times
every (load, threads) pair once, the order alternating from round to round;
times are medians over ``--repeats`` rounds, and busy / idle is the median of
the rounds' ratios, with quartiles and the load average (what else ran).
Target: busy <= 1.5 x idle.  ``--profile`` prints a cProfile table of the
tinygrad_bn step.

    python bench/train_step.py [--bn] [--repeats 31] [--loops 200] [--threads 1] [--memory-steps 10000]
                               [--busy] [--profile] [--python-only]
"""
import argparse
import cProfile
import os
import platform
import pstats
import resource
import statistics
import sys
import timeit
from contextlib import nullcontext

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_bn as tg  # noqa: E402
import tinygrad_bn.functional as F  # noqa: E402
from tinygrad_bn import nn, optim  # noqa: E402
from bn import keep_freed_memory  # noqa: E402  (bench/bn.py)
from busy import competing_process, load_average  # noqa: E402  (bench/busy.py)

SIZES = [784, 100, 100, 100, 10]
BATCH, LR, EPS, MOMENTUM = 60, 0.1, 1e-5, 0.1
TARGET = 1.25
BUSY_TARGET = 1.5
BLAS_DEFAULT_THREADS = tg.get_num_threads()     # read before anything changes it


def build_model(use_bn):
    layers = []
    for n_in, n_out in zip(SIZES[:-2], SIZES[1:-1]):
        layers.append(nn.Linear(n_in, n_out, bias=not use_bn))
        if use_bn:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.Sigmoid())
    layers.append(nn.Linear(SIZES[-2], SIZES[-1]))
    return nn.Sequential(*layers)


def make_batches(count=8):
    rng = np.random.default_rng(0)
    return [(rng.random((BATCH, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], BATCH))
            for _ in range(count)]


def framework_step_fn(use_bn, batches):
    tg.manual_seed(0)
    model = build_model(use_bn)
    opt = optim.SGD(model.parameters(), lr=LR)
    data = [(tg.tensor(x), tg.tensor(y)) for x, y in batches]
    counter = [0]

    def step():
        x, y = data[counter[0] % len(data)]
        counter[0] += 1
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


class NumpyNet:
    """The same network by hand: weights (out, in) as nn.Linear, BN with batch statistics."""

    def __init__(self, use_bn, seed=0):
        rng = np.random.default_rng(seed)
        self.use_bn = use_bn
        self.weights, self.biases, self.gammas, self.betas, self.running = [], [], [], [], []
        for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
            bound = 1 / np.sqrt(n_in)
            self.weights.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
            hidden = i < len(SIZES) - 2
            self.biases.append(None if use_bn and hidden else
                               rng.uniform(-bound, bound, n_out).astype(np.float32))
            if use_bn and hidden:
                self.gammas.append(np.ones(n_out, np.float32))
                self.betas.append(np.zeros(n_out, np.float32))
                self.running.append((np.zeros(n_out, np.float32), np.ones(n_out, np.float32)))

    def step(self, x, labels):
        n = x.shape[0]
        activations, caches = [x], []
        h = x
        for i, w in enumerate(self.weights):                       # forward
            z = h @ w.T
            if self.biases[i] is not None:
                z += self.biases[i]
            if i == len(self.weights) - 1:
                break
            if self.use_bn:
                mean = z.mean(axis=0)
                centered = z - mean
                var = (centered * centered).mean(axis=0)
                inv_sigma = 1 / np.sqrt(var + EPS)
                x_hat = centered * inv_sigma
                z = self.gammas[i] * x_hat + self.betas[i]
                running_mean, running_var = self.running[i]
                running_mean *= 1 - MOMENTUM
                running_mean += MOMENTUM * mean
                running_var *= 1 - MOMENTUM
                running_var += (MOMENTUM * n / (n - 1)) * var
                caches.append((x_hat, inv_sigma))
            h = 1 / (1 + np.exp(-z))
            activations.append(h)
        shifted = z - z.max(axis=1, keepdims=True)                   # softmax cross-entropy
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = (np.log(total[:, 0]) - shifted[np.arange(n), labels]).mean()
        dz = e / total
        dz[np.arange(n), labels] -= 1
        dz /= n
        for i in range(len(self.weights) - 1, -1, -1):              # backward + update
            h = activations[i]
            dw = dz.T @ h
            if i > 0:
                dh = dz @ self.weights[i]
            if self.biases[i] is not None:
                self.biases[i] -= LR * dz.sum(axis=0)
            self.weights[i] -= LR * dw
            if i == 0:
                break
            dz = dh * h * (1 - h)                                    # through the sigmoid
            if self.use_bn:
                x_hat, inv_sigma = caches[i - 1]
                gamma = self.gammas[i - 1]
                dbeta = dz.sum(axis=0)
                dgamma = (dz * x_hat).sum(axis=0)
                dz = (gamma * inv_sigma / n) * (n * dz - dbeta - x_hat * dgamma)
                self.gammas[i - 1] -= LR * dgamma
                self.betas[i - 1] -= LR * dbeta
        return loss


def numpy_step_fn(use_bn, batches):
    net = NumpyNet(use_bn)
    counter = [0]

    def step():
        x, y = batches[counter[0] % len(batches)]
        counter[0] += 1
        return net.step(x, y)
    return step


def measure(use_bn, repeats, loops):
    batches = make_batches()
    steps = {"tinygrad_bn": framework_step_fn(use_bn, batches), "numpy": numpy_step_fn(use_bn, batches)}
    for step in steps.values():                 # warm up
        for _ in range(20):
            step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(timeit.timeit(step, number=loops) / loops * 1e6)
    return times


def measure_busy(use_bn, repeats, loops):
    """Microseconds per step, one figure a round, for each (load, threads)."""
    previous = tg.get_num_threads()
    step = framework_step_fn(use_bn, make_batches())
    for _ in range(20):                         # warm up
        step()
    thread_counts = sorted({BLAS_DEFAULT_THREADS, 1}, reverse=True)
    times = {(load, threads): [] for load in ("idle", "busy") for threads in thread_counts}
    for round_index in range(repeats):
        order = 1 if round_index % 2 == 0 else -1
        for load in ("idle", "busy")[::order]:
            with competing_process() if load == "busy" else nullcontext():
                for threads in thread_counts[::order]:
                    tg.set_num_threads(threads)
                    step()                      # untimed: the pool settles at its new size
                    times[load, threads].append(timeit.timeit(step, number=loops) / loops * 1e6)
    tg.set_num_threads(previous)
    return times


def report_busy(use_bn, repeats, loops):
    """Print, per thread count, idle and busy medians and the median over rounds of busy / idle
    (both measured in the same round, so slower drifts of the machine's load cancel)."""
    print(f"--busy: idle, then with one competing CPU-bound process; {os.cpu_count()} CPUs, BLAS default "
          f"{BLAS_DEFAULT_THREADS} thread(s); median of {repeats} rounds x {loops} steps; {load_average()} before")
    times = measure_busy(use_bn, repeats, loops)
    print(f"{'threads':>12} {'idle us/step':>13} {'busy us/step':>13} {'busy/idle (quartiles)':>22}  "
          f"target <= {BUSY_TARGET}")
    for threads in sorted({threads for _, threads in times}, reverse=True):
        idle, busy = times["idle", threads], times["busy", threads]
        q1, ratio, q3 = statistics.quantiles([b / a for a, b in zip(idle, busy)], n=4)
        name = f"{threads}" + (" (default)" if threads == BLAS_DEFAULT_THREADS else "")
        print(f"{name:>12} {statistics.median(idle):13.1f} {statistics.median(busy):13.1f} "
              f"{ratio:9.2f} ({q1:.2f}-{q3:.2f})  {'meets' if ratio <= BUSY_TARGET else 'misses'}")
    if BLAS_DEFAULT_THREADS != 1:
        speedup = {load: statistics.median(times[load, BLAS_DEFAULT_THREADS]) / statistics.median(times[load, 1])
                   for load in ("idle", "busy")}
        print(f"one thread is {speedup['idle']:.2f}x as fast as the default idle, {speedup['busy']:.2f}x busy")
    print(f"{load_average()} after")


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # KiB on Linux


def memory(use_bn, total_steps):
    step = framework_step_fn(use_bn, make_batches())
    at_1000 = None
    for i in range(1, total_steps + 1):
        step()
        if i == 1000:
            at_1000 = peak_rss_mib()
    return at_1000, peak_rss_mib()


def main():
    global BATCH
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bn", action="store_true", help="BatchNorm1d after each hidden Linear")
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for the comparison with numpy")
    parser.add_argument("--memory-steps", type=int, default=10000)
    parser.add_argument("--busy", action="store_true", help="the step idle and with a competing process")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--python-only", action="store_true",
                        help="the same step on a 4-4-4-4-3 network and batches of 2, where the arithmetic is "
                             "negligible: the difference is the framework's own Python per step")
    args = parser.parse_args()
    if args.python_only:
        SIZES[:], BATCH = [4, 4, 4, 4, 3], 2
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.busy and args.repeats < 2:
        parser.error("--busy needs --repeats of at least 2 (its ratios come with quartiles)")
    tg.set_num_threads(args.threads)
    if args.bn and not hasattr(nn, "BatchNorm1d"):
        sys.exit("--bn needs nn.BatchNorm1d, which this checkout does not have yet")
    variant = "with BatchNorm1d" if args.bn else "plain"
    malloc = "malloc keeps freed memory" if keep_freed_memory() else "malloc defaults (not glibc)"
    print(f"SGD training step, MNIST net {'-'.join(map(str, SIZES))} sigmoid, {variant}, batch {BATCH}, "
          f"float32, cpu; numpy {np.__version__}, python {platform.python_version()}; "
          f"median of {args.repeats} x {args.loops} steps; {malloc}; {args.threads} BLAS thread(s); "
          f"{load_average()}")
    times = measure(args.bn, args.repeats, args.loops)
    medians = {name: statistics.median(t) for name, t in times.items()}
    ratio = medians["tinygrad_bn"] / medians["numpy"]
    spread = ""
    if args.repeats >= 2:                       # the rounds' own ratios (both timed in the same round)
        q1, _, q3 = statistics.quantiles([a / b for a, b in zip(times["tinygrad_bn"], times["numpy"])], n=4)
        spread = f", rounds' quartiles {q1:.3f}-{q3:.3f}"
    print(f"tinygrad_bn {medians['tinygrad_bn']:8.1f} us/step")
    print(f"numpy       {medians['numpy']:8.1f} us/step")
    print(f"ratio       {ratio:8.3f}  ({'meets' if ratio <= TARGET else 'misses'} the target <= {TARGET}{spread})")
    print(f"difference  {medians['tinygrad_bn'] - medians['numpy']:8.1f} us/step")
    if args.memory_steps >= 1000:
        at_1000, at_end = memory(args.bn, args.memory_steps)
        print(f"peak RSS    {at_1000:8.1f} MiB after step 1000, {at_end:.1f} MiB after step {args.memory_steps} "
              f"({'flat' if at_end - at_1000 < 1 else 'GROWING'})")
    if args.busy:
        report_busy(args.bn, args.repeats, args.loops)
    if args.profile:
        step = framework_step_fn(args.bn, make_batches())
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [step() for _ in range(2000)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
