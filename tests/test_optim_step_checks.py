"""A step checks every parameter of every group before it writes: a gradient of
the wrong dtype, shape or device, a parameter of a dtype the rule is not
written for, state that no longer fits its parameter, or an invalid
hyper-parameter raises an error naming the parameter, and no parameter or
state changes.  Inf and NaN are not errors, as in PyTorch."""
import copy

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim

OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "Adam": lambda ps: optim.Adam(ps, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps),
    "RMSprop": lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
}


def two_groups(device, make):
    """Two groups of two float32 parameters, after one step (so that every parameter has state)."""
    params = [nn.Parameter(tg.randn(*shape, device=device)) for shape in [(2, 3), (3,), (4,), (2, 2)]]
    opt = make([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}])
    for p in params:
        p.grad = tg.randn(*p.shape, device=device)
    opt.step()
    for p in params:
        p.grad = tg.randn(*p.shape, device=device)
    return params, opt


def snapshot(params, opt):
    values = [p.detach().numpy().copy() for p in params]
    state = {id(p): {k: v.numpy().copy() if isinstance(v, tg.Tensor) else v for k, v in s.items()}
             for p, s in opt.state.items()}
    return values, state, copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])


def assert_unchanged(before, after):
    for a, b in zip(before[0], after[0]):
        np.testing.assert_array_equal(a, b)
    assert before[1].keys() == after[1].keys()
    for a, b in zip(before[1].values(), after[1].values()):
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    assert before[2] == after[2]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_gradient_of_another_dtype_is_refused_before_anything_changes(device, name):
    """(Assigning such a gradient already raises, as in torch; a parameter cast after backward does not.)"""
    params, opt = two_groups(device, OPTIMIZERS[name])
    params[3]._data = params[3]._data.astype(tg.float64)   # the parameter was cast after backward
    before = snapshot(params, opt)
    with pytest.raises(RuntimeError, match=rf"{name}.step: parameter 1 of group 1 \(float64 \(2, 2\) on {device}\) "
                                           rf"has a gradient that is float32 \(2, 2\) on {device}; expected the "
                                           "parameter's shape, dtype and device; no parameter was changed"):
        opt.step()
    assert_unchanged(before, snapshot(params, opt))
    params[3]._data = params[3]._data.astype(tg.float32)   # fixed, the step goes through
    opt.step()
    assert all((a != p.detach().numpy()).all() for a, p in zip(before[0], params))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_gradient_of_another_shape_is_refused(device, name):
    params, opt = two_groups(device, OPTIMIZERS[name])
    params[3]._data = params[3].xp.zeros((4, 1), dtype=params[3].dtype)    # the parameter changed shape after backward
    before = snapshot(params, opt)
    with pytest.raises(RuntimeError, match=r"parameter 1 of group 1 \(float32 \(4, 1\)"):
        opt.step()
    assert_unchanged(before, snapshot(params, opt))


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "SGD"])
def test_state_that_no_longer_fits_is_refused_and_reloading_moves_it(device, name):
    params, opt = two_groups(device, OPTIMIZERS[name])
    for p in params[2:]:                                   # group 1 cast after the first step
        p._data = p._data.astype(np.float64)
        p.grad = tg.randn(*p.shape, device=device, dtype=tg.float64)
    before = snapshot(params, opt)
    with pytest.raises(RuntimeError, match=r"parameter 0 of group 1 \(float64 \(4,\) on .*\) has state '\w+' "
                                           r"that is float32 \(4,\).*load_state_dict\(optimizer.state_dict\(\)\)"):
        opt.step()
    assert_unchanged(before, snapshot(params, opt))
    opt.load_state_dict(opt.state_dict())
    opt.step()
    assert all(v.dtype == np.float64 for p in params[2:] for v in opt.state[p].values() if isinstance(v, tg.Tensor))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_integer_parameter_is_refused(device, name):
    params, opt = two_groups(device, OPTIMIZERS[name])
    counter = tg.tensor([1, 2], device=device)
    counter.grad = tg.tensor([1, 1], device=device)
    opt.add_param_group({"params": [counter]})
    before = snapshot(params, opt)
    with pytest.raises(RuntimeError, match=r"parameter 0 of group 2 \(int64 \(2,\) .*expected a real floating"):
        opt.step()
    assert_unchanged(before, snapshot(params, opt))
    assert counter.tolist() == [1, 2]


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_complex_parameters_are_refused_where_the_rule_squares_the_gradient(device, name):
    params, opt = two_groups(device, OPTIMIZERS[name])
    z = tg.tensor(np.array([1 + 1j]), device=device)
    z.grad = tg.tensor(np.array([1j]), device=device)
    opt.add_param_group({"params": [z]})
    before = snapshot(params, opt)
    with pytest.raises(RuntimeError, match="complex128"):
        opt.step()
    assert_unchanged(before, snapshot(params, opt))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_invalid_hyper_parameter_set_after_construction_is_refused(device, name):
    params, opt = two_groups(device, OPTIMIZERS[name])
    opt.param_groups[1]["lr"] = -0.5
    before = snapshot(params, opt)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        opt.step()
    assert_unchanged(before, snapshot(params, opt))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_overflow_gives_inf_silently_even_when_numpy_is_told_to_raise(device, name):
    params, opt = two_groups(device, OPTIMIZERS[name])
    params[0].grad = tg.full((2, 3), 3e38, device=device)            # squares (Adam, RMSprop) and sums overflow
    params[0]._data[...] = 3e38
    opt.param_groups[0]["lr"] = 1e30
    with np.errstate(all="raise"):
        opt.step()
    assert not np.isfinite(params[0].detach().numpy()).any()
    assert np.isfinite(params[1].detach().numpy()).all()             # the other parameters took a normal step
