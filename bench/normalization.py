"""What each normalization costs: one training step (forward and backward, float32,
affine) of each layer at a conv-net shape and a fully connected one, timed
interleaved (A, B, C, ... A, B, C, ...) in the same run, so machine noise hits
all alike, with glibc keeping freed memory as in bench/bn.py (otherwise page
faults on the large temporaries cost more than the arithmetic).  The clock is
the thread's CPU time, which does not count the time the process waits for a
core on a busy machine.  Each figure is the median over ``--repeats`` of
microseconds per step, and the ratio is to
BatchNorm at the same shape (BatchNorm1d on the (N, C, H W) view for the conv
shape).  No target: the numbers are docs/normalization.md's "what each costs".

    python bench/normalization.py [--repeats 21] [--device cpu]
"""
import argparse
import os
import platform
import statistics
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_bn as tg  # noqa: E402
from tinygrad_bn import nn  # noqa: E402
from bn import keep_freed_memory  # noqa: E402  (bench/bn.py, next to this file)

SHAPES = [(32, 64, 16, 16), (256, 1024)]


class FlatBatchNorm(nn.Module):
    """BatchNorm1d on (N, C, H W): BatchNorm of (N, C, H, W) input (two free reshapes)."""

    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm1d(channels)

    def forward(self, x):
        return self.bn(x.reshape(x.shape[0], x.shape[1], -1)).reshape(x.shape)


def layers(shape):
    """The family at ``shape``: (name, layer), BatchNorm first."""
    channels, conv = shape[1], len(shape) == 4
    renorm = nn.BatchRenorm2d if conv else nn.BatchRenorm1d
    ghost = nn.GhostBatchNorm2d if conv else nn.GhostBatchNorm1d
    family = [("BatchNorm", FlatBatchNorm(channels) if conv else nn.BatchNorm1d(channels)),
              ("BatchRenorm", renorm(channels)),
              ("ghost, 4 batches", ghost(channels, shape[0] // 4)),
              ("LayerNorm", nn.LayerNorm(shape[1:])),
              ("GroupNorm, 32", nn.GroupNorm(32, channels))]
    if conv:
        family.append(("InstanceNorm", nn.InstanceNorm2d(channels, affine=True)))
    return family


def step_of(layer, x, dy):
    params = list(layer.parameters())

    def step():
        for p in params:
            p.grad = None
        x.grad = None
        layer(x).backward(dy)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    malloc = "malloc keeps freed memory" if keep_freed_memory() else "malloc defaults (not glibc)"
    print(f"forward+backward, float32, training, affine; device {args.device}; numpy {np.__version__}, "
          f"python {platform.python_version()}; median of {args.repeats}; {malloc}")
    for shape in SHAPES:
        rng = np.random.default_rng(0)
        x = tg.tensor(rng.standard_normal(shape).astype(np.float32) * 2 + 1, device=args.device, requires_grad=True)
        dy = tg.tensor(rng.standard_normal(shape).astype(np.float32), device=args.device)
        steps = [(name, step_of(layer.to(args.device), x, dy)) for name, layer in layers(shape)]
        synchronize = (lambda: x.xp.cuda.Device().synchronize()) if args.device == "cuda" else (lambda: None)
        loops = max(1, int(2e6 // x.numel()))
        times = {name: [] for name, _ in steps}
        for _, step in steps:           # warm up
            step()
        for _ in range(args.repeats):
            for name, step in steps:
                def run():
                    for _ in range(loops):
                        step()
                    synchronize()
                times[name].append(timeit.timeit(run, number=1, timer=time.thread_time) / loops * 1e6)
        medians = {name: statistics.median(t) for name, t in times.items()}
        print(f"\n{str(shape):>18} {'us per step':>12} {'/ BatchNorm':>12}")
        for name, us in medians.items():
            print(f"{name:>18} {us:12.1f} {us / medians['BatchNorm']:12.2f}")


if __name__ == "__main__":
    main()
