"""Per-operation overhead of the autograd engine on tiny tensors.

On a (1,) float32 tensor the arithmetic itself is nearly free, so the time
of ``c = a + b; c.backward()`` is the price of the machinery: building the
Tensor, recording the node, ordering the graph, running the backward formula
and accumulating into ``.grad``.  The script measures, in one run:

    np.add          the array library alone (the floor)
    forward         c = a + b                 (a and b require grad)
    forward+backward c = a + b; c.backward()

Each figure is microseconds per loop: the median (and the min) over
``--repeats`` runs of ``--loops`` loops.  Target on a 2-core machine:
forward+backward <= 5 us.  ``--profile`` adds a cProfile table of the
backward call, to see where that time goes.

    python bench/overhead.py [--repeats 7] [--loops 20000] [--profile]
"""
import argparse
import cProfile
import os
import platform
import pstats
import statistics
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_bn as tg  # noqa: E402

TARGET_US = 5.0


def setup():
    a = tg.tensor([1.5], requires_grad=True)
    b = tg.tensor([2.5], requires_grad=True)
    return {"a": a, "b": b, "x": a._data.copy(), "y": b._data.copy(), "np": np}


CASES = {
    "np.add": "np.add(x, y)",
    "forward": "c = a + b",
    "forward+backward": "c = a + b; c.backward()",
}


def measure(statement, repeats, loops):
    """Microseconds per loop for each repeat (fresh tensors each repeat)."""
    times = []
    for _ in range(repeats):
        timer = timeit.Timer(statement, globals=setup())
        times.append(timer.timeit(loops) / loops * 1e6)
    return times


def profile_backward(loops):
    """cProfile of ``c.backward()`` alone (the forward is run outside the profiler)."""
    env = setup()
    graphs = [env["a"] + env["b"] for _ in range(loops)]
    profiler = cProfile.Profile()
    profiler.enable()
    for c in graphs:
        c.backward()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    total = sum(row[2] for row in stats.stats.values())      # own time of every function
    print(f"{'own time':>9} {'share':>6} {'calls/backward':>15}  function")
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])
    for (filename, line, function), (_, calls, own, _, _) in rows[:12]:
        print(f"{own / loops * 1e6:7.2f}us {own / total:6.1%} {calls / loops:15.1f}  "
              f"{filename}:{line}({function})")
    print(f"{total / loops * 1e6:7.2f}us  total per backward under the profiler "
          f"(cProfile inflates every call, so compare the shares, not the absolute figures)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--loops", type=int, default=20000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile table of backward()")
    args = parser.parse_args()

    print(f"python {platform.python_version()}, numpy {np.__version__}, tinygrad_bn {tg.__version__}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")
    print(f"(1,) float32 tensors; {args.repeats} repeats x {args.loops} loops; microseconds per loop\n")
    print(f"{'case':<18} {'median':>8} {'min':>8} {'x np.add':>9}")
    results = {}
    for name, statement in CASES.items():
        times = measure(statement, args.repeats, args.loops)
        results[name] = statistics.median(times)
        ratio = results[name] / results["np.add"]
        print(f"{name:<18} {results[name]:8.2f} {min(times):8.2f} {ratio:9.1f}")
    backward_only = results["forward+backward"] - results["forward"]
    print(f"{'backward (diff)':<18} {backward_only:8.2f}")
    verdict = "met" if results["forward+backward"] <= TARGET_US else "NOT met"
    print(f"\ntarget forward+backward <= {TARGET_US} us: {verdict} "
          f"(median {results['forward+backward']:.2f} us)")
    if args.profile:
        print("\ncProfile of c.backward() (c = a + b made beforehand), own time per backward:")
        profile_backward(args.loops)


if __name__ == "__main__":
    main()
