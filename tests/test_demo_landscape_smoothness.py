"""The landscape-smoothness demo: documented files and keys, side-effect-free probing, narrower BN bands."""
import json

import numpy as np
import pytest

import tinygrad_bn.functional as F
from tinygrad_bn import data, optim
from demos import landscape_smoothness as demo
from demos.lr_stress_test import twin_mlps


def run(out, *extra):
    demo.main(["--no-progress", "--dataset", "digits", "--out", str(out), *extra])
    return json.loads((out / "landscape_smoothness.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("landscape")
    return out, run(out, "--quick")


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "landscape_smoothness.png").stat().st_size > 10_000
    for key in ("config", "versions", "dataset", "probe_steps", "step_sizes", "plain", "bn",
                "width_ratio_plain_over_bn"):
        assert key in results
    assert results["probe_steps"] == list(range(0, results["config"]["steps"], results["config"]["probe_every"]))
    for net in ("plain", "bn"):
        r = results[net]
        for measure in ("loss", "grad_change", "beta"):
            assert len(r[measure]["min"]) == len(r[measure]["max"]) == len(results["probe_steps"])
            assert all(lo <= hi for lo, hi in zip(r[measure]["min"], r[measure]["max"]))
            for part in ("band", "band_first_half", "band_second_half"):
                assert set(r[part][measure]) == {"mean_width", "mean_max"}
        assert len(r["train_loss"]) == results["config"]["steps"]


def test_bn_bands_are_narrower(quick):
    assert all(demo.quick_claims(quick[1]).values())


def trained_twins(steps=5):
    """A small plain/BN pair after a few SGD steps (running statistics away from their initial values)."""
    train = data.Digits(train=True)
    nets = twin_mlps(64, 16, 3, 10)
    batches = list(zip(range(steps + 1), data.DataLoader(train, 32, shuffle=True, seed=0)))
    for name, net in nets.items():
        sgd = optim.SGD(net.parameters(), lr=0.1)
        for _, (images, labels) in batches[:steps]:
            sgd.zero_grad()
            F.cross_entropy(net(images), labels).backward()
            sgd.step()
    return nets, batches[-1][1]


def test_probe_leaves_parameters_buffers_and_grads_bit_identical():
    nets, (images, labels) = trained_twins()
    for net in nets.values():
        before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        grads = [p.grad.detach().numpy().copy() for p in net.parameters()]
        values = demo.probe(net, images, labels, [0.05, 0.4, 1e6])          # the last step blows up
        for key, tensor in net.state_dict().items():
            np.testing.assert_array_equal(tensor.detach().numpy(), before[key], err_msg=key)
            assert tensor.detach().numpy().dtype == before[key].dtype
        for p, g in zip(net.parameters(), grads):
            np.testing.assert_array_equal(p.grad.detach().numpy(), g)
        assert all(len(v) == 3 for v in values.values())
    bn = [m for m in nets["bn"] if type(m).__name__ == "BatchNorm1d"][0]
    assert bn.num_batches_tracked.item() == 5


def test_small_steps_descend_and_gradient_change_grows_with_the_step():
    nets, (images, labels) = trained_twins()
    for net in nets.values():
        net_loss = F.cross_entropy(net(images), labels).item()
        values = demo.probe(net, images, labels, [1e-4, 1e-3, 1e-2])
        assert values["loss"][0] < net_loss                          # -grad is a descent direction
        assert values["grad_change"][0] < values["grad_change"][1] < values["grad_change"][2]
        # effective smoothness: ||g - g'|| / ||x - x'|| stays bounded as the step shrinks (a Lipschitz gradient)
        assert values["beta"][0] == pytest.approx(values["beta"][1], rel=0.2)


def test_probing_does_not_change_the_training_run(tmp_path):
    small = ("--steps", "30", "--hidden", "16", "--layers", "3", "--step-scales", "1", "4")
    often = run(tmp_path / "often", *small, "--probe-every", "3")
    rarely = run(tmp_path / "rarely", *small, "--probe-every", "29")
    for net in ("plain", "bn"):
        assert often[net]["train_loss"] == rarely[net]["train_loss"]


def test_divergence_is_recorded_not_raised(tmp_path):
    results = run(tmp_path, "--steps", "6", "--probe-every", "2", "--hidden", "16", "--layers", "3",
                  "--lr", "1e30")
    plain = results["plain"]
    assert plain["diverged_step"] is not None
    assert None in plain["train_loss"] and None in plain["loss"]["max"]
    text = (tmp_path / "landscape_smoothness.json").read_text()
    assert "NaN" not in text and "Infinity" not in text          # strict JSON
    assert (tmp_path / "landscape_smoothness.png").exists()


def test_same_seed_gives_identical_numbers_on_one_machine(quick, tmp_path):
    _, first = quick
    second = run(tmp_path, "--quick")
    for key in ("probe_steps", "step_sizes", "plain", "bn"):
        assert first[key] == second[key]
