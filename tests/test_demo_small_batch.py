"""The small-batch demo: Wu & He's learning-rate rule and schedule, the layers of each normalization, test-time
batch statistics that leave the network as it was, and a quick run's record."""
import json

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import data, nn
from demos import common, small_batch


def test_learning_rate_is_0_1_at_batch_32_and_linear_in_the_batch():
    assert small_batch.learning_rate(0.1, 32) == pytest.approx(0.1)
    assert small_batch.learning_rate(0.1, 2) == pytest.approx(0.00625)
    assert small_batch.learning_rate(0.1, 64) == pytest.approx(0.2)


def test_learning_rate_drops_at_wu_and_hes_epochs_scaled():
    assert common.lr_drop_epochs(100) == [30, 60, 90]
    assert common.lr_drop_epochs(10) == [3, 6, 9]
    assert common.lr_drop_epochs(3) == [1, 2]           # 0.9 * 3 rounds to the last epoch: no drop after it


def test_renorm_warmup_reads_each_5000_of_ioffes_steps_as_one_epoch():
    warmup, paper = common.renorm_warmup(steps_per_epoch=100), nn.RenormWarmup()
    scaled = [step * 5000 // 100 for step in (warmup.bn_steps, warmup.rmax_steps, warmup.dmax_steps)]
    assert scaled == [paper.bn_steps, paper.rmax_steps, paper.dmax_steps] == [5000, 40000, 25000]


def test_iid_batches_cut_a_permutation_into_nearly_equal_batches():
    batches = common.iid_batches(10, 3, seed=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    assert sorted(len(b) for b in batches) == [3, 3, 4]


def test_each_normalization_builds_the_layer_of_its_architecture():
    for conv, bn, renorm in ((True, nn.BatchNorm2d, nn.BatchRenorm2d), (False, nn.BatchNorm1d, nn.BatchRenorm1d)):
        assert type(small_batch.normalization("bn", conv=conv)(8)) is bn
        layer = small_batch.normalization("batch_renorm", steps_per_epoch=7, conv=conv)(8)
        assert type(layer) is renorm and (layer.rmax, layer.dmax, layer.warmup.bn_steps) == (1.5, 0.5, 7)
    assert small_batch.normalization("plain") is None
    assert small_batch.normalization("group_norm", groups=4)(8).num_groups == 4


def test_layer_norm_normalises_each_samples_features():
    """At initialisation (gamma 1, beta 0): (x - mean) / sqrt(var + eps) over each row, by hand in float64."""
    x = np.random.default_rng(0).standard_normal((5, 8))
    ours = small_batch.normalization("layer_norm", conv=False)(8).double()(tg.tensor(x)).detach().numpy()
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    np.testing.assert_allclose(ours, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-10, atol=1e-12)


def test_every_residual_block_starts_with_its_last_gamma_at_zero():
    net = small_batch.resnet(small_batch.normalization("bn"), depth=8, width=4, classes=10)
    blocks = [block for stage in (net.layer1, net.layer2, net.layer3) for block in stage]
    assert len(blocks) == 3 and all(not block.bn2.weight.detach().numpy().any() for block in blocks)


def test_test_error_with_batch_statistics_leaves_the_running_statistics(device):
    tg.manual_seed(0)
    net = common.mlp(nn.BatchNorm1d, 6, 4, 1, 3).to(device)
    rng = np.random.default_rng(0)
    test = data.ArrayDataset(rng.standard_normal((12, 6)).astype(np.float32), rng.integers(0, 3, 12))
    before = [b.numpy().copy() for b in net.buffers()]
    error = small_batch.test_error(net, test, device, batch_statistics=4)
    assert 0 <= error <= 1 and net.training
    for saved, buffer in zip(before, net.buffers()):
        np.testing.assert_array_equal(saved, buffer.numpy())


def run(out, *flags):
    small_batch.main(["--no-progress", "--out", str(out), *flags])
    return json.loads((out / "small_batch.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("small_batch")
    return out, run(out, "--quick", "--normalizations", "plain", "bn")


def test_quick_run_writes_the_figure_and_the_documented_record(quick):
    out, record = quick
    assert (out / "small_batch.png").stat().st_size > 10_000
    assert record["batch_sizes"] == [2, 32] and record["normalizations"] == ["plain", "bn"]
    assert record["learning_rates"] == {"2": pytest.approx(0.00625), "32": pytest.approx(0.1)}
    assert record["steps_per_epoch"] == {str(b): record["dataset"]["train_size"] // b for b in (2, 32)}
    for name in ("plain", "bn"):
        assert len(record[name]["test_error"]) == len(record[name]["train_loss"]) == 2
        assert all(len(losses) == record["config"]["epochs"] for losses in record[name]["train_loss"])
    assert len(record["bn"]["test_error_batch_statistics"]) == 2
    assert "test_error_batch_statistics" not in record["plain"]


def test_same_seed_same_numbers(tmp_path):
    flags = ("--batch-sizes", "8", "--epochs", "1", "--train-size", "200", "--normalizations", "bn")
    first, second = run(tmp_path / "a", *flags), run(tmp_path / "b", *flags)
    assert first["bn"] == second["bn"]
    assert run(tmp_path / "c", *flags, "--seed", "1")["bn"]["train_loss"] != first["bn"]["train_loss"]


@pytest.mark.parametrize("flags, message", [
    (["--batch-sizes", "1", "--quick"], "at least 2"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--train-size", "5"], "holds no batch of 64"),
    (["--groups", "3"], "multiple of --groups"),
])
def test_bad_flags_are_refused_before_anything_runs(flags, message, capsys):
    with pytest.raises(SystemExit):
        small_batch.parse_args(flags)
    assert message in capsys.readouterr().err
