"""The learning-rate stress test: documented files and keys, divergence caught, and BN collapsing later."""
import json
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.optim.lr_scheduler import LambdaLR
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


def test_summed_loss_equivalent_of_page_defaults():
    lr_sum, weight_decay_sum = lr_stress_test.summed_loss_equivalent(0.005, 1e-4, 512)
    assert lr_sum == pytest.approx(9.765625e-06) and weight_decay_sum == pytest.approx(0.0512)


@pytest.mark.parametrize("nesterov", [False, True])
def test_mean_loss_step_equals_an_independent_summed_loss_sgd(nesterov):
    """Page's step written out in NumPy: loss summed over the batch, SGD with (lr_sum, wd_sum) =
    summed_loss_equivalent(lr, wd, B) and momentum; the library's SGD on the mean loss with (lr, wd)
    must follow the same weights."""
    rng = np.random.default_rng(0)
    x, y, w0 = rng.standard_normal((6, 3)), rng.standard_normal(6), rng.standard_normal(3)
    lr, wd, mu, batch = 0.3, 1e-2, 0.9, len(x)
    lr_sum, wd_sum = lr_stress_test.summed_loss_equivalent(lr, wd, batch)
    w_sum, velocity = w0.copy(), np.zeros(3)
    w = tg.tensor(w0, requires_grad=True)
    sgd = tg.optim.SGD([w], lr=lr, momentum=mu, weight_decay=wd, nesterov=nesterov)
    for _ in range(4):
        gradient = 2 * x.T @ (x @ w_sum - y) + wd_sum * w_sum        # d/dw of sum_i (x_i . w - y_i)^2, decay
        velocity = mu * velocity + gradient
        w_sum = w_sum - lr_sum * (gradient + mu * velocity if nesterov else velocity)
        loss = ((tg.tensor(x) @ w - tg.tensor(y)) ** 2).mean()
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        np.testing.assert_allclose(w.detach().numpy(), w_sum, rtol=1e-12)


def test_lr_per_step_at_hand_computed_points():
    """Page's schedule on 8 steps an epoch: 0.005 * 2^(x/2) at the start of epoch x, linear in between."""
    w = tg.tensor(np.zeros(2), requires_grad=True)
    sgd = tg.optim.SGD([w], lr=0.005)
    schedule = LambdaLR(sgd, lr_stress_test.lr_factor(0.005, 2.0, 2.0, steps_per_epoch=8))
    lrs = []
    for _ in range(8 * 18 + 1):
        lrs.append(sgd.param_groups[0]["lr"])
        sgd.step()
        schedule.step()
    assert lrs[0] == pytest.approx(0.005) and lrs[8 * 4] == pytest.approx(0.02)           # epochs 0 and 4
    assert lrs[8 * 18] == pytest.approx(2.56)                                              # epoch 18: 0.005 * 2^9
    assert lrs[8 * 17 + 2] == pytest.approx(0.005 * (0.75 * 2 ** 8.5 + 0.25 * 2 ** 9))     # a quarter into epoch 17


def test_collapse_definition():
    # reached 0.5 at epoch 1, fell below it at epoch 3
    assert lr_stress_test.collapse_epoch([0.3, 0.6, 0.9, 0.4, 0.95], None, 0.5) == 3
    # never reached: not collapsed; divergence counts whatever the accuracy
    assert lr_stress_test.collapse_epoch([0.1, 0.2], None, 0.5) is None
    assert lr_stress_test.collapse_epoch([0.1, 0.2, 0.0], 2, 0.5) == 2
    assert lr_stress_test.collapse_epoch([0.6, 0.7, 0.2, 0.0], 3, 0.5) == 2


@pytest.mark.parametrize("network", [("--hidden", "16"), ("--arch", "resnet", "--width", "2", "--batch-size", "64",
                                               "--train-size", "128")])
def test_huge_learning_rate_diverges_without_crashing(tmp_path, network):
    results = run(tmp_path, "--epochs", "2", "--lr-base", "1e30", *network)
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
        np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    assert [type(m).__name__ for m in nets["bn"]].count("BatchNorm1d") == 2
    # He normal: the first layer's weights have variance 2 / fan_in
    tg.manual_seed(0)
    wide = lr_stress_test.twin_mlps(400, 300, 1, 2)["plain"][0].weight.detach().numpy()
    assert wide.var() == pytest.approx(2 / 400, rel=0.05)


def test_same_seed_gives_identical_numbers_on_one_machine(tmp_path):
    small = ("--epochs", "3", "--hidden", "16", "--lr-base", "0.5")
    first, second = run(tmp_path / "a", *small), run(tmp_path / "b", *small)
    for key in ("learning_rates", "plain", "bn", "collapse_lr_ratio"):
        assert first[key] == second[key]
    assert first["plain"]["train_loss"] != run(tmp_path / "c", *small, "--seed", "1")["plain"]["train_loss"]


# ---------------------------------------------------------------------- the ResNet
@pytest.fixture(scope="module")
def quick_resnet(tmp_path_factory):
    """ResNet-8 of width 8 on the digits as 1x8x8 images, batches of 64, 10 epochs."""
    out = tmp_path_factory.mktemp("lr_stress_resnet")
    return out, run(out, "--quick", "--arch", "resnet")


def test_resnet_runs_page_set_up_and_bn_tolerates_larger_learning_rates(quick_resnet):
    out, results = quick_resnet
    config = results["config"]
    assert (config["depth"], config["width"], config["momentum"], config["nesterov"], config["weight_decay"]) == \
        (8, 8, 0.9, True, 1e-4)
    assert results["dataset"]["image_shape"] == [1, 8, 8] and results["weight_norm_layer"] == "layer1.0.conv1"
    assert results["summed_loss_equivalent"]["lr_base"] == pytest.approx(config["lr_base"] / config["batch_size"])
    assert (out / "lr_stress_test.png").stat().st_size > 10_000
    assert all(lr_stress_test.quick_claims(results).values())


def test_resnet_defaults_are_page_batch_and_decay():
    args = lr_stress_test.parse_args(["--arch", "resnet"])
    assert (args.batch_size, args.epochs, args.weight_decay, args.nesterov, args.train_size) == \
        (512, 25, 1e-4, True, 4096)
    assert lr_stress_test.learning_rates(args.lr_base, args.lr_growth, args.lr_period, args.epochs)[-1] == \
        pytest.approx(0.005 * 2 ** 12)
    with pytest.raises(SystemExit):
        lr_stress_test.parse_args(["--arch", "resnet", "--depth", "10"])       # not 6n + 2


def test_the_mlp_refuses_batches_of_one_that_the_resnet_takes(capsys):
    """BatchNorm1d has one value per channel in a batch of 1 and cannot train; BatchNorm2d has H x W."""
    with pytest.raises(SystemExit):
        lr_stress_test.parse_args(["--batch-size", "1"])
    assert "--batch-size must be at least 2" in capsys.readouterr().err
    assert lr_stress_test.parse_args(["--arch", "resnet", "--batch-size", "1"]).batch_size == 1


def test_resnet_optimizer_trains_only_the_weights_of_convolutions_and_fc():
    args = lr_stress_test.parse_args(["--arch", "resnet", "--dataset", "digits", "--depth", "14", "--width", "2"])
    _, _, _, nets, optimizers = lr_stress_test.twin_training(args, 0.1, weight_decay=1e-4)
    for name, net in nets.items():
        trained = {id(p) for group in optimizers[name].param_groups for p in group["params"]}
        expected = {id(m.weight) for _, m in net.weighted_layers()}
        assert trained == expected and len(expected) == 14
        frozen = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        assert (len(frozen) == 13) == (name == "bn")                         # conv1 and 12 block convolutions
