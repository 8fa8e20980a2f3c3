"""BatchNorm1d as a layer: construction, modes, errors, state_dict, and
recompute_population_stats (Algorithm 2) against a NumPy computation."""
import numpy as np
import pytest
from hypothesis import given

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing.bn_cases import numpy_normalize
from tinygrad_bn.testing.bn_properties import check_population_statistics, population_cases


def test_defaults_as_pytorch():
    bn = nn.BatchNorm1d(3)
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert np.array_equal(bn.weight.detach().numpy(), np.ones(3)) and bn.weight.requires_grad
    assert np.array_equal(bn.bias.detach().numpy(), np.zeros(3))
    assert np.array_equal(bn.running_mean.numpy(), np.zeros(3)) and not bn.running_mean.requires_grad
    assert np.array_equal(bn.running_var.numpy(), np.ones(3))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert repr(bn) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def test_state_dict_holds_running_statistics():
    bn = nn.BatchNorm1d(4, momentum=None)
    bn(tg.randn(8, 4))
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"].item() == 1
    fresh = nn.BatchNorm1d(4, momentum=None)
    fresh.load_state_dict(state)
    x = tg.randn(5, 4)
    assert np.array_equal(fresh.eval()(x).detach().numpy(), bn.eval()(x).detach().numpy())
    assert fresh.num_batches_tracked.item() == 1


def test_affine_off_has_no_parameters():
    bn = nn.BatchNorm1d(2, affine=False)
    assert bn.weight is None and bn.bias is None and list(bn.parameters()) == []
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    expected, _ = numpy_normalize(x)
    np.testing.assert_allclose(bn(tg.tensor(x, dtype=tg.float64)).numpy(), expected, rtol=1e-12)


def test_without_running_statistics_eval_uses_the_batch():
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == ["weight", "bias"]
    x = tg.randn(6, 3, 2)
    trained = bn(x).detach().numpy()
    assert np.array_equal(bn.eval()(x).detach().numpy(), trained)
    np.testing.assert_allclose(trained, numpy_normalize(x.numpy().astype(np.float64))[0], atol=1e-5)


def test_reset_parameters_and_running_stats():
    bn = nn.BatchNorm1d(3)
    bn.weight.data[...] = 5
    bn(tg.randn(4, 3) * 3 + 2)
    bn.reset_parameters()
    assert np.array_equal(bn.weight.detach().numpy(), np.ones(3))
    assert np.array_equal(bn.running_mean.numpy(), np.zeros(3)) and np.array_equal(bn.running_var.numpy(), np.ones(3))
    assert bn.num_batches_tracked.item() == 0


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1)])
def test_one_value_per_channel_in_training_is_an_error(shape):
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, "
                                         r"got input size \(1, 3"):
        bn(tg.zeros(*shape))
    assert bn.num_batches_tracked.item() == 0          # nothing was counted
    bn.eval()(tg.zeros(*shape))                        # eval mode takes a single sample


def test_wrong_channel_count_names_expected_and_got():
    with pytest.raises(ValueError, match=r"expected an input with 4 channels.*got input of shape \(2, 3\)"):
        nn.BatchNorm1d(4)(tg.zeros(2, 3))
    with pytest.raises(ValueError, match="weight"):
        F.batch_norm(tg.zeros(2, 3), None, None, tg.ones(4), None, training=True)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4, 5)])
def test_wrong_ndim_is_an_error(shape):
    with pytest.raises(ValueError, match=rf"expected a 2D \(N, C\) or 3D \(N, C, L\) input, got {len(shape)}D"):
        nn.BatchNorm1d(3)(tg.zeros(*shape))


def test_eval_mode_backward_through_the_module():
    bn = nn.BatchNorm1d(3).double()
    bn(tg.randn(10, 3, dtype=tg.float64) * 2 + 1)
    bn.eval()
    x = tg.randn(4, 3, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: F.batch_norm(x, bn.running_mean, bn.running_var, w, b), (x, bn.weight, bn.bias))
    bn(x).backward(tg.ones(4, 3, dtype=tg.float64))
    scale = 1 / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(scale, (4, 3)), rtol=1e-12)


@given(population_cases())
def test_recompute_population_stats_is_algorithm_2(arguments):
    check_population_statistics(nn.recompute_population_stats, **arguments)


def test_recompute_population_stats_changes_nothing_on_error():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    model(tg.randn(5, 3))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    for batches in ([], [tg.randn(4, 3), tg.randn(1, 3)]):
        with pytest.raises(ValueError):
            nn.recompute_population_stats(model, batches)
        for k, v in model.state_dict().items():
            assert np.array_equal(v.numpy(), before[k]), k
        assert model[1].momentum == 0.1
