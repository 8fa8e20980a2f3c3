"""The train/eval gap demo: train mode normalises with each batch's own statistics (checked by hand), the
non-i.i.d. sampler draws exactly the classes and counts it states, the momentum of the running averages
never changes training, the measurements vanish where they must, and a run's record is reproducible."""
import json

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import data, nn
from demos import common, train_eval_gap


def small_set(rows=12, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return data.ArrayDataset(rng.standard_normal((rows, features)).astype(np.float32),
                             np.arange(rows) % classes)


def one_layer_bn_net(seed=0, device="cpu"):
    """Linear(6, 4, no bias) -> BatchNorm1d(4) with random gamma, beta and running statistics -> ReLU -> Linear."""
    tg.manual_seed(seed)
    net = common.mlp(nn.BatchNorm1d, 6, 4, 1, 3).to(device)
    rng = np.random.default_rng(seed)
    bn = train_eval_gap.bn_layers(net)[0]
    with tg.no_grad():
        for tensor, values in ((bn.weight, rng.uniform(0.5, 2, 4)), (bn.bias, rng.standard_normal(4)),
                               (bn.running_mean, rng.standard_normal(4)), (bn.running_var, rng.uniform(0.5, 2, 4))):
            tensor.copy_(tg.tensor(values.astype(np.float32)))
    return net


def by_hand(net, x, mean=None, var=None):
    """The one-layer net's logits in NumPy, normalised with (mean, var), or with x's batch mean and biased
    variance when they are None."""
    first, bn, _, last = net
    h = x @ first.weight.detach().numpy().T
    if mean is None:
        mean, var = h.mean(axis=0), h.var(axis=0)
    y = bn.weight.detach().numpy() * (h - mean) / np.sqrt(var + bn.eps) + bn.bias.detach().numpy()
    return np.maximum(y, 0) @ last.weight.detach().numpy().T + last.bias.detach().numpy()


def test_train_mode_on_a_test_batch_normalises_with_that_batchs_statistics(device):
    net, test = one_layer_bn_net(device=device), small_set()
    batches = [np.array([0, 3, 5, 7]), np.array([1, 2, 4, 6, 8])]
    before = [b.numpy().copy() for b in net.buffers()]
    rows, logits = common.batch_logits(net, test, device, batches)
    assert rows.tolist() == [0, 3, 5, 7, 1, 2, 4, 6, 8]
    expected = np.concatenate([by_hand(net, test.images[b]) for b in batches])
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)
    for saved, buffer in zip(before, net.buffers()):          # the running statistics saw nothing
        np.testing.assert_array_equal(saved, buffer.numpy())


def test_eval_mode_normalises_with_the_running_statistics():
    net, test = one_layer_bn_net(), small_set()
    bn = train_eval_gap.bn_layers(net)[0]
    rows, logits = common.batch_logits(net, test, "cpu")
    expected = by_hand(net, test.images, bn.running_mean.numpy(), bn.running_var.numpy())
    assert rows.tolist() == list(range(12)) and net.training
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


def test_output_gap_vanishes_when_the_running_statistics_are_the_batchs():
    net, test = one_layer_bn_net(), small_set()
    bn = train_eval_gap.bn_layers(net)[0]
    h = test.images @ net[0].weight.detach().numpy().T
    with tg.no_grad():
        bn.running_mean.copy_(tg.tensor(h.mean(axis=0)))
        bn.running_var.copy_(tg.tensor(h.var(axis=0)))
    _, disagreement, gap = train_eval_gap.output_gap(net, test, "cpu", batch_size=12, seed=0)
    assert disagreement == 0 and gap < 1e-5
    _, _, small_batch_gap = train_eval_gap.output_gap(net, test, "cpu", batch_size=2, seed=0)
    assert small_batch_gap > 0.01


@pytest.mark.parametrize("classes_per_batch, per_class", [(2, 8), (3, 2), (1, 5)])
def test_few_class_batches_hold_exactly_k_classes_m_images_each(classes_per_batch, per_class):
    labels = np.repeat(np.arange(10), 9)
    batches = train_eval_gap.few_class_batches(labels, classes_per_batch, per_class, 200, np.random.default_rng(0))
    assert len(batches) == 200
    for rows in batches:
        classes, counts = np.unique(labels[rows], return_counts=True)
        assert len(classes) == classes_per_batch and set(counts) == {per_class}
        assert len(set(rows.tolist())) == len(rows)                  # no image twice in a batch
    assert set(np.concatenate(batches).tolist()) == set(range(90))    # and over many batches, every image


def test_the_momentum_of_the_running_averages_never_changes_training():
    args = train_eval_gap.parse_args(["--hidden", "8", "--no-progress"])
    train_set = small_set(rows=64, features=64, classes=10)
    weights, averages = [], []
    for momentum in (0.01, 0.9):
        tg.manual_seed(0)
        net = train_eval_gap.bn_network(args, momentum)
        common.train(net, train_eval_gap.iid_training(train_set, 16, 0, "cpu"), 0.1, 2, 0.9, 1e-4)
        weights.append([p.detach().numpy().copy() for p in net.parameters()])
        averages.append(train_eval_gap.running_stats(net)[0])
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)
    assert not np.allclose(*averages)


def test_population_comparison_measures_zero_distance_from_algorithm_2_itself(device):
    tg.manual_seed(0)
    net = common.mlp(nn.BatchNorm1d, 6, 4, 2, 3).to(device)
    train_set, test_set = small_set(rows=64, seed=1), small_set(seed=2)
    batches = [tg.tensor(train_set.images[rows], device=device) for rows in common.iid_batches(64, 8, 0)]
    nn.recompute_population_stats(net, batches)
    before = train_eval_gap.running_stats(net)
    comparison = train_eval_gap.population_comparison(net, train_set, test_set, 8, 0, device)
    assert comparison["mean_distance"] < 1e-6 and comparison["log_var_ratio"] < 1e-6
    assert comparison["ema_accuracy"] == comparison["population_accuracy"]
    for saved, now in zip(before, train_eval_gap.running_stats(net)):
        np.testing.assert_array_equal(saved, now)


def run(out, *flags):
    train_eval_gap.main(["--no-progress", "--out", str(out), *flags])
    return json.loads((out / "train_eval_gap.json").read_text())


SMALL = ("--epochs", "2", "--repeats", "1", "--momenta", "0.01", "0.1", "--test-batch-sizes", "2", "360")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("train_eval_gap")
    return out, run(out, *SMALL)


def test_run_writes_the_figure_and_the_documented_record(small):
    out, record = small
    assert (out / "train_eval_gap.png").stat().st_size > 10_000
    gap, momentum, non_iid = record["batch_size_gap"], record["momentum"], record["non_iid"]
    for key in ("train_mode_accuracy", "disagreement", "relative_logit_gap"):
        assert len(gap[key]) == 2
    for key in ("ema_accuracy", "population_accuracy", "mean_distance", "log_var_ratio", "train_loss"):
        assert len(momentum[key]) == 2
    assert non_iid["batch_size"] == 16 and non_iid["steps_per_epoch"] == record["dataset"]["train_size"] // 16
    for name in train_eval_gap.NON_IID_NETWORKS:
        assert np.shape(non_iid[name]["eval_accuracy"]) == (1, 2)
        assert len(non_iid[name]["same_structure_accuracy"]) == 1
    assert set(train_eval_gap.headline(record)) >= {"eval-mode test accuracy %"}


def test_same_seed_same_numbers(small, tmp_path):
    first, second = small[1], run(tmp_path / "b", *SMALL)
    for key in ("batch_size_gap", "momentum", "non_iid"):
        assert first[key] == second[key]
    assert run(tmp_path / "c", *SMALL, "--seed", "1")["non_iid"] != first["non_iid"]


def test_momenta_must_include_the_one_of_experiment_a():
    with pytest.raises(SystemExit):
        train_eval_gap.parse_args(["--momenta", "0.5"])


@pytest.mark.parametrize("flags, message", [
    (["--batch-size", "1"], "--batch-size must be at least 2"),
    (["--momenta", "0.1", "1.5", "--quick"], "must lie in (0, 1]"),
    (["--classes-per-batch", "11"], "at most the digits' 10 classes"),
    (["--classes-per-batch", "1", "--per-class", "1"], "at least 2 images"),
    (["--lr", "0"], "--lr must be positive"),
])
def test_bad_flags_are_refused_before_anything_runs(flags, message, capsys):
    with pytest.raises(SystemExit):
        train_eval_gap.parse_args(flags)
    assert message in capsys.readouterr().err


def test_more_images_per_class_than_the_smallest_class_has_is_named():
    labels = np.array([0] * 5 + [1] * 3)
    with pytest.raises(ValueError, match="smallest class of the training set has 3 images"):
        train_eval_gap.few_class_batches(labels, 2, 4, 1, np.random.default_rng(0))
