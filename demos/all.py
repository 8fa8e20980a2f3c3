"""Run every demo, and regenerate the figures of the docs with one command.

    python -m demos.all              # every demo in its default (full) mode, outputs under runs/
    python -m demos.all --quick      # every demo's quick mode: a smoke test of the lot
    python -m demos.all --docs       # full runs, then each figure copied into docs/figures/

Figure 1 runs four times (digits and, where the MNIST test files are found,
the 8,000/2,000 split of the MNIST test set, each at lr 0.5 and at lr 0.01
with init std 0.05), plus the paper's own setting when the MNIST training
files are there too.  The numbers in docs/demos.md and docs/reproduction.md
come from ``--docs`` runs.
"""
import argparse
import importlib
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_bn import data         # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
DEMOS = ["input_normalization", "weight_init", "learning_speed", "lr_stress_test", "gradient_histograms",
         "constant_collapse", "landscape_smoothness"]
FIGURE1 = [("digits", "0.5", "0.1"), ("digits", "0.01", "0.05"),
           ("mnist-t10k", "0.5", "0.1"), ("mnist-t10k", "0.01", "0.05")]


def runs(mnist_root):
    """(demo module, output name, extra flags) for every run."""
    plan = []
    has_test_files = data.mnist_available(mnist_root, train=False)
    for dataset, lr, std in FIGURE1:
        if dataset == "mnist-t10k" and not has_test_files:
            print(f"skipping Figure 1 on {dataset}: no MNIST test files found (set --mnist-root)")
            continue
        flags = ["--dataset", dataset, "--lr", lr, "--init-std", std]
        if mnist_root is not None:
            flags += ["--data-root", str(mnist_root)]
        plan.append(("ioffe_fig1", f"ioffe_fig1_{dataset}_lr{lr}", flags))
    if has_test_files and data.mnist_available(mnist_root, train=True):
        plan.append(("ioffe_fig1", "ioffe_fig1_mnist_lr0.5", ["--dataset", "mnist", "--data-root", str(mnist_root)]))
    plan += [(name, name, []) for name in DEMOS]
    return plan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick modes only")
    parser.add_argument("--docs", action="store_true", help="copy every figure into docs/figures/")
    parser.add_argument("--out", default="runs", help="folder for the runs' outputs")
    parser.add_argument("--mnist-root", default=str(SHARED_MNIST) if SHARED_MNIST.exists() else None,
                        help="where the MNIST files are (default: ../shared/data/mnist when it exists)")
    args = parser.parse_args(argv)
    if args.docs and args.quick:
        parser.error("--docs needs the full runs: drop --quick")
    summary = []
    for module_name, name, flags in runs(args.mnist_root):
        out = Path(args.out) / name
        print(f"=== {name} {' '.join(flags)}", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"demos.{module_name}")
        module.main([*flags, "--out", str(out), "--no-progress", *(["--quick"] if args.quick else [])])
        summary.append((name, time.perf_counter() - started))
        if args.docs:
            shutil.copyfile(out / f"{module_name}.png", ROOT / "docs" / "figures" / f"{name}.png")
    print("\n".join(f"{name:<36} {seconds:7.1f} s" for name, seconds in summary))
    return summary


if __name__ == "__main__":
    main()
