"""demos/common.py: the progress line fits a log, one style means "without BN" / "with BN" everywhere,
and ``--threads`` sets the BLAS threads a demo runs with and records them."""
import io
import json

import pytest

import tinygrad_bn as tg
from demos import common, constant_collapse


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_rewrites_one_line():
    screen = Terminal()
    progress = common.Progress(200, stream=screen)
    for done in range(1, 201):
        progress.update(done, "acc 0.5")
    progress.close()
    assert screen.getvalue().count("\r") == 200 and screen.getvalue().count("\n") == 1


def test_progress_into_a_log_prints_a_line_every_five_percent():
    log = io.StringIO()                          # not a terminal: no carriage returns
    progress = common.Progress(1000, stream=log)
    for done in range(1, 1001):
        progress.update(done, "acc 0.5")
    progress.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 21                      # the first update, then one per 5%
    assert " 1/1000 " in lines[0] and " 50/1000 " in lines[1] and lines[-1].startswith("[" + "#" * 30 + "] 1000/1000")


def test_progress_can_be_switched_off():
    log = io.StringIO()
    progress = common.Progress(10, enabled=False, stream=log)
    progress.update(10)
    progress.close()
    assert log.getvalue() == ""


def test_one_style_for_without_and_with_bn():
    plain, bn = common.style("plain"), common.style("bn")
    assert plain["color"] != bn["color"] and plain["linestyle"] != bn["linestyle"]
    assert (plain["label"], bn["label"]) == ("without BN", "with BN")
    assert common.style("bn", marker="o") == {**bn, "marker": "o"}


@pytest.fixture
def blas_threads_restored():
    before = tg.get_num_threads()
    yield
    tg.set_num_threads(before)


def test_threads_flag_reaches_blas_during_the_run_and_lands_in_the_json(tmp_path, monkeypatch, blas_threads_restored):
    threads = 2 if tg.get_num_threads() == 1 else 1          # not what the pool has now, so setting it shows
    seen_during_run, run = [], constant_collapse.run

    def run_and_record(args):
        seen_during_run.append(tg.get_num_threads())
        return run(args)
    monkeypatch.setattr(constant_collapse, "run", run_and_record)
    constant_collapse.main(["--quick", "--no-progress", "--threads", str(threads), "--out", str(tmp_path)])
    assert seen_during_run == [threads]
    assert json.loads((tmp_path / "constant_collapse.json").read_text())["config"]["threads"] == threads


def test_demos_run_with_the_default_thread_count_unless_told(blas_threads_restored):
    assert constant_collapse.parse_args([]).threads == common.DEFAULT_THREADS == tg.get_num_threads()
