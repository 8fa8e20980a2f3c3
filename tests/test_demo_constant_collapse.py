"""The constant-collapse demo: its statistic, and ReLU-He collapsing next to three controls that do not."""
import json
import math

import numpy as np
import pytest

from demos import constant_collapse as demo


def run_quick(out, *extra):
    demo.main(["--quick", "--no-progress", "--out", str(out), *extra])
    return json.loads((out / "constant_collapse.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("collapse")
    return out, run_quick(out)


def test_between_channel_share_is_one_for_a_constant_function_and_about_one_over_n_for_noise():
    rng = np.random.default_rng(0)
    constant_rows = np.tile(rng.standard_normal(300), (50, 1))          # every example maps to the same vector
    assert demo.between_channel_share(constant_rows) == pytest.approx(1.0)
    noise = rng.standard_normal((400, 2000))
    assert demo.between_channel_share(noise) == pytest.approx(1 / 400, rel=0.1)


def test_between_channel_share_is_the_between_part_of_the_law_of_total_variance():
    h = np.random.default_rng(1).standard_normal((40, 30)) * np.linspace(0.5, 2, 30) + np.linspace(-1, 1, 30)
    within = h.var(axis=0).mean()
    assert demo.between_channel_share(h) == pytest.approx(1 - within / h.var())


def test_mean_cosine_similarity_of_identical_and_orthogonal_rows():
    assert demo.mean_cosine_similarity(np.tile([1.0, 2.0, 3.0], (5, 1))) == pytest.approx(1.0)
    assert demo.mean_cosine_similarity(np.eye(4)) == pytest.approx(0.0)


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "constant_collapse.png").stat().st_size > 10_000
    config = results["config"]
    assert (config["width"], config["depth"], config["batch"], config["seed"]) == (256, 20, 128, 0)
    assert results["layers"] == list(range(1, 21))
    for kind in ("relu", "linear", "shifted_relu", "bn", "bn_frozen"):
        for key in ("share", "cosine", "std"):
            assert len(results[kind][key]) == 20
    assert "claims" in results and "versions" in results


def test_relu_collapses_as_the_arc_cosine_map_predicts(quick):
    _, results = quick
    share = results["relu"]["share"]
    assert share[0] < 0.05                    # uncorrelated inputs: channel means are all E[relu] = 1/sqrt(pi)
    rho1 = 1 / math.pi                        # cosine after one ReLU layer, by hand from the arc-cosine kernel
    rho2 = (math.sqrt(1 - rho1 ** 2) + (math.pi - math.acos(rho1)) * rho1) / math.pi
    assert share[1] == pytest.approx((rho2 - rho1) / (1 - rho1), abs=0.05)
    assert share[-1] > 0.85 and share[-1] > share[4] > share[1]


def test_controls_do_not_collapse(quick):
    _, results = quick
    for kind in ("linear", "shifted_relu", "bn", "bn_frozen"):
        assert max(results[kind]["share"]) < 0.05, kind
    assert all(demo.quick_claims(results).values())


def test_bn_measured_on_its_own_batch_sits_below_the_noise_floor_and_frozen_bn_does_not(quick):
    """Training-mode BN zeroes every pre-ReLU channel mean of the batch it measures, so its share is forced
    below 1/batch; with statistics from another batch the channel means scatter like any sample mean's."""
    _, results = quick
    floor = results["floor_1_over_batch"]
    assert max(results["bn"]["share"]) < floor / 4
    assert min(results["bn_frozen"]["share"]) > floor / 2


def test_frozen_statistics_are_those_of_the_other_batch(device):
    import tinygrad_bn as tg
    blocks = demo.build_blocks("bn_frozen", 8, 2, device)
    batch = tg.randn(32, 8, device=device)
    demo.freeze_statistics(blocks, batch)
    first_bn = blocks[0][1]
    z = blocks[0][0](batch).detach().numpy().astype(np.float64)
    np.testing.assert_allclose(first_bn.running_mean.numpy(), z.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(first_bn.running_var.numpy(), z.var(axis=0, ddof=1), rtol=1e-4)
    assert not first_bn.training


def test_same_seed_gives_identical_numbers_on_one_machine(tmp_path):
    small = ("--width", "32", "--depth", "4", "--batch", "16")
    first = run_quick(tmp_path / "a", *small)
    second = run_quick(tmp_path / "b", *small)
    for kind in ("relu", "linear", "shifted_relu", "bn", "bn_frozen"):
        assert first[kind] == second[kind]
