"""A competing CPU-bound process, to time code on a busy machine.

A BLAS library started with one thread per core splits each matrix product
across its threads and waits for the slowest.  While another program holds a
core, one of those threads keeps losing it, and every product waits for the
scheduler to hand it back.  ``competing_process()`` makes that condition on
demand, in the benchmark's own run, so an idle and a busy figure can be
compared side by side.
"""
import multiprocessing
import os
from contextlib import contextmanager


def _spin(started):
    """Pure-Python busy loop: one core's worth of CPU demand, no BLAS, no I/O."""
    started.set()
    while True:
        pass


@contextmanager
def competing_process():
    """Run the block while one other process spins on a core; stop it afterwards."""
    started = multiprocessing.Event()
    process = multiprocessing.Process(target=_spin, args=(started,), daemon=True)
    process.start()
    try:
        started.wait()
        yield
    finally:
        process.terminate()
        process.join()


def load_average():
    """The 1-, 5- and 15-minute load averages, as text (the machine's load behind a figure)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())
