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
    assert results["steps"] == [*range(0, 200, 25), *range(200, 601, 100)]
    for net in ("plain", "bn"):
        curves = results[net]
        assert len(curves["test_accuracy"]) == len(results["steps"])
        for q in ("p15", "p50", "p85"):
            assert len(curves["percentiles"][q]) == len(results["steps"])


def test_evaluation_schedule_is_dense_early_and_ends_at_the_last_step():
    assert ioffe_fig1.evaluation_steps(1200, 500, 100, 50) == [0, 50, 100, 500, 1000, 1200]
    assert ioffe_fig1.evaluation_steps(60, 500, 2000, 50) == [0, 50, 60]


def test_first_step_reaching_a_level():
    assert ioffe_fig1.first_step_reaching([0, 50, 100], [0.1, 0.95, 0.8], 0.9) == 50
    assert ioffe_fig1.first_step_reaching([0, 50], [0.1, 0.2], 0.9) is None


def test_percentiles_are_ordered(quick_digits):
    _, results = quick_digits
    for net in ("plain", "bn"):
        p = results[net]["percentiles"]
        for low, mid, high in zip(p["p15"], p["p50"], p["p85"]):
            assert low <= mid <= high


def test_accuracies_beat_chance_and_bn_learns_faster(quick_digits):
    _, results = quick_digits
    assert all(ioffe_fig1.quick_claims(results).values())
    chance = 1 / results["config"]["classes"]
    assert results["plain"]["final_test_accuracy"] > chance


def test_both_population_statistics_in_one_run(tmp_path):
    results = run_quick(tmp_path, "--dataset", "digits", "--steps", "60", "--population-stats", "both",
                        "--population-batches", "3")
    bn = results["bn"]
    assert len(bn["test_accuracy_population_stats"]) == len(bn["test_accuracy"]) == len(results["steps"])
    assert "test_accuracy_population_stats" not in results["plain"]
    assert "bn final test accuracy, Algorithm 2" in ioffe_fig1.headline(results)


def test_same_seed_gives_identical_numbers_on_one_machine(quick_digits, tmp_path):
    _, first = quick_digits
    second = run_quick(tmp_path, "--dataset", "digits")
    for key in ("steps", "plain", "bn", "dataset"):
        assert first[key] == second[key]


def test_mnist_test_split_runs_on_the_real_files(tmp_path):
    """The official MNIST test files (../shared/data/mnist, also present on CI) through --data-root."""
    results = run_quick(tmp_path, "--dataset", "mnist-t10k", "--steps", "200", "--data-root", str(SHARED_MNIST),
                        "--population-stats", "recompute", "--population-batches", "5")
    assert results["dataset"]["train_size"] == 8000 and results["dataset"]["test_size"] == 2000
    assert results["dataset"]["input_features"] == 784
    assert results["bn"]["final_test_accuracy"] > 0.5
