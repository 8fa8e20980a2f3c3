"""The weight-initialisation demo: sigmoid saturation, and per-layer statistics of deep tanh/ReLU nets."""
import json
import math

import numpy as np
import pytest

from demos import weight_init as demo

INITS = ("std_0.01", "std_1", "xavier", "he")


def run_quick(out, *extra):
    demo.main(["--quick", "--no-progress", "--out", str(out), *extra])
    return json.loads((out / "weight_init.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("init")
    return out, run_quick(out)


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "weight_init.png").stat().st_size > 50_000
    assert results["config"]["seed"] == 0 and results["config"]["deep_examples"] == 100
    for name in ("N(0,1)", "xavier_normal", "xavier_uniform", "he"):
        record = results["sigmoid_layer"][name]
        assert sum(record["counts"]) == 100 * 256
    for activation in ("tanh", "relu"):
        assert sorted(results["deep"][activation]) == sorted(INITS + tuple(i + "+bn" for i in INITS))
        for record in results["deep"][activation].values():
            assert len(record["mean"]) == len(record["std"]) == len(record["histograms"]) == 10


def test_gaussian_unit_weights_saturate_the_sigmoids_and_xavier_does_not(quick):
    sigmoid = quick[1]["sigmoid_layer"]
    assert sigmoid["N(0,1)"]["saturated_fraction"] >= 0.8
    for name in ("xavier_normal", "xavier_uniform", "he"):
        assert sigmoid[name]["saturated_fraction"] < 0.05, name


def test_saturation_matches_the_gaussian_approximation(quick):
    sigmoid = quick[1]["sigmoid_layer"]
    # z ~ N(0, sigma^2 * 784/3) for U[0,1) pixels; the fraction with |z| > ln 9, by hand for N(0,1) weights
    by_hand = math.erfc(math.log(9) / (math.sqrt(784 / 3) * math.sqrt(2)))
    assert sigmoid["N(0,1)"]["saturated_fraction"] == pytest.approx(by_hand, abs=0.03)


def test_tanh_with_std_001_shrinks_by_001_sqrt_500_per_layer(quick):
    std = quick[1]["deep"]["tanh"]["std_0.01"]["std"]
    for measured, reference in zip(std, (0.21, 0.048, 0.011)):
        assert measured == pytest.approx(reference, rel=0.15)
    for earlier, later in zip(std[1:-1], std[2:]):        # tanh is linear near 0: each layer scales by 0.01 sqrt(500)
        assert later / earlier == pytest.approx(0.01 * math.sqrt(500), rel=0.05)


def test_relu_with_he_keeps_the_post_relu_std_near_sqrt_1_minus_1_over_pi(quick):
    std = quick[1]["deep"]["relu"]["he"]["std"]
    assert np.allclose(std, math.sqrt(1 - 1 / math.pi), rtol=0.2)
    exploding, vanishing = quick[1]["deep"]["relu"]["std_1"]["std"], quick[1]["deep"]["relu"]["std_0.01"]["std"]
    assert exploding[-1] > 1e6 and vanishing[-1] < 1e-6


def test_batch_norm_makes_every_initialisation_give_the_same_statistics(quick):
    deep = quick[1]["deep"]
    # after BN each unit is N(0,1)-like over the batch: std of tanh(u) and of relu(u) for u ~ N(0, 1)
    u = np.random.default_rng(0).standard_normal(1_000_000)
    expected = {"tanh": np.tanh(u).std(), "relu": math.sqrt(0.5 - 1 / (2 * math.pi))}
    for activation in ("tanh", "relu"):
        for name in INITS:
            assert np.allclose(deep[activation][name + "+bn"]["std"], expected[activation], rtol=0.03)


def test_quick_claims_hold(quick):
    assert all(demo.quick_claims(quick[1]).values())


def test_same_seed_gives_identical_numbers_on_one_machine(quick):
    second = json.loads(json.dumps(demo.run(demo.parse_args(["--quick", "--no-progress"]))))
    assert second["sigmoid_layer"] == quick[1]["sigmoid_layer"]
    assert second["deep"] == quick[1]["deep"]
