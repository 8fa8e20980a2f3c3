"""F.conv2d forward + backward against PyTorch and against plain NumPy, in the same run.

One training step of a convolution alone (float32, bias, stride 1 unless
--shape says otherwise): y = conv2d(x, w, b); y.backward(dy), filling the
gradients of x, w and b.

    tinygrad_bn   F.conv2d(x, w, b, stride, padding).backward(dy)
    torch         the same with torch.nn.functional.conv2d, torch.set_num_threads(1)
                  (skipped when torch is not installed)
    numpy         a plain reference: einsum over the windows of x for y and dL/dw,
                  and over the windows of the padded, stride-dilated dy with the
                  flipped kernel for dL/dx
    products      the three matrix products of tinygrad_bn's formulation alone, on
                  arrays of their shapes (no im2col, no copies): the floor that
                  NumPy's BLAS sets for any im2col convolution

All sides use one BLAS thread (OPENBLAS_NUM_THREADS=1 etc. are set before NumPy
loads, unless the environment sets them) and are timed interleaved (A, B, C,
A, B, C, ...) so machine noise hits them alike; freed memory stays in the
process for all of them (see bench/bn.py).  Times are the process's CPU time,
so the time the scheduler gives to other processes on a shared machine is not
counted.  Each figure is the median over ``--repeats`` rounds of milliseconds
per step; a ratio is the median over the rounds of tinygrad_bn's time over the
baseline's, with its quartiles.  Target: tinygrad_bn / torch <= 2 at every
shape.  ``--profile`` prints a cProfile table of the tinygrad_bn step.

    python bench/conv.py [--repeats 21] [--shape N,C,C_OUT,H,W,K,PAD[,STRIDE]] [--profile]
"""
import argparse
import cProfile
import os
import platform
import pstats
import statistics
import sys

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_bn as tg  # noqa: E402
import tinygrad_bn.functional as F  # noqa: E402
from bn import interleaved_cpu_times, keep_freed_memory  # noqa: E402  (bench/bn.py)

try:
    import torch
except ImportError:
    torch = None

# (N, C, C_out, H, W, kernel, padding, stride): a CIFAR ResNet layer at the first and the last stage
SHAPES = [(64, 16, 16, 32, 32, 3, 1, 1), (128, 64, 64, 8, 8, 3, 1, 1)]
TARGET = 2.0


def numpy_step(x, w, b, dy, padding, stride):
    """The reference step: (y, dx, dw, db) from einsums over windows, no im2col of our own."""
    k = w.shape[2]
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(x_pad, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]   # (N, C, Ho, Wo, k, k)
    y = np.einsum("nchwij,ocij->nohw", windows, w, optimize=True) + b.reshape(1, -1, 1, 1)
    dw = np.einsum("nohw,nchwij->ocij", dy, windows, optimize=True)
    db = dy.sum(axis=(0, 2, 3))
    n, c_out, h_out, w_out = dy.shape
    dilated = np.zeros((n, c_out, (h_out - 1) * stride + 1, (w_out - 1) * stride + 1), dy.dtype)
    dilated[:, :, ::stride, ::stride] = dy
    dilated = np.pad(dilated, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
    full = np.einsum("nohwij,ocij->nchw", sliding_window_view(dilated, (k, k), axis=(2, 3)),
                     w[:, :, ::-1, ::-1], optimize=True)
    dx_pad = np.zeros_like(x_pad)
    dx_pad[:, :, :full.shape[2], :full.shape[3]] = full
    dx = dx_pad[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
    return y, dx, dw, db


def products_step_fn(n, c, c_out, h, w, k, stride, h_out, w_out):
    """The three products of one step: y = W cols, dL/dw = dy cols^T, and dL/dx: with
    stride 1 the flipped kernel times the columns of dy, else W^T dy per window."""
    rng = np.random.default_rng(1)

    def draw(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    weight, cols, dy = draw(c_out, c * k * k), draw(c * k * k, h_out * w_out * n), draw(c_out, h_out * w_out * n)
    if stride == 1:
        flipped, dy_cols = draw(c, c_out * k * k), draw(c_out * k * k, h * w * n)

        def input_product():
            return flipped @ dy_cols
    else:
        def input_product():
            return weight.T @ dy

    def step():
        weight @ cols
        dy @ cols.T
        input_product()
    return step


def setup(shape):
    n, c, c_out, h, w, k, padding, stride = shape
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal((n, c, h, w)).astype(np.float32)
    w_host = (rng.standard_normal((c_out, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    b_host = rng.standard_normal(c_out).astype(np.float32)
    h_out, w_out = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    dy_host = rng.standard_normal((n, c_out, h_out, w_out)).astype(np.float32)

    x, weight, bias = (tg.tensor(a, requires_grad=True) for a in (x_host, w_host, b_host))
    dy = tg.tensor(dy_host)

    def framework_step():
        x.grad = weight.grad = bias.grad = None
        F.conv2d(x, weight, bias, stride=stride, padding=padding).backward(dy)

    def numpy_step_here():
        numpy_step(x_host, w_host, b_host, dy_host, padding, stride)

    steps = {"tinygrad_bn": framework_step, "numpy": numpy_step_here,
             "products": products_step_fn(n, c, c_out, h, w, k, stride, h_out, w_out)}
    if torch is not None:
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x_host, w_host, b_host))
        dyt = torch.tensor(dy_host)

        def torch_step():
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(dyt)
        steps["torch"] = torch_step

    framework_step()                      # the reference computes the same thing
    for ours, reference in zip((x.grad, weight.grad, bias.grad),
                               numpy_step(x_host, w_host, b_host, dy_host, padding, stride)[1:]):
        np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-3, atol=1e-3)
    return steps


def measure(shape, repeats):
    steps = setup(shape)
    work = shape[0] * shape[1] * shape[2] * shape[3] * shape[4] * shape[5] ** 2
    loops = max(1, int(3e8 // work))                          # ~ 50 ms of work per timing
    return {name: [1e3 * t for t in seconds]                  # milliseconds
            for name, seconds in interleaved_cpu_times(steps, repeats, loops).items()}


def ratio_to(times, baseline):
    """The median and quartiles of tinygrad_bn / baseline over the rounds (each round
    measured both sides back to back)."""
    ratios = [a / b for a, b in zip(times["tinygrad_bn"], times[baseline])]
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    return median, q1, q3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--shape", action="append", metavar="N,C,C_OUT,H,W,K,PAD[,STRIDE]",
                        help="a shape to measure instead of the defaults (repeatable)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.repeats < 2:
        parser.error("--repeats must be at least 2 (the ratios come with quartiles)")
    shapes = SHAPES
    if args.shape:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shape]
        shapes = [s + (1,) if len(s) == 7 else s for s in shapes]
        if any(len(s) != 8 for s in shapes):
            parser.error("--shape takes N,C,C_OUT,H,W,K,PAD or N,C,C_OUT,H,W,K,PAD,STRIDE")
    if torch is not None:
        torch.set_num_threads(1)
    malloc = "malloc keeps freed memory" if keep_freed_memory() else "malloc defaults (not glibc)"
    versions = f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else ", no torch")
    print(f"conv2d forward+backward (x, w, b), float32, cpu; {versions}, python {platform.python_version()}; "
          f"median of {args.repeats} rounds; {malloc}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    baselines = ["torch", "numpy", "products"] if torch is not None else ["numpy", "products"]
    print(f"{'N, C, C_out, H, W, k, pad, stride':>34} {'tinygrad_bn ms':>15}"
          + "".join(f" {name + ' ms':>12} {'ratio (quartiles)':>19}" for name in baselines))
    worst = 0.0
    for shape in shapes:
        times = measure(shape, args.repeats)
        line = f"{str(shape):>34} {statistics.median(times['tinygrad_bn']):15.2f}"
        for name in baselines:
            ratio, q1, q3 = ratio_to(times, name)
            line += f" {statistics.median(times[name]):12.2f} {ratio:7.2f} ({q1:.2f}-{q3:.2f})"
            if name == "torch":
                worst = max(worst, ratio)
        print(line)
    if torch is not None:
        print(f"worst ratio to torch {worst:.2f} ({'meets' if worst <= TARGET else 'misses'} the target {TARGET})")
    if args.profile:
        step = setup(shapes[0])["tinygrad_bn"]
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [step() for _ in range(20)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
