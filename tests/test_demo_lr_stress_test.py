"""The learning-rate stress test: documented files and keys, divergence caught, and BN collapsing later."""
import json
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from demos import lr_stress_test


def run(out, *extra):
    lr_stress_test.main(["--no-progress", "--dataset", "digits", "--out", str(out), *extra])
    return json.loads((out / "lr_stress_test.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("lr_stress")
    return out, run(out, "--quick")


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "lr_stress_test.png").stat().st_size > 10_000
    for key in ("config", "versions", "dataset", "epochs", "learning_rates", "steps_per_epoch",
                "plain", "bn", "collapse_lr_ratio", "largest_lr_tried"):
        assert key in results
    for net in ("plain", "bn"):
        for key in ("train_accuracy", "train_loss", "diverged_epoch", "diverged_lr", "collapse_epoch",
                    "collapse_lr", "best_train_accuracy"):
            assert key in results[net]
        assert len(results[net]["train_accuracy"]) <= len(results["epochs"])


def test_learning_rate_schedule_is_exponential(quick):
    _, results = quick
    config = results["config"]
    for epoch, lr in zip(results["epochs"], results["learning_rates"]):
        assert lr == pytest.approx(config["lr_base"] * config["lr_growth"] ** (epoch / config["lr_period"]))


def test_default_schedule_doubles_every_two_epochs():
    assert lr_stress_test.learning_rates(0.005, 2.0, 2.0, 5) == pytest.approx(
        [0.005, 0.005 * math.sqrt(2), 0.01, 0.01 * math.sqrt(2), 0.02])


def test_bn_tolerates_larger_learning_rates(quick):
    assert all(lr_stress_test.quick_claims(quick[1]).values())


def test_lr_ramps_linearly_within_an_epoch_between_the_epoch_values():
    factor = lr_stress_test.lr_factor(0.005, 2.0, 2.0, steps_per_epoch=4)
    assert [factor(t) for t in (0, 4, 8)] == pytest.approx([1, 2 ** 0.5, 2])     # the epoch knots
    assert factor(2) == pytest.approx((1 + 2 ** 0.5) / 2)                         # half way, linearly


def test_page_optimizer_by_default(quick):
    config = quick[1]["config"]
    assert (config["momentum"], config["weight_decay"], config["arch"]) == (0.9, 5e-4, "mlp")
    for net in ("plain", "bn"):
        norms = quick[1][net]["weight_norms"]
        assert all(n is None or len(n) == config["layers"] for n in norms)     # one ||W|| per hidden layer


def test_summed_loss_with_page_scaling_is_the_mean_loss_step():
    """Page: loss summed over B, lr / B, weight decay * B; here: mean loss, lr, weight decay. Same step."""
    rng = np.random.default_rng(0)
    w0, x = rng.standard_normal(3), rng.standard_normal((5, 3))
    lr, wd, batch = 0.1, 5e-4, len(x)
    steps = []
    for reduction, step_lr, decay in (("sum", lr / batch, wd * batch), ("mean", lr, wd)):
        w = tg.tensor(w0, requires_grad=True)
        sgd = tg.optim.SGD([w], lr=step_lr, momentum=0.9, weight_decay=decay)
        for _ in range(3):
            loss = ((tg.tensor(x) @ w) ** 2).sum() if reduction == "sum" else ((tg.tensor(x) @ w) ** 2).mean()
            sgd.zero_grad()
            loss.backward()
            sgd.step()
        steps.append(w.detach().numpy())
    np.testing.assert_allclose(steps[0], steps[1], rtol=1e-12)


def test_collapse_definition():
    # reached 0.5 at epoch 1, fell below it at epoch 3
    assert lr_stress_test.collapse_epoch([0.3, 0.6, 0.9, 0.4, 0.95], None, 0.5) == 3
    # never reached: not collapsed; divergence counts whatever the accuracy
    assert lr_stress_test.collapse_epoch([0.1, 0.2], None, 0.5) is None
    assert lr_stress_test.collapse_epoch([0.1, 0.2, 0.0], 2, 0.5) == 2
    assert lr_stress_test.collapse_epoch([0.6, 0.7, 0.2, 0.0], 3, 0.5) == 2


def test_huge_learning_rate_diverges_without_crashing(tmp_path):
    results = run(tmp_path, "--epochs", "2", "--lr-base", "1e30", "--hidden", "16")
    for net in ("plain", "bn"):
        r = results[net]
        assert r["diverged_epoch"] == 0 and r["diverged_lr"] == 1e30
        assert r["collapse_epoch"] == 0 and r["train_loss"] == [None]
    text = (tmp_path / "lr_stress_test.json").read_text()
    assert "NaN" not in text and "Infinity" not in text          # strict JSON
    assert (tmp_path / "lr_stress_test.png").exists()


def test_twins_start_from_identical_weights_and_differ_only_by_bn():
    tg.manual_seed(0)
    nets = lr_stress_test.twin_mlps(8, 5, 2, 3)
    plain = [m for m in nets["plain"] if hasattr(m, "weight") and m.weight is not None]
    bn_linear = [m for m in nets["bn"] if type(m).__name__ == "Linear"]
    assert len(plain) == len(bn_linear) == 3
    for a, b in zip(plain, bn_linear):
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert [type(m).__name__ for m in nets["bn"]].count("BatchNorm1d") == 2
    # He normal: the first layer's weights have variance 2 / fan_in
    tg.manual_seed(0)
    wide = lr_stress_test.twin_mlps(400, 300, 1, 2)["plain"][0].weight.data
    assert wide.var() == pytest.approx(2 / 400, rel=0.05)


def test_same_seed_gives_identical_numbers_on_one_machine(tmp_path):
    small = ("--epochs", "3", "--hidden", "16", "--lr-base", "0.5")
    first, second = run(tmp_path / "a", *small), run(tmp_path / "b", *small)
    for key in ("learning_rates", "plain", "bn", "collapse_lr_ratio"):
        assert first[key] == second[key]
    assert first["plain"]["train_loss"] != run(tmp_path / "c", *small, "--seed", "1")["plain"]["train_loss"]
