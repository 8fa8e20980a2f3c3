"""The input-normalisation demo: quick mode writes its files and shows LeCun et al.'s claims."""
import json

import numpy as np
import pytest

from demos import input_normalization

NAMES = ("raw", "centred", "standardised", "pca_whitened", "zca_whitened")
TINY = ("--examples", "100", "--max-steps", "300", "--bisections", "2", "--divergence-steps", "50",
        "--sgd-epochs", "1", "--order-epochs", "1")


def run(out, *extra):
    input_normalization.main(["--quick", "--no-progress", "--out", str(out), *extra])
    return json.loads((out / "input_normalization.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("input_normalization")
    return out, run(out)


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "input_normalization.png").stat().st_size > 10_000
    for key in ("config", "versions", "linear_neuron", "orders", "model"):
        assert key in results
    assert results["config"]["seed"] == 0 and results["config"]["quick"]
    assert set(results["linear_neuron"]) == set(NAMES)
    assert len(results["orders"]["epochs"]) == results["config"]["order_epochs"] + 1
    for order in ("sorted", "fixed", "reshuffled"):
        assert len(results["orders"][order]["train_loss"]) == len(results["orders"]["epochs"])


def test_hessian_is_two_over_n_xtx_and_whitening_makes_it_isotropic(quick):
    _, results = quick
    config = results["config"]
    raw, labels = input_normalization.two_gaussians(config["examples"], config["offset"], config["scale"],
                                                    config["seed"])
    record = results["linear_neuron"]["raw"]
    np.testing.assert_allclose(record["hessian"], 2 * raw.T @ raw / len(raw), rtol=1e-12)
    for name in ("pca_whitened", "zca_whitened"):      # identity covariance, up to the whitening eps
        np.testing.assert_allclose(results["linear_neuron"][name]["eigenvalues"], [2, 2], rtol=1e-4)
    optimum = np.array(record["optimum"])
    gradient = 2 * raw.T @ (raw @ optimum - (2 * labels - 1)) / len(raw)
    assert np.abs(gradient).max() < 1e-9


def test_paths_start_at_unit_excess_loss(quick):
    _, results = quick
    for record in results["linear_neuron"].values():
        offset = np.array(record["start"]) - np.array(record["optimum"])
        assert 0.5 * offset @ np.array(record["hessian"]) @ offset == pytest.approx(1.0, rel=1e-9)
        np.testing.assert_allclose(record["gd_path"][0], record["start"])


def test_measured_largest_stable_lr_is_two_over_lambda_max(quick):
    _, results = quick
    for record in results["linear_neuron"].values():
        assert record["lr_max_measured"] == pytest.approx(2 / record["eigenvalues"][1], rel=0.05)


def test_normalisation_cuts_the_steps_to_tolerance(quick):
    _, results = quick
    neuron = results["linear_neuron"]
    steps = [neuron[name]["steps_gd_optimal_lr"] for name in NAMES]
    assert all(s is not None for s in steps)
    assert steps[0] > steps[1] > steps[2] > steps[3]          # raw > centred > standardised > whitened
    assert steps[3] == steps[4] == 1                          # lr = 1/lambda on an isotropic bowl: one step
    assert neuron["pca_whitened"]["steps_sgd"] is not None
    assert neuron["raw"]["condition_number"] > 100 * neuron["zca_whitened"]["condition_number"]


def test_quick_claims_hold(quick):
    assert all(input_normalization.quick_claims(quick[1]).values())


def test_sorted_examples_train_worse_than_shuffled(quick):
    _, results = quick
    orders = results["orders"]
    assert orders["sorted"]["final_train_loss"] > 1.5 * orders["reshuffled"]["final_train_loss"]
    assert orders["reshuffled"]["train_loss"][-1] < orders["reshuffled"]["train_loss"][0]


def test_same_seed_gives_identical_numbers_on_one_machine(tmp_path):
    first = run(tmp_path / "a", *TINY)
    second = run(tmp_path / "b", *TINY)
    assert first["linear_neuron"] == second["linear_neuron"] and first["orders"] == second["orders"]
