"""The Figure 1 demo: its quick mode writes the documented files, with sane and reproducible numbers."""
import json
from pathlib import Path

import pytest

from demos import ioffe_fig1

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def run_quick(out, *extra):
    ioffe_fig1.main(["--quick", "--no-progress", "--out", str(out), *extra])
    return json.loads((out / "ioffe_fig1.json").read_text())


@pytest.fixture(scope="module")
def quick_digits(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig1")
    return out, run_quick(out, "--dataset", "digits")


def test_quick_run_writes_figure_and_documented_json(quick_digits):
    out, results = quick_digits
    assert (out / "ioffe_fig1.png").stat().st_size > 10_000
    for key in ("config", "versions", "dataset", "steps", "plain", "bn"):
        assert key in results
    assert results["config"]["seed"] == 0 and results["config"]["steps"] == 600
    assert results["dataset"]["name"] == "digits"
    assert results["steps"] == list(range(0, 601, 100))
    for net in ("plain", "bn"):
        curves = results[net]
        assert len(curves["test_accuracy"]) == len(results["steps"])
        for q in ("p15", "p50", "p85"):
            assert len(curves["percentiles"][q]) == len(results["steps"])


def test_percentiles_are_ordered(quick_digits):
    _, results = quick_digits
    for net in ("plain", "bn"):
        p = results[net]["percentiles"]
        for low, mid, high in zip(p["p15"], p["p50"], p["p85"]):
            assert low <= mid <= high


def test_accuracies_beat_chance_and_bn_learns_faster(quick_digits):
    _, results = quick_digits
    chance = 1 / results["config"]["classes"]
    assert results["bn"]["final_test_accuracy"] > 0.9
    assert results["plain"]["final_test_accuracy"] > chance
    assert results["bn"]["test_accuracy"][1] > results["plain"]["test_accuracy"][1]


def test_same_seed_gives_identical_numbers(quick_digits, tmp_path):
    _, first = quick_digits
    second = run_quick(tmp_path, "--dataset", "digits")
    for key in ("steps", "plain", "bn", "dataset"):
        assert first[key] == second[key]


def test_mnist_test_split_runs_on_the_real_files(tmp_path):
    results = run_quick(tmp_path, "--dataset", "mnist-t10k", "--data-root", str(SHARED_MNIST),
                        "--steps", "200", "--population-stats", "recompute", "--population-batches", "5")
    assert results["dataset"]["train_size"] == 8000 and results["dataset"]["test_size"] == 2000
    assert results["dataset"]["input_features"] == 784
    assert results["bn"]["final_test_accuracy"] > 0.5
