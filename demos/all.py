"""Run every demo, check the documented claims, and regenerate the figures of the docs.

    python -m demos.all                  # every demo in its default (full) mode, outputs under runs/
    python -m demos.all --quick          # every demo's quick mode: a smoke test of the lot
    python -m demos.all --check          # quick modes, failing if a documented quick-run claim no longer holds
    python -m demos.all --seeds 0 1 2    # each run once per seed; median and range of the headline numbers
    python -m demos.all --docs           # full runs, then each figure copied into docs/figures/
    python -m demos.all --threads 2      # every demo with 2 BLAS threads (default 1: docs/backends.md, CPU threads)
    python -m demos.all --check --device cuda    # the same claims with every demo on the GPU

Figure 1 runs four times (digits and, where the MNIST test files are found,
the 8,000/2,000 split of the MNIST test set, each at lr 0.5 and at lr 0.01
with init std 0.05), plus the paper's own setting when the MNIST training
files are there too.  Small batches runs with the MLP (its default) and
``--arch resnet`` on digits, and with the MLP on mnist-t10k where those files
are.  MNIST is looked for where every demo looks: under ``--data-root``, else
``$TINYGRAD_BN_DATA``, else the user cache.
The numbers in docs/demos.md and docs/reproduction.md come from ``--seeds``
runs; their quick-run claims are the ones ``--check`` asserts.
"""
import argparse
import importlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_bn import data         # noqa: E402
from demos.common import DEFAULT_THREADS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMOS = ["input_normalization", "weight_init", "learning_speed", "lr_stress_test", "gradient_histograms",
         "constant_collapse", "landscape_smoothness", "small_batch", "train_eval_gap"]
READS_DIGITS_OR_MNIST = {"ioffe_fig1", "learning_speed", "lr_stress_test", "landscape_smoothness",
                         "gradient_histograms", "small_batch"}
# demo -> (output name, flags) of its other architecture, run and checked beside the default one
OTHER_ARCHITECTURE = {"gradient_histograms": ("gradient_histograms_fc", ["--arch", "fc"]),
                      "lr_stress_test": ("lr_stress_test_resnet", ["--arch", "resnet"])}
FIGURE1 = [("digits", "0.5", "0.1"), ("digits", "0.01", "0.05"),
           ("mnist-t10k", "0.5", "0.1"), ("mnist-t10k", "0.01", "0.05")]


def runs(data_root=None):
    """(demo module, output name, extra flags) for every run of the docs."""
    root = [] if data_root is None else ["--data-root", str(data_root)]
    has_test_files = data.mnist_available(data_root, train=False)
    plan = []
    for dataset, lr, std in FIGURE1:
        if dataset == "mnist-t10k" and not has_test_files:
            print(f"skipping Figure 1 on {dataset}: no MNIST test files under the data root (see --data-root)")
            continue
        plan.append(("ioffe_fig1", f"ioffe_fig1_{dataset}_lr{lr}",
                     ["--dataset", dataset, "--lr", lr, "--init-std", std, "--population-stats", "both", *root]))
    if has_test_files and data.mnist_available(data_root, train=True):
        plan.append(("ioffe_fig1", "ioffe_fig1_mnist_lr0.5", ["--dataset", "mnist", "--population-stats", "both",
                                                              *root]))
    for name in DEMOS:
        flags = list(root) if name in READS_DIGITS_OR_MNIST else []
        if name == "learning_speed" and has_test_files and not data.mnist_available(data_root, train=True):
            flags = ["--dataset", "mnist-t10k", *root]        # 784 inputs, as in both sources
        plan.append((name, name, flags))
        if name == "learning_speed":
            plan.append((name, "learning_speed_nielsen", ["--setup", "nielsen", *flags]))
        if name in OTHER_ARCHITECTURE:
            other, other_flags = OTHER_ARCHITECTURE[name]
            plan.append((name, other, [*other_flags, *flags]))
        if name == "small_batch":       # the ResNet, where the effect does not show, for the docs only
            plan.append((name, "small_batch_resnet", ["--arch", "resnet", *flags]))
            if has_test_files:
                plan.append((name, "small_batch_mnist-t10k", ["--dataset", "mnist-t10k", *root]))
    return plan


def quick_plan():
    """One quick run per demo and per architecture of it, on the offline digits: what ``--check`` runs."""
    plan = []
    for name in ["ioffe_fig1", *DEMOS]:
        flags = ["--dataset", "digits"] if name in READS_DIGITS_OR_MNIST else []
        plan.append((name, name, flags))
        if name in OTHER_ARCHITECTURE:
            other, other_flags = OTHER_ARCHITECTURE[name]
            plan.append((name, other, [*other_flags, *flags]))
    return plan


def run_one(module_name, out, flags, seed, quick, threads, device="cpu"):
    """Run one demo into ``out`` and return its record (the JSON it wrote)."""
    module = importlib.import_module(f"demos.{module_name}")
    return module.main([*flags, "--out", str(out), "--seed", str(seed), "--threads", str(threads),
                        "--device", device, "--no-progress", *(["--quick"] if quick else [])])


def spread(values):
    """Median and range of the values that are numbers (None: the event did not happen in that run)."""
    numbers = [v for v in values if v is not None]
    summary = {"values": values, "runs": len(values), "runs_with_a_value": len(numbers)}
    if numbers:
        summary.update(median=float(np.median(numbers)), min=float(min(numbers)), max=float(max(numbers)))
    return summary


def check(records):
    """The quick-run claims of each record: a list of (claim, held)."""
    results = []
    for module_name, record in records:
        module = importlib.import_module(f"demos.{module_name}")
        results += list(module.quick_claims(record).items())
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick modes only")
    parser.add_argument("--check", action="store_true",
                        help="quick modes on digits; exit 1 if a documented quick-run claim fails")
    parser.add_argument("--docs", action="store_true", help="copy every figure into docs/figures/")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to run each demo with")
    parser.add_argument("--only", nargs="+", default=None, help="only these output names")
    parser.add_argument("--out", default="runs", help="folder for the runs' outputs")
    parser.add_argument("--data-root", default=None, help="where MNIST is looked for")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="BLAS threads for every demo")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="the device of every demo")
    args = parser.parse_args(argv)
    if args.docs and (args.quick or args.check):
        parser.error("--docs needs the full runs: drop --quick and --check")
    plan = quick_plan() if args.check else runs(args.data_root)
    if args.only:
        plan = [run for run in plan if run[1] in args.only]
    quick = args.quick or args.check
    records, timings, numbers = [], [], {}
    for module_name, name, flags in plan:
        for seed in args.seeds:
            out = Path(args.out) / name / (f"seed{seed}" if len(args.seeds) > 1 else "")
            print(f"=== {name} seed {seed} {' '.join(flags)}", flush=True)
            started = time.perf_counter()
            record = run_one(module_name, out, flags, seed, quick, args.threads, args.device)
            timings.append((f"{name} seed {seed}", time.perf_counter() - started))
            records.append((module_name, record))
            headline = importlib.import_module(f"demos.{module_name}").headline(record)
            for key, value in headline.items():
                numbers.setdefault(name, {}).setdefault(key, []).append(value)
            if args.docs and seed == args.seeds[0]:
                shutil.copyfile(out / f"{module_name}.png", ROOT / "docs" / "figures" / f"{name}.png")
    print("\n".join(f"{name:<44} {seconds:7.1f} s" for name, seconds in timings))
    summary = {name: {key: spread(values) for key, values in keys.items()} for name, keys in numbers.items()}
    if len(args.seeds) > 1:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "seeds_summary.json").write_text(json.dumps({"seeds": args.seeds, **summary}, indent=1))
        for name, keys in summary.items():
            print(f"--- {name} over seeds {args.seeds}")
            for key, s in keys.items():
                print(f"    {key}: " + (f"median {s['median']:.4g}, range {s['min']:.4g} .. {s['max']:.4g}"
                                       if "median" in s else "no value") + f"  ({s['runs_with_a_value']}/{s['runs']})")
    if args.check:
        verdicts = check(records)
        for claim, held in verdicts:
            print(f"{'ok    ' if held else 'FAILED'} {claim}")
        failed = [claim for claim, held in verdicts if not held]
        if failed:
            raise SystemExit(f"{len(failed)} documented quick-run claim(s) no longer hold")
    return summary


if __name__ == "__main__":
    main()
