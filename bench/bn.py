"""BatchNorm1d forward + backward against hand-written NumPy, in the same run.

One training step of the layer alone (affine, float32, batch statistics,
running statistics updated):

    tinygrad_bn   y = bn(x); y.backward(dy)      (x requires grad; .grad reset to None each step)
    numpy         the same arithmetic written out by hand: mean, biased
                  variance, x_hat, y, the running-statistics update, and the
                  closed-form backward (dx, dgamma, dbeta)

Both are timed interleaved (A, B, A, B, ...) so machine noise hits both
alike.  glibc's malloc would otherwise hand large blocks back to the kernel
and page-fault them in again on every step, which costs more than the
arithmetic at (256, 1024) and hits whichever side happens to free last;
``keep_freed_memory`` turns that off (mallopt) for both sides.  Each figure is the median over ``--repeats`` runs of microseconds per
step, and the ratio is tinygrad_bn / numpy.  Target: ratio <= 1.2 at every
shape.  ``--profile`` prints a cProfile table of the tinygrad_bn step.

With ``--device cuda`` the "numpy" side is the same arithmetic on CuPy arrays,
and where PyTorch with CUDA imports, ``torch.nn.BatchNorm1d`` on the GPU (cuDNN)
is timed in the same rounds as a third column (goal: tinygrad_bn within 2x of it).

    python bench/bn.py [--repeats 31] [--device cpu] [--shape 4096x1024 ...] [--profile]
"""
import argparse
import cProfile
import ctypes
import os
import platform
import pstats
import statistics
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_bn as tg  # noqa: E402
from tinygrad_bn import nn  # noqa: E402

SHAPES = [(60, 100), (256, 1024), (4096, 1024)]
TARGET = 1.2
MOMENTUM, EPS = 0.1, 1e-5


def keep_freed_memory():
    """Ask glibc to keep freed memory in the process (no trimming, no mmap for
    large blocks), so neither side pays page faults for fresh memory each step."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)) and bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30))


def interleaved_cpu_times(steps, repeats, loops=1):
    """{name: [CPU seconds per call of steps[name]] * repeats}: each step called once to
    warm up, then every round times ``loops`` calls of each in turn (A, B, A, B, ...), so
    machine noise hits all alike; the process's CPU time leaves out other processes' turns."""
    for step in steps.values():
        step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.process_time()
            for _ in range(loops):
                step()
            times[name].append((time.process_time() - start) / loops)
    return times


def numpy_step(x, gamma, beta, dy, running_mean, running_var, xp=np):
    """Hand-written BatchNorm training step: forward, running update, closed-form backward."""
    m = x.shape[0]
    mean = x.mean(axis=0)
    centered = x - mean
    var = (centered * centered).mean(axis=0)
    inv_sigma = 1 / xp.sqrt(var + EPS)
    x_hat = centered * inv_sigma
    y = gamma * x_hat + beta
    running_mean *= 1 - MOMENTUM
    running_mean += MOMENTUM * mean
    running_var *= 1 - MOMENTUM
    running_var += (MOMENTUM * m / (m - 1)) * var
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dx = (gamma * inv_sigma / m) * (m * dy - dbeta - x_hat * dgamma)
    return y, dx, dgamma, dbeta


def setup(shape, device):
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal(shape).astype(np.float32) * 2 + 1
    dy_host = rng.standard_normal(shape).astype(np.float32)
    bn = nn.BatchNorm1d(shape[1]).to(device)
    x = tg.tensor(x_host, device=device, requires_grad=True)
    dy = tg.tensor(dy_host, device=device)
    xp = x.xp

    weight, bias = bn.weight, bn.bias

    def framework_step():
        weight.grad = bias.grad = x.grad = None      # fresh gradients, as after zero_grad()
        bn(x).backward(dy)

    gamma, beta = xp.ones(shape[1], np.float32), xp.zeros(shape[1], np.float32)
    running_mean, running_var = xp.zeros(shape[1], np.float32), xp.ones(shape[1], np.float32)

    def numpy_step_here():
        numpy_step(x._data, gamma, beta, dy._data, running_mean, running_var, xp)

    synchronize = (lambda: xp.cuda.Device().synchronize()) if device == "cuda" else (lambda: None)
    return framework_step, numpy_step_here, synchronize


def torch_cuda_step(shape):
    """torch.nn.BatchNorm1d forward + backward on the GPU, or None without torch or CUDA."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal(shape).astype(np.float32) * 2 + 1, device="cuda", requires_grad=True)
    dy = torch.tensor(rng.standard_normal(shape).astype(np.float32), device="cuda")
    bn = torch.nn.BatchNorm1d(shape[1]).cuda()

    def step():
        x.grad = bn.weight.grad = bn.bias.grad = None
        bn(x).backward(dy)
    return step, torch.cuda.synchronize


def measure(shape, device, repeats):
    framework_step, numpy_step_here, synchronize = setup(shape, device)
    sides = [("tinygrad_bn", framework_step, synchronize), ("numpy", numpy_step_here, synchronize)]
    torch_side = torch_cuda_step(shape) if device == "cuda" else None
    if torch_side is not None:
        sides.append(("torch", *torch_side))
    loops = max(1, int(2e6 // (shape[0] * shape[1])))       # ~ a few ms per timing
    times = {name: [] for name, _, _ in sides}
    for _, fn, _ in sides:                                  # warm up
        fn()
    for _ in range(repeats):
        for name, fn, synchronize in sides:
            def run():
                for _ in range(loops):
                    fn()
                synchronize()
            times[name].append(timeit.timeit(run, number=1) / loops * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shape", action="append", default=None, help="NxC, e.g. 4096x1024 (repeatable)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    shapes = SHAPES if args.shape is None else [tuple(int(n) for n in s.split("x")) for s in args.shape]
    malloc = "malloc keeps freed memory" if keep_freed_memory() else "malloc defaults (not glibc)"
    print(f"BatchNorm1d forward+backward, float32, training, affine; device {args.device}; "
          f"numpy {np.__version__}, python {platform.python_version()}; median of {args.repeats}; {malloc}")
    print(f"{'shape':>14} {'tinygrad_bn us':>15} {'numpy us':>10} {'ratio':>7}  target <= {TARGET}")
    worst = 0.0
    for shape in shapes:
        medians = measure(shape, args.device, args.repeats)
        ratio = medians["tinygrad_bn"] / medians["numpy"]
        worst = max(worst, ratio)
        against_torch = (f"  torch {medians['torch']:.1f} us, tinygrad_bn / torch {medians['tinygrad_bn'] / medians['torch']:.2f}"
                         if "torch" in medians else "")
        print(f"{str(shape):>14} {medians['tinygrad_bn']:15.1f} {medians['numpy']:10.1f} {ratio:7.3f}  "
              f"{'ok' if ratio <= TARGET else 'OVER TARGET'}{against_torch}")
    print(f"worst ratio {worst:.3f} ({'meets' if worst <= TARGET else 'misses'} the target {TARGET})")
    if args.profile:
        framework_step, _, _ = setup(shapes[0], args.device)
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [framework_step() for _ in range(2000)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
