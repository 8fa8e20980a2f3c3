"""What every demo shares: its command line, progress line, JSON record and figure set-up.

Each demo is ``python demos/<name>.py`` with at least ``--out``, ``--seed``,
``--device`` and ``--quick``, and writes one PNG and one JSON into ``--out``.
The JSON holds ``config`` (every flag, the seed included), ``versions`` and the
demo's numbers, so a figure can always be traced back to the run that made it.
"""
import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

import tinygrad_bn as tg


def demo_parser(description, default_out):
    """An argument parser with the flags every demo has."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default=default_out, help="folder for the PNG and the JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--quick", action="store_true", help="a short run, for smoke tests")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return parser


def require_at_least(parser, args, names, minimum):
    """Stop with a usage error when any of the integer flags ``names`` is below ``minimum``."""
    for name in names:
        if getattr(args, name) < minimum:
            parser.error(f"--{name.replace('_', '-')} must be at least {minimum}, got {getattr(args, name)}")


def versions():
    """The versions that produced a result."""
    return {"python": platform.python_version(), "numpy": np.__version__,
            "tinygrad_bn": tg.__version__, "platform": platform.platform()}


def write_json(path, config, results):
    """Write ``{"config": ..., "versions": ..., **results}`` to ``path`` (indented, stable order)."""
    record = {"config": dict(config), "versions": versions(), **results}
    Path(path).write_text(json.dumps(record, indent=1))
    return record


def save_run(out, name, config, results, plot):
    """Write ``<out>/<name>.json`` (config, versions, results) and the figure
    ``<out>/<name>.png`` drawn by ``plot(record, path)``; return the record."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record = write_json(out / f"{name}.json", config, results)
    plot(record, out / f"{name}.png")
    print(f"wrote {out / name}.png and {out / name}.json")
    return record


def save_figure(fig, path, dpi=120, rect=None):
    """Lay the figure out, write it as a PNG and free it."""
    fig.tight_layout(**({} if rect is None else {"rect": rect}))
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no screen needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


class Progress:
    """One status line on stderr, rewritten in place: ``[####   ] 120/600  text  eta 3s``."""

    def __init__(self, total, enabled=True):
        self.total, self.enabled, self.start = total, enabled, time.perf_counter()

    def update(self, done, text=""):
        if not self.enabled:
            return
        fraction = done / self.total
        elapsed = time.perf_counter() - self.start
        eta = elapsed / fraction - elapsed if fraction > 0 else float("nan")
        bar = "#" * int(30 * fraction)
        print(f"\r[{bar:<30}] {done}/{self.total}  {text}  eta {eta:4.0f}s ", end="", file=sys.stderr, flush=True)

    def close(self):
        if self.enabled:
            print(file=sys.stderr)
