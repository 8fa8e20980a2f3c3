"""Optimizer.state_dict / load_state_dict: PyTorch's format, a resumed run that
is bit-for-bit the uninterrupted one, copies rather than shared arrays,
buffers cast to the parameters' dtype, and loads that fail changing nothing."""
import copy

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn, optim
from tinygrad_bn.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR


def make_model(device, seed):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)).to(device)


def groups(model):
    """Two groups, so that parameters are numbered across them."""
    first, *rest = list(model.parameters())
    return [{"params": [first], "lr": 0.02}, {"params": rest}]


def make_batches(device, count):
    rng = np.random.default_rng(0)
    return [(tg.tensor(rng.standard_normal((8, 3)), device=device, dtype=tg.float32),
             tg.tensor(rng.standard_normal((8, 2)), device=device, dtype=tg.float32)) for _ in range(count)]


def train(model, opt, scheduler, batches):
    for x, y in batches:
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


CONFIGS = {
    "SGD nesterov": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3), None),
    "SGD one-cycle": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1),
                      lambda o: OneCycleLR(o, max_lr=[0.05, 0.2], total_steps=12)),
    "Adam amsgrad": (lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=1e-2), None),
    "Adam cosine": (lambda ps: optim.Adam(ps, lr=0.01), lambda o: CosineAnnealingLR(o, T_max=5, eta_min=1e-3)),
    "AdamW amsgrad": (lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True), None),
    "RMSprop centered": (lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=1e-3),
                         None),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_a_resumed_run_is_the_uninterrupted_run_bit_for_bit(device, name):
    make_optimizer, make_scheduler = CONFIGS[name]
    schedule = make_scheduler or (lambda o: None)
    batches = make_batches(device, 12)

    model = make_model(device, seed=0)
    opt = make_optimizer(groups(model))
    train(model, opt, schedule(opt), batches)

    first = make_model(device, seed=0)
    opt1 = make_optimizer(groups(first))
    scheduler1 = schedule(opt1)
    train(first, opt1, scheduler1, batches[:7])
    saved = (first.state_dict(), opt1.state_dict(), scheduler1 and scheduler1.state_dict())

    second = make_model(device, seed=1)           # other initial weights, overwritten by the load
    second.load_state_dict(saved[0])
    opt2 = make_optimizer(groups(second))
    scheduler2 = schedule(opt2)                   # build the scheduler, then load the optimizer, then it
    opt2.load_state_dict(saved[1])
    if scheduler2 is not None:
        scheduler2.load_state_dict(saved[2])
    train(second, opt2, scheduler2, batches[7:])

    for a, b in zip(model.parameters(), second.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt.state_dict()["param_groups"] == opt2.state_dict()["param_groups"]


def stepped_adam(device, amsgrad=True):
    model = make_model(device, seed=0)
    opt = optim.Adam(groups(model), amsgrad=amsgrad)
    train(model, opt, None, make_batches(device, 2))
    return model, opt


def test_format_numbers_parameters_across_groups(device):
    model, opt = stepped_adam(device)
    params = list(model.parameters())
    params[-1].grad = None
    state_dict = opt.state_dict()
    assert set(state_dict) == {"state", "param_groups"}
    assert [g["params"] for g in state_dict["param_groups"]] == [[0], list(range(1, len(params)))]
    assert state_dict["param_groups"][0] == dict(lr=0.02, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                                                 amsgrad=True, decoupled_weight_decay=False, params=[0])
    assert list(state_dict["state"]) == list(range(len(params)))
    for index, p in enumerate(params):
        entry = state_dict["state"][index]
        assert sorted(entry) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"] and entry["step"] == 2
        assert entry["exp_avg"] is opt.state[p]["exp_avg"]        # shared, as in PyTorch


def test_only_parameters_with_state_appear(device):
    a, b = nn.Parameter(tg.ones(2, device=device)), nn.Parameter(tg.ones(3, device=device))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    b.grad = tg.ones(3, device=device)
    opt.step()
    assert list(opt.state_dict()["state"]) == [1]


def test_deepcopy_is_a_snapshot(device):
    model, opt = stepped_adam(device)
    snapshot = copy.deepcopy(opt.state_dict())
    before = snapshot["state"][0]["exp_avg"].numpy().copy()
    train(model, opt, None, make_batches(device, 1))
    np.testing.assert_array_equal(snapshot["state"][0]["exp_avg"].numpy(), before)
    assert snapshot["state"][0]["step"] == 2 and opt.state_dict()["state"][0]["step"] == 3


def test_load_copies_the_buffers(device):
    model, opt = stepped_adam(device)
    state_dict = opt.state_dict()
    fresh = optim.Adam(groups(model), amsgrad=True)
    fresh.load_state_dict(state_dict)
    p = next(iter(model.parameters()))
    loaded = fresh.state[p]["exp_avg"]
    assert loaded is not opt.state[p]["exp_avg"]
    kept = loaded.numpy().copy()
    state_dict["state"][0]["exp_avg"]._data[...] = 7.0            # the dict changes, the optimizer does not
    np.testing.assert_array_equal(loaded.numpy(), kept)
    dict_values = state_dict["state"][0]["exp_avg_sq"].numpy().copy()
    train(model, fresh, None, make_batches(device, 1))          # the optimizer changes, the dict does not
    np.testing.assert_array_equal(state_dict["state"][0]["exp_avg_sq"].numpy(), dict_values)
    assert state_dict["state"][0]["step"] == 2 and fresh.state[p]["step"] == 3


def test_buffers_take_the_parameters_dtype_and_device(device):
    _, opt = stepped_adam("cpu")                  # float32 state, on the CPU
    model = make_model(device, seed=0).double()
    fresh = optim.Adam(groups(model), amsgrad=True)
    fresh.load_state_dict(opt.state_dict())
    for p, saved in zip(model.parameters(), opt.state_dict()["state"].values()):
        state = fresh.state[p]
        assert state["step"] == 2 and type(state["step"]) is int
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert state[name].dtype == np.float64 and state[name].device == device
            np.testing.assert_array_equal(state[name].numpy(), saved[name].numpy().astype(np.float64))
    train(model, fresh, None, [(x.double(), y.double()) for x, y in make_batches(device, 1)])


def test_a_step_count_may_be_a_one_element_tensor_or_a_whole_float(device):
    model, opt = stepped_adam(device)
    state_dict = opt.state_dict()
    state_dict["state"][0]["step"] = tg.tensor(2.0, device=device)
    state_dict["state"][1]["step"] = 2.0
    fresh = optim.Adam(groups(model), amsgrad=True)
    fresh.load_state_dict(state_dict)
    assert [s["step"] for s in fresh.state.values()][:2] == [2, 2]
    assert all(type(s["step"]) is int for s in fresh.state.values())


def snapshot(opt):
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    state = {id(p): {k: v.numpy().copy() if isinstance(v, tg.Tensor) else v for k, v in s.items()}
             for p, s in opt.state.items()}
    return copy.deepcopy(groups), state


def assert_same(a, b):
    assert a[0] == b[0] and a[1].keys() == b[1].keys()
    for x, y in zip(a[1].values(), b[1].values()):
        assert x.keys() == y.keys()
        for k in x:
            np.testing.assert_array_equal(x[k], y[k])


def corrupt(change):
    def edit(state_dict):
        state_dict["param_groups"][0]["lr"] = 0.5       # a valid change early on, which must not be applied
        change(state_dict)
    return edit


def last(state_dict):
    return state_dict["state"][max(state_dict["state"])]


BAD_LOADS = [
    (corrupt(lambda d: d["param_groups"].pop()), "different number of parameter groups: 1, expected 2"),
    (corrupt(lambda d: d["param_groups"][1]["params"].pop()), "group 1 has 4 parameters, expected 5"),
    (corrupt(lambda d: d["param_groups"][1].pop("betas")), r"group 1 lacks the hyper-parameter\(s\) \['betas'\]"),
    (corrupt(lambda d: d["param_groups"][1].update(eps=-1.0)), "Invalid epsilon value: -1.0"),
    (corrupt(lambda d: last(d).update(momentum_buffer=last(d)["exp_avg"])), r"unknown entries \['momentum_buffer'\]"),
    (corrupt(lambda d: last(d).pop("exp_avg_sq")), r"state of parameter 5: lacks \['exp_avg_sq'\]"),
    (corrupt(lambda d: last(d).update(exp_avg=tg.zeros(7))), r"'exp_avg' has shape \(7,\); expected .* \(2,\)"),
    (corrupt(lambda d: last(d).update(exp_avg=last(d)["exp_avg"].numpy())), "expected a real Tensor of shape"),
    (corrupt(lambda d: last(d).update(step=-1)), "'step' is -1; expected a whole number >= 0"),
    (corrupt(lambda d: last(d).update(step=2.5)), "'step' is 2.5"),
    (corrupt(lambda d: last(d).update(step=True)), "'step' is True"),
    (corrupt(lambda d: d["state"].update({9: {}})), "state for parameter 9, which no saved group lists"),
    (corrupt(lambda d: d["param_groups"][1]["params"].__setitem__(0, 0)), "index appears twice"),
    (corrupt(lambda d: d.pop("state")), "expected a dict with the keys 'state' and 'param_groups'"),
]


@pytest.mark.parametrize("edit, message", BAD_LOADS)
def test_a_failed_load_changes_nothing(device, edit, message):
    _, source = stepped_adam(device)
    state_dict = copy.deepcopy(source.state_dict())
    edit(state_dict)
    model, opt = stepped_adam(device)
    before = snapshot(opt)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state_dict)
    assert_same(snapshot(opt), before)


def test_another_optimizers_state_is_refused(device):
    model = make_model(device, seed=0)
    sgd = optim.SGD(groups(model), lr=0.1, momentum=0.9)
    train(model, sgd, None, make_batches(device, 1))
    adam = optim.Adam(groups(model))
    with pytest.raises(ValueError, match=r"lacks the hyper-parameter\(s\) \['betas', 'eps', 'amsgrad'"):
        adam.load_state_dict(sgd.state_dict())
    assert adam.state == {}
