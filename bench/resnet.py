"""One training step of the CIFAR ResNets (tinygrad_bn.models): forward + backward, and against PyTorch.

A step is loss = cross_entropy(model(x), labels); loss.backward() in training
mode (BatchNorm2d after every convolution, option A shortcuts, He
initialisation), float32, x of shape (batch, 3, 32, 32), the gradients of every
parameter filled.  The defaults are what the conv demos need to budget for:
ResNet-20 on a batch of 64 images and ResNet-110 on a batch of 128.

    tinygrad_bn   the step above
    torch         the same network written in torch (tests/torch_resnet.py) with the
                  same weights, torch.set_num_threads(1) (skipped without torch)

One BLAS thread (OPENBLAS_NUM_THREADS=1 etc., set before NumPy loads unless the
environment sets them); CPU time of the process, so the time the scheduler
gives to other processes on a shared machine is not counted; the two sides
interleaved, median over ``--repeats`` rounds, after one warm-up step each.
The peak resident memory is the process's after the configuration (it only
grows, so the largest configuration's is the one to read).

    python bench/resnet.py [--repeats 3] [--config DEPTH,BATCH ...]
"""
import argparse
import os
import platform
import resource
import statistics
import sys

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import tinygrad_bn as tg  # noqa: E402
import tinygrad_bn.functional as F  # noqa: E402
from tinygrad_bn import models  # noqa: E402
from bn import interleaved_cpu_times, keep_freed_memory  # noqa: E402  (bench/bn.py)

try:
    import torch
    from torch_resnet import copy_of
except ImportError:
    torch = None

CONFIGS = [(20, 64), (110, 128)]


def setup(depth, batch):
    """The steps to time, each a function of no arguments."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    model = models.ResNet(depth)
    x, target = tg.tensor(images), tg.tensor(labels)

    def framework_step():
        model.zero_grad()
        F.cross_entropy(model(x), target).backward()

    steps = {"tinygrad_bn": framework_step}
    if torch is not None:
        twin = copy_of(model)
        xt, target_t = torch.from_numpy(images), torch.from_numpy(labels)

        def torch_step():
            twin.zero_grad()
            torch.nn.functional.cross_entropy(twin(xt), target_t).backward()
        steps["torch"] = torch_step
    return steps


def measure(depth, batch, repeats):
    return interleaved_cpu_times(setup(depth, batch), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--config", action="append", metavar="DEPTH,BATCH",
                        help="a ResNet depth (6n + 2) and batch size to measure instead of the defaults (repeatable)")
    args = parser.parse_args()
    configs = [tuple(int(v) for v in c.split(",")) for c in args.config] if args.config else CONFIGS
    if torch is not None:
        torch.set_num_threads(1)
    malloc = "malloc keeps freed memory" if keep_freed_memory() else "malloc defaults (not glibc)"
    versions = f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else ", no torch")
    print(f"ResNet training step (forward + backward), float32, 3x32x32 images, cpu; {versions}, python "
          f"{platform.python_version()}; median of {args.repeats} rounds; {malloc}; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"{'depth, batch':>14} {'tinygrad_bn s':>14} {'per image ms':>13}"
          + (f" {'torch s':>9} {'ratio':>7}" if torch is not None else "") + f" {'peak RSS GiB':>13}")
    for depth, batch in configs:
        times = measure(depth, batch, args.repeats)
        ours = statistics.median(times["tinygrad_bn"])
        line = f"{str((depth, batch)):>14} {ours:14.2f} {ours / batch * 1e3:13.1f}"
        if torch is not None:
            ratios = [a / b for a, b in zip(times["tinygrad_bn"], times["torch"])]
            line += f" {statistics.median(times['torch']):9.2f} {statistics.median(ratios):7.2f}"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20       # KiB on Linux
        print(line + f" {peak:13.2f}")


if __name__ == "__main__":
    main()
