"""The gradient-histogram demo: its statistics, its networks, and heavy-tailed gradients without BN."""
import json

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from demos import common
from demos import gradient_histograms as demo


def run_quick(out, *extra):
    demo.main(["--quick", "--no-progress", "--out", str(out), *extra])
    return json.loads((out / "gradient_histograms.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The fully connected networks' quick run."""
    out = tmp_path_factory.mktemp("gradients")
    return out, run_quick(out, "--arch", "fc")


@pytest.fixture(scope="module")
def quick_resnet(tmp_path_factory):
    """The default architecture's quick run (ResNet-14) on 64 digits as 1x8x8 images."""
    out = tmp_path_factory.mktemp("gradients_resnet")
    return out, run_quick(out, "--dataset", "digits")


def test_kurtosis_of_known_distributions():
    rng = np.random.default_rng(0)
    assert demo.kurtosis(rng.standard_normal(400_000)) == pytest.approx(3.0, abs=0.05)
    assert demo.kurtosis(rng.laplace(size=400_000)) == pytest.approx(6.0, abs=0.2)
    assert demo.kurtosis(rng.uniform(-1, 1, 400_000)) == pytest.approx(1.8, abs=0.02)


def test_gradient_statistics_by_hand():
    stats = demo.gradient_statistics(np.array([0.0, 0.0, 0.0, 2.0, -2.0, np.inf]))
    assert stats["nonfinite"] == 1 and stats["zero_fraction"] == pytest.approx(0.6)
    assert stats["median_abs"] == 0 and stats["p99_over_median_abs"] is None
    assert stats["mean_abs"] == pytest.approx(0.8) and stats["max_abs"] == 2.0
    # x in {0,0,0,2,-2}: mean 0, E[x^2] = 8/5, E[x^4] = 32/5, kurtosis = (32/5) / (8/5)^2 = 2.5
    assert stats["kurtosis"] == pytest.approx(2.5)
    assert sum(stats["histogram"]["counts"]) == 5


def test_magnitude_histogram_spans_the_nonzero_magnitudes_on_log_bins():
    stats = demo.gradient_statistics(np.array([0.0, 1e-6, -1e-3, 1.0, 2.0, -1e4]))
    counts, edges = np.array(stats["magnitude_histogram"]["counts"]), np.array(stats["magnitude_histogram"]["edges"])
    assert counts.sum() == 5                                         # the exact zero is left out
    assert edges[0] == pytest.approx(1e-6) and edges[-1] == pytest.approx(1e4)
    np.testing.assert_allclose(np.diff(np.log(edges)), np.log(1e10) / demo.BINS, rtol=1e-6)   # equal in log |g|
    assert counts[0] == 1 and counts[-1] == 1


def test_bn_weight_gradient_is_orthogonal_to_each_weight_row(device):
    """BN makes the loss invariant to the scale of each row of the weight before it, so <dL/dw_i, w_i> = 0."""
    tg.manual_seed(0)
    nets = {name: demo.build_network("feedforward", 8, 16, 3, 6, name == "bn", device) for name in ("plain", "bn")}
    demo.initialise_twins(nets["plain"], nets["bn"])
    x, y = tg.randn(32, 8, device=device), tg.tensor(np.random.default_rng(0).integers(0, 3, 32), device=device)
    F.cross_entropy(nets["bn"](x), y).backward()
    dense = demo.dense_layers(nets["bn"])[2]
    w, g = dense.weight.detach().numpy().astype(np.float64), dense.weight.grad.numpy().astype(np.float64)
    cosines = np.sum(w * g, axis=1) / (np.linalg.norm(w, axis=1) * np.linalg.norm(g, axis=1))
    assert np.all(np.abs(cosines) < 1e-3)
    for a, b in zip(demo.dense_layers(nets["plain"]), demo.dense_layers(nets["bn"])):   # twins start equal
        assert np.array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "gradient_histograms.png").stat().st_size > 20_000
    assert (results["config"]["depth"], results["config"]["width"], results["config"]["batch"]) == (30, 64, 64)
    for architecture in ("feedforward", "residual"):
        record = results[architecture]
        assert record["weight_layers"] == 30 and record["middle_layer"] == 15
        for name in ("plain", "bn"):
            stats = record[name]["middle_layer_gradient"]
            assert stats["size"] == 64 * 64 and stats["nonfinite"] == 0
            assert len(record[name]["gradient_norm_per_layer"]) == 30
            for key in ("std", "kurtosis", "p99_over_mean_abs", "zero_fraction"):
                assert stats[key] is not None


def test_gradients_without_bn_are_heavy_tailed(quick):
    assert all(demo.quick_claims(quick[1]).values())


def test_kurtosis_text_names_both_kurtoses():
    text = demo.kurtosis_text({"kurtosis": 35.3, "kurtosis_nonzero": 12.2})
    assert "35.3 (all entries)" in text and "12.2 (nonzero only)" in text


def test_the_residual_network_without_bn_has_far_larger_gradients(quick):
    record = quick[1]["residual"]
    assert record["plain"]["middle_layer_gradient"]["std"] > 100 * record["bn"]["middle_layer_gradient"]["std"]


def test_same_seed_gives_identical_numbers_on_one_machine(quick):
    again = json.loads(json.dumps(demo.run(demo.parse_args(["--quick", "--no-progress", "--arch", "fc"]))))
    for architecture in ("feedforward", "residual"):
        assert again[architecture] == quick[1][architecture]


# ---------------------------------------------------------------------- the ResNet (the default)
def test_resnet_quick_run_writes_figure_and_documented_json(quick_resnet):
    out, results = quick_resnet
    assert (out / "gradient_histograms.png").stat().st_size > 20_000
    assert (results["config"]["arch"], results["config"]["depth"], results["config"]["batch"]) == ("resnet110", 14, 64)
    assert results["dataset"]["name"] == "digits" and results["dataset"]["image_shape"] == [1, 8, 8]
    record = results["resnet"]
    # ResNet-14: conv1, 2 x 2 x 3 block convolutions, fc; the midpoint is layer 3n + 1 = 7, the second conv of
    # the first block of stage 2 (32 -> 32 channels, 3x3)
    assert (record["weight_layers"], record["middle_layer"], record["middle_layer_name"]) == (14, 7, "layer2.0.conv2")
    for name in ("plain", "bn"):
        stats = record[name]["middle_layer_gradient"]
        assert stats["size"] == 32 * 32 * 3 * 3 and stats["nonfinite"] == 0
        assert len(record[name]["gradient_norm_per_layer"]) == 14
        for key in ("median_abs", "p99_abs", "kurtosis", "p99_over_median_abs", "zero_fraction"):
            assert stats[key] is not None
    for key in ("median_abs_ratio_plain_over_bn", "p99_abs_ratio_plain_over_bn", "kurtosis_plain", "kurtosis_bn"):
        assert results["claims"]["resnet"][key] is not None


def test_resnet_gradients_without_bn_are_heavy_tailed(quick_resnet):
    assert all(demo.quick_claims(quick_resnet[1]).values())


def test_resnet_twins_share_weights_and_bn_makes_each_filter_gradient_orthogonal_to_it():
    """With BN after a convolution the loss does not change when one filter W_o is scaled, so the
    gradient of each filter is orthogonal to it: <dL/dW_o, W_o> = 0 (Ioffe & Szegedy, section 3.3)."""
    tg.manual_seed(0)
    nets = common.twin_resnets(8, 4, 1, 3)
    plain, bn = ([m.weight.detach().numpy() for _, m in net.weighted_layers()] for net in nets.values())
    assert all(np.array_equal(a, b) for a, b in zip(plain, bn))
    x, y = tg.randn(16, 1, 8, 8), tg.tensor(np.random.default_rng(0).integers(0, 3, 16))
    F.cross_entropy(nets["bn"](x), y).backward()
    conv = nets["bn"].midpoint_layer()[1]
    w = conv.weight.detach().numpy().astype(np.float64).reshape(conv.out_channels, -1)
    g = conv.weight.grad.numpy().astype(np.float64).reshape(conv.out_channels, -1)
    cosines = np.sum(w * g, axis=1) / (np.linalg.norm(w, axis=1) * np.linalg.norm(g, axis=1))
    assert np.all(np.abs(cosines) < 1e-3)


def test_resnet_depth_must_be_6n_plus_2():
    with pytest.raises(SystemExit):
        demo.parse_args(["--depth", "100"])
    with pytest.raises(SystemExit):
        demo.parse_args(["--arch", "fc", "--dataset", "cifar10"])       # the FC networks run on the digits
    assert (demo.parse_args([]).depth, demo.parse_args([]).batch, demo.parse_args([]).width) == (110, 128, 16)

