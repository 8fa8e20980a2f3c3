"""demos/common.py: the progress line fits a log, one style means "without BN" / "with BN" everywhere,
``--threads`` sets the BLAS threads a demo runs with and records them, and the conv demos' images are
the data sets' pixels, standardised."""
import io
import json
from pathlib import Path

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import data
from demos import common, constant_collapse

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


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


def test_image_dataset_is_the_digits_as_standardised_1x8x8_images():
    train, test, description = common.load_image_dataset("digits")
    flat = data.Digits(train=True).images.astype(np.float64)            # (1437, 64) rows, row-major pixels
    assert train.images.shape == (1437, 1, 8, 8) and test.images.shape == (360, 1, 8, 8)
    mean, std = flat.mean(), flat.std()                                 # one channel: over every pixel
    expected = ((flat - mean) / std).reshape(1437, 8, 8)
    np.testing.assert_allclose(train.images[:, 0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(train.labels, data.Digits(train=True).labels)
    assert description["image_shape"] == [1, 8, 8] and description["train_size"] == 1437


def test_image_dataset_reads_the_mnist_test_files_as_1x28x28_images():
    train, test, description = common.load_image_dataset("mnist-t10k", SHARED_MNIST, seed=0)
    assert train.images.shape == (8000, 1, 28, 28) and test.images.shape == (2000, 1, 28, 28)
    assert abs(train.images.mean()) < 1e-4 and train.images.std() == pytest.approx(1, abs=1e-4)
    rows, _, _ = common.load_dataset("mnist-t10k", SHARED_MNIST, seed=0)
    first = rows.images[0].astype(np.float64)                           # the same image as a row of 784
    standardised = (first - rows.images.mean(dtype=np.float64)) / rows.images.std(dtype=np.float64)
    np.testing.assert_allclose(train.images[0, 0].ravel(), standardised, rtol=1e-4, atol=1e-4)


def test_seeded_subset_is_a_reproducible_choice_without_repeats():
    dataset = data.ArrayDataset(np.arange(50, dtype=np.float32)[:, None], np.arange(50))
    a, b = common.seeded_subset(dataset, 20, 3), common.seeded_subset(dataset, 20, 3)
    assert np.array_equal(a.labels, b.labels) and len(set(a.labels.tolist())) == 20
    np.testing.assert_array_equal(a.images[:, 0], a.labels)             # images and labels stay paired
    assert not np.array_equal(a.labels, common.seeded_subset(dataset, 20, 4).labels)
    assert sorted(common.seeded_subset(dataset, None, 0).labels.tolist()) == list(range(50))
