"""Instructions per training step, tinygrad_bn against hand-written NumPy: a cost figure without noise.

Wall-clock ratios on a shared machine move with what else runs (docs/backends.md);
the number of machine instructions a step executes does not.  This counts them
with Valgrind's callgrind for the step of bench/train_step.py (the same network,
batches and NumPy reference), once after ``--warmup`` steps and once after
``--warmup + --steps``: the difference divided by ``--steps`` is the cost of one
step, with the imports and set-up cancelled out.  Counting runs about 50x slower
than the program itself, so the default is the ``--python-only`` network
(4-4-4-4-3, batch 2), where the instructions are almost all the framework's own
Python; ``--full`` counts the paper's network, where OpenBLAS's instructions
dominate (and a BLAS instruction costs less time than an interpreter's, so the
instruction ratio there is not the time ratio).

    python bench/instructions.py [--bn] [--full] [--steps 200] [--warmup 20]

Needs ``valgrind`` on the PATH (Debian/Ubuntu: ``apt install valgrind``).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_steps(which, use_bn, full, steps):
    """The body of one counted run (``--run``): ``steps`` steps of ``which``."""
    sys.path.insert(0, HERE)
    import train_step                                          # noqa: E402  (bench/train_step.py)
    if not full:
        train_step.SIZES[:], train_step.BATCH = [4, 4, 4, 4, 3], 2
    make = train_step.framework_step_fn if which == "tinygrad_bn" else train_step.numpy_step_fn
    step = make(use_bn, train_step.make_batches())
    for _ in range(steps):
        step()


def counted_instructions(which, use_bn, full, steps):
    """Instructions callgrind counts for the whole run of ``steps`` steps."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
               os.path.abspath(__file__), "--run", which, "--steps", str(steps)]
    command += ["--bn"] * use_bn + ["--full"] * full
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        sys.exit(f"valgrind failed for {which} ({result.returncode}):\n{result.stderr[-2000:]}")
    return int(found.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bn", action="store_true", help="BatchNorm1d after each hidden Linear")
    parser.add_argument("--full", action="store_true", help="the paper's 784-100-100-100-10 network, batch 60")
    parser.add_argument("--steps", type=int, default=200, help="steps counted (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=20, help="steps whose count is subtracted")
    parser.add_argument("--run", choices=("tinygrad_bn", "numpy"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_steps(args.run, args.bn, args.full, args.steps)
        return
    if args.steps < 1 or args.warmup < 1:
        parser.error(f"--steps and --warmup must be at least 1, got {args.steps} and {args.warmup}")
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind on the PATH (apt install valgrind)")
    network = "784-100-100-100-10, batch 60" if args.full else "4-4-4-4-3, batch 2"
    print(f"instructions per SGD step (callgrind), {network}, {'with BatchNorm1d' if args.bn else 'plain'}; "
          f"({args.warmup + args.steps} - {args.warmup} steps) / {args.steps}")
    per_step = {}
    for which in ("tinygrad_bn", "numpy"):
        before = counted_instructions(which, args.bn, args.full, args.warmup)
        after = counted_instructions(which, args.bn, args.full, args.warmup + args.steps)
        per_step[which] = (after - before) / args.steps
        print(f"{which:<12} {per_step[which]:12,.0f}")
    print(f"ratio        {per_step['tinygrad_bn'] / per_step['numpy']:12.3f}")
    print(f"difference   {per_step['tinygrad_bn'] - per_step['numpy']:12,.0f}  (the framework's own instructions)")


if __name__ == "__main__":
    main()
