"""The learning-speed demo: quick mode writes its files and shows the vanishing gradient and BN's fix."""
import json

import numpy as np
import pytest

from demos import learning_speed
from tinygrad_bn import data, optim

NETWORKS = ("plain", "plain_batch10", "bn")


def run(out, *extra):
    learning_speed.main(["--quick", "--no-progress", "--dataset", "digits", "--out", str(out), *extra])
    return json.loads((out / "learning_speed.json").read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("learning_speed")
    return out, run(out)


def test_quick_run_writes_figure_and_documented_json(quick):
    out, results = quick
    assert (out / "learning_speed.png").stat().st_size > 10_000
    for key in ("config", "versions", "dataset", "epochs", "speed", *NETWORKS):
        assert key in results
    assert results["dataset"]["name"] == "digits" and results["dataset"]["train_size"] == 300
    assert results["epochs"] == [1, 2, 3]
    for name in NETWORKS:
        record = results[name]
        assert len(record["weight_change"]) == len(record["gradient_norm"]) == results["config"]["depth"]
        assert all(len(curve) == 3 for curve in record["weight_change"] + record["gradient_norm"])
        assert len(record["train_accuracy"]) == 4
    assert (results["plain"]["batch_size"], results["plain"]["lr"]) == (1, 0.01)
    assert results["bn"]["batch_size"] == 10 and results["bn"]["lr"] == pytest.approx(0.1)


def test_without_bn_the_last_hidden_layer_learns_far_faster_than_the_first(quick):
    _, results = quick
    for name in ("plain", "plain_batch10"):
        change = np.array(results[name]["weight_change"])
        assert (change[-1] > 10 * change[0]).all()
        gradient = np.array(results[name]["gradient_norm"])
        assert (gradient[-1] > 10 * gradient[0]).all()


def test_with_bn_the_gap_between_first_and_last_layer_shrinks(quick):
    _, results = quick
    assert results["bn"]["mean_last_over_first"] < results["plain_batch10"]["mean_last_over_first"] / 10
    assert results["bn"]["train_accuracy"][-1] > results["plain_batch10"]["train_accuracy"][-1]


def test_the_networks_start_from_the_same_weights():
    nets = learning_speed.build_networks(8, 5, 3, 4)
    for plain, bn in zip(learning_speed.hidden_weights(nets["plain"]), learning_speed.hidden_weights(nets["bn"])):
        np.testing.assert_array_equal(plain.data, bn.data)
    for plain, control in zip(nets["plain"].parameters(), nets["plain_batch10"].parameters()):
        np.testing.assert_array_equal(plain.data, control.data)


def test_weight_change_is_the_frobenius_norm_of_one_epochs_update():
    nets = learning_speed.build_networks(8, 5, 2, 3)
    net = nets["plain"]
    rng = np.random.default_rng(0)
    dataset = data.ArrayDataset(rng.random((6, 8)).astype(np.float32), rng.integers(0, 3, 6))
    before = [w.data.copy() for w in learning_speed.hidden_weights(net)]
    changes, _ = learning_speed.train_epoch(net, optim.SGD(net.parameters(), lr=0.5),
                                            data.DataLoader(dataset, 2, seed=0))
    after = [w.data for w in learning_speed.hidden_weights(net)]
    np.testing.assert_allclose(changes, [np.linalg.norm(a - b) for a, b in zip(after, before)], rtol=1e-5)


def test_bn_batch_size_one_is_refused():
    with pytest.raises(SystemExit):
        learning_speed.parse_args(["--bn-batch-size", "1"])


def test_same_seed_gives_identical_numbers(quick, tmp_path):
    _, first = quick
    second = run(tmp_path)
    for key in ("epochs", "dataset", *NETWORKS):
        assert first[key] == second[key]
