"""The learning-speed demo: both sources' setups, their measures, and the vanishing gradient with and without BN."""
import json

import numpy as np
import pytest

import tinygrad_bn as tg
from demos import learning_speed
from tinygrad_bn import data, nn

NOTEBOOK = ("plain", "plain_batch10", "bn")


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
    for key in ("config", "versions", "dataset", "epochs", "speed", "measure", *NOTEBOOK):
        assert key in results
    assert results["config"]["setup"] == "notebook" and results["measure"] == "weight_change"
    assert results["dataset"]["train_size"] == 300 and results["epochs"] == [1, 2, 3]
    for name in NOTEBOOK:
        record = results[name]
        assert len(record["weight_change"]) == len(record["bias_gradient"]) == 6
        assert all(len(curve) == 3 for curve in record["weight_change"] + record["bias_gradient"])
        assert len(record["train_accuracy"]) == 4
    assert (results["plain"]["batch_size"], results["plain"]["lr"]) == (1, 0.01)
    assert results["bn"]["batch_size"] == 10 and results["bn"]["lr"] == pytest.approx(0.1)


def test_quick_claims_hold(quick):
    assert all(learning_speed.quick_claims(quick[1]).values())


def test_keras_defaults_are_glorot_uniform_and_zero_bias():
    tg.manual_seed(0)
    dense = learning_speed.keras_dense(400, 200)
    limit = np.sqrt(6 / (400 + 200))
    w = dense.weight.detach().numpy()
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.03)          # uniform on [-limit, limit]
    assert not dense.bias.detach().numpy().any()


def test_nielsen_cross_entropy_is_network2s_cost():
    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((5, 4)) * 3, rng.integers(0, 4, 5)
    a, y = 1 / (1 + np.exp(-z)), np.eye(4)[labels]
    by_hand = np.mean(np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a), axis=1))   # CrossEntropyCost.fn
    cost = learning_speed.nielsen_cross_entropy(tg.tensor(z), tg.tensor(labels))
    assert cost.item() == pytest.approx(by_hand, rel=1e-10)


def test_nielsen_weight_decay_is_lambda_over_n_on_the_weights_only():
    nets = learning_speed.build_networks("nielsen", 8, 3)
    optimizer = learning_speed.optimizer_for(nets["plain"], 0.1, 5.0, 1000)
    decayed, free = optimizer.param_groups
    assert decayed["weight_decay"] == pytest.approx(0.005) and free["weight_decay"] == 0
    assert all(p.ndim == 2 for p in decayed["params"]) and all(p.ndim == 1 for p in free["params"])


def test_the_networks_start_from_the_same_weights():
    nets = learning_speed.build_networks("notebook", 8, 4)
    for plain, bn in zip(learning_speed.hidden_weights(nets["plain"]), learning_speed.hidden_weights(nets["bn"])):
        np.testing.assert_array_equal(plain.detach().numpy(), bn.detach().numpy())
    for plain, control in zip(nets["plain"].parameters(), nets["plain_batch10"].parameters()):
        np.testing.assert_array_equal(plain.detach().numpy(), control.detach().numpy())
    assert len(learning_speed.hidden_biases(nets["bn"])) == 6           # BN's beta stands for the bias
    assert all(isinstance(b, nn.Parameter) for b in learning_speed.hidden_biases(nets["plain"]))


def test_weight_change_is_the_frobenius_norm_of_one_epochs_update():
    net = learning_speed.build_networks("notebook", 8, 3)["plain"]
    rng = np.random.default_rng(0)
    dataset = data.ArrayDataset(rng.random((6, 8)).astype(np.float32), rng.integers(0, 3, 6))
    before = [w.detach().numpy().copy() for w in learning_speed.hidden_weights(net)]
    changes = learning_speed.train_epoch(net, learning_speed.optimizer_for(net, 0.5, 0.0, 6),
                                         data.DataLoader(dataset, 2, shuffle=True, seed=0), learning_speed.LOSSES["notebook"])
    after = [w.detach().numpy() for w in learning_speed.hidden_weights(net)]
    np.testing.assert_allclose(changes, [np.linalg.norm(a - b) for a, b in zip(after, before)], rtol=1e-5)


def test_bias_gradient_leaves_no_trace():
    net = learning_speed.build_networks("nielsen", 8, 3)["bn"]
    x, y = tg.rand(20, 8), tg.tensor(np.arange(20) % 3)
    saved = [t.detach().numpy().copy() for t in [*net.parameters(), *net.buffers()]]
    norms = learning_speed.bias_gradient_norms(net, learning_speed.nielsen_cross_entropy, x, y)
    assert len(norms) == 4 and all(n > 0 for n in norms)
    for tensor, array in zip([*net.parameters(), *net.buffers()], saved):
        np.testing.assert_array_equal(tensor.detach().numpy(), array)
    assert all(p.grad is None for p in net.parameters())


def test_nielsen_setup_quick_run(tmp_path):
    results = run(tmp_path, "--setup", "nielsen", "--epochs", "5")
    assert results["measure"] == "bias_gradient" and set(learning_speed.SETUPS["nielsen"]["networks"]) == {"plain", "bn"}
    assert (results["plain"]["batch_size"], results["plain"]["lr"]) == (300, 0.1)     # full batch
    gradient = np.array(results["plain"]["bias_gradient"])
    assert gradient.shape == (4, 5) and (gradient[-1] > 5 * gradient[0]).all()


def test_moving_average_is_trailing():
    np.testing.assert_allclose(learning_speed.moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])


def test_same_seed_gives_identical_numbers_on_one_machine(quick, tmp_path):
    _, first = quick
    second = run(tmp_path)
    for key in ("epochs", "dataset", *NOTEBOOK):
        assert first[key] == second[key]
