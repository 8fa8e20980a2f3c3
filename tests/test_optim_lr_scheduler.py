"""Learning-rate schedules against their closed forms and hand-computed
sequences (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR,
OneCycleLR with its momentum cycle, ReduceLROnPlateau), their state_dict
round trips, and their errors."""
import bisect
import copy
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.optim.lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR, MultiStepLR, OneCycleLR,
                                            ReduceLROnPlateau, StepLR)


def sgd(device, lrs=(0.1,), **kwargs):
    return optim.SGD([{"params": [nn.Parameter(tg.zeros(1, device=device))], "lr": lr} for lr in lrs],
                     lr=lrs[0], **kwargs)


def lrs_seen(opt, scheduler, epochs):
    """The rates in force at epochs 0 .. epochs - 1, checked against the optimizer's."""
    seen = []
    for _ in range(epochs):
        seen.append(scheduler.get_last_lr())
        assert seen[-1] == [g["lr"] for g in opt.param_groups]
        opt.step()
        scheduler.step()
    return np.array(seen)


def test_step_lr(device):
    opt = sgd(device, lrs=(0.1, 1.0))
    seen = lrs_seen(opt, StepLR(opt, step_size=3, gamma=0.5), 10)
    np.testing.assert_allclose(seen, [[0.1 * 0.5 ** (e // 3), 1.0 * 0.5 ** (e // 3)] for e in range(10)], rtol=1e-12)


def test_exponential_lr(device):
    opt = sgd(device)
    seen = lrs_seen(opt, ExponentialLR(opt, gamma=0.9), 10)
    np.testing.assert_allclose(seen[:, 0], [0.1 * 0.9 ** e for e in range(10)], rtol=1e-12)


def test_lambda_lr_one_function_per_group(device):
    opt = sgd(device, lrs=(0.1, 0.2))
    seen = lrs_seen(opt, LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.95 ** e]), 6)
    np.testing.assert_allclose(seen, [[0.1 / (e + 1), 0.2 * 0.95 ** e] for e in range(6)], rtol=1e-12)


@given(milestones=st.lists(st.integers(0, 15), max_size=5), gamma=st.floats(0.1, 0.9))
def test_multistep_lr_closed_form(device, milestones, gamma):
    opt = sgd(device, lrs=(0.1, 0.4))
    seen = lrs_seen(opt, MultiStepLR(opt, milestones, gamma=gamma), 18)
    crossed = [bisect.bisect_right(sorted(milestones), e) for e in range(18)]   # a repeated milestone counts twice
    np.testing.assert_allclose(seen, [[0.1 * gamma ** k, 0.4 * gamma ** k] for k in crossed], rtol=1e-12)


@given(T_max=st.integers(1, 30), eta_min=st.floats(0.0, 0.05), base=st.floats(0.06, 2.0))
def test_cosine_annealing_closed_form(device, T_max, eta_min, base):
    opt = sgd(device, lrs=(base, 2 * base))
    epochs = 3 * T_max + 2                  # past T_max the rate climbs back up the same cosine
    seen = lrs_seen(opt, CosineAnnealingLR(opt, T_max, eta_min), epochs)
    expected = [[eta_min + (b - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2 for b in (base, 2 * base)]
                for t in range(epochs)]
    np.testing.assert_allclose(seen[:T_max + 1], expected[:T_max + 1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(seen, expected, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(seen[T_max], [eta_min, eta_min], rtol=0, atol=1e-15)


def test_cosine_annealing_composes_with_a_change_of_the_rate(device):
    # the update is relative to the rate in force: halving it mid-way halves the rest of the curve above eta_min
    opt = sgd(device, lrs=(1.0,))
    scheduler = CosineAnnealingLR(opt, T_max=8, eta_min=0.0)
    for _ in range(3):
        scheduler.step()
    opt.param_groups[0]["lr"] /= 2
    for _ in range(3):
        scheduler.step()
    assert scheduler.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 6 / 8)) / 4, rel=1e-12)


def one_cycle_reference(t, total, max_lr, pct, div, final_div, low, high, strategy="cos"):
    """1cycle written out: rise over steps 0 .. pct*total - 1, fall over the rest, momentum mirrored."""
    def anneal(start, end, x):
        return start + (end - start) * ((1 - math.cos(math.pi * x)) / 2 if strategy == "cos" else x)
    initial = max_lr / div
    rise = pct * total - 1
    if t <= rise:
        x = t / rise
        return anneal(initial, max_lr, x), anneal(high, low, x)
    x = (t - rise) / (total - 1 - rise)
    return anneal(max_lr, initial / final_div, x), anneal(low, high, x)


one_cycles = st.fixed_dictionaries({
    "total": st.integers(4, 60), "pct": st.floats(0.05, 0.95), "max_lr": st.floats(0.01, 3.0),
    "div": st.floats(2.0, 50.0), "final_div": st.floats(1.0, 1e4), "low": st.floats(0.5, 0.85),
    "high": st.floats(0.86, 0.99), "strategy": st.sampled_from(["cos", "linear"]),
}).filter(lambda c: c["pct"] * c["total"] - 1 >= 1 and c["total"] - c["pct"] * c["total"] >= 1)


@given(c=one_cycles)
def test_one_cycle_closed_form_and_momentum(device, c):
    opt = sgd(device, momentum=0.9)
    total = c["total"]
    scheduler = OneCycleLR(opt, max_lr=c["max_lr"], total_steps=total, pct_start=c["pct"],
                           anneal_strategy=c["strategy"], div_factor=c["div"], final_div_factor=c["final_div"],
                           base_momentum=c["low"], max_momentum=c["high"])
    for t in range(total + 1):                   # steps 0 .. total_steps, as PyTorch allows
        lr, momentum = one_cycle_reference(t, total, c["max_lr"], c["pct"], c["div"], c["final_div"], c["low"],
                                           c["high"], c["strategy"])
        assert scheduler.get_last_lr()[0] == pytest.approx(lr, rel=1e-10, abs=1e-12 * c["max_lr"])
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-10)
        if t < total:
            scheduler.step()
    state = scheduler.state_dict()               # step total_steps extrapolates the last phase; one more is
    with pytest.raises(ValueError, match=f"Tried to step {total + 1} times. The specified number of total "
                                         f"steps is {total}"):
        scheduler.step()
    assert scheduler.state_dict() == state       # an error that changes nothing


def test_one_cycle_hand_computed_ends(device):
    opt = sgd(device, momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=0.5, epochs=2, steps_per_epoch=5)     # total 10, rise ends at step 2
    assert opt.param_groups[0]["initial_lr"] == 0.02 and opt.param_groups[0]["min_lr"] == 0.02 / 1e4
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(9):
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    assert seen[0] == pytest.approx(0.02) and seen[1] == pytest.approx(0.02 + 0.48 / 2) and seen[2] == 0.5
    assert seen[9] == pytest.approx(2e-6, rel=1e-12)


def test_one_cycle_three_phase(device):
    opt = sgd(device, momentum=0.9)
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.3, three_phase=True, div_factor=10.0,
                           final_div_factor=10.0, anneal_strategy="linear")
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(19):
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    # up from 0.1 to 1 over steps 0..5, back to 0.1 over 5..10, then down to 0.01 over 10..19
    expected = [0.1 + 0.9 * t / 5 for t in range(6)] + [1 - 0.9 * (t - 5) / 5 for t in range(6, 11)] + \
               [0.1 - 0.09 * (t - 10) / 9 for t in range(11, 20)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_one_cycle_cycles_adams_beta1_and_keeps_beta2(device):
    opt = optim.Adam([nn.Parameter(tg.zeros(1, device=device))], betas=(0.5, 0.99))
    scheduler = OneCycleLR(opt, max_lr=0.1, total_steps=10, base_momentum=0.7, max_momentum=0.9)
    beta1s = [opt.param_groups[0]["betas"]]
    for _ in range(9):
        scheduler.step()
        beta1s.append(opt.param_groups[0]["betas"])
    assert all(b2 == 0.99 for _, b2 in beta1s)
    expected = [one_cycle_reference(t, 10, 0.1, 0.3, 25.0, 1e4, 0.7, 0.9)[1] for t in range(10)]
    np.testing.assert_allclose([b1 for b1, _ in beta1s], expected, rtol=1e-12)


def test_reduce_on_plateau_hand_computed(device):
    opt = sgd(device, lrs=(1.0, 0.5))
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=[0.2, 0.3])
    lrs = []
    for metric in [5, 4, 4, 4, 3.99999, 3, 3, 3, 3, 3]:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr())
    # 5, 4 improve; 4, 4 are the 1st and 2nd bad epochs -> halve (epoch 4);
    # 3.99999 is not better than 4 * (1 - 1e-4): bad 1; 3 better; 3, 3 -> halve (epoch 8); 3, 3 -> floors
    assert lrs == [[1.0, 0.5]] * 3 + [[0.5, 0.3]] * 4 + [[0.25, 0.3]] * 2 + [[0.2, 0.3]]


def test_reduce_on_plateau_max_mode_abs_threshold_and_cooldown(device):
    opt = sgd(device, lrs=(1.0,))
    scheduler = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.5, threshold_mode="abs",
                                  cooldown=2)
    lrs = []
    for metric in [1.0, 1.4, 2.0, 2.1, 2.2, 2.3, 2.4]:
        scheduler.step(tg.tensor(metric))          # a one-element Tensor works too
        lrs.append(scheduler.get_last_lr()[0])
    # 1.0 best; 1.4 < 1.0 + 0.5 is bad -> 0.1, and the next 2 epochs do not count: 2.0 (a new best), 2.1;
    # 2.2 < 2.5 is bad -> 0.01; 2.3 and 2.4 fall in the cooldown
    assert lrs == pytest.approx([1.0, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01], rel=1e-12)


def test_reduce_on_plateau_ignores_reductions_smaller_than_eps(device):
    opt = sgd(device, lrs=(1e-8,))
    scheduler = ReduceLROnPlateau(opt, patience=0, eps=1e-8)
    for metric in [1, 2, 3]:
        scheduler.step(metric)
    assert scheduler.get_last_lr() == [1e-8]


SCHEDULERS = {
    "StepLR": lambda o: StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: MultiStepLR(o, [1, 4, 4], gamma=0.3),
    "ExponentialLR": lambda o: ExponentialLR(o, gamma=0.8),
    "CosineAnnealingLR": lambda o: CosineAnnealingLR(o, T_max=4, eta_min=0.01),
    "LambdaLR": lambda o: LambdaLR(o, lambda e: 1 / (1 + e)),
    "OneCycleLR": lambda o: OneCycleLR(o, max_lr=[0.5, 2.0], total_steps=12),
    "ReduceLROnPlateau": lambda o: ReduceLROnPlateau(o, patience=1, cooldown=1),
}
METRICS = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]


def advance(opt, scheduler, epochs, start=0):
    seen = []
    for e in range(start, start + epochs):
        opt.step()
        scheduler.step(METRICS[e]) if isinstance(scheduler, ReduceLROnPlateau) else scheduler.step()
        seen.append((scheduler.get_last_lr(), [g["momentum"] for g in opt.param_groups]))
    return seen


@pytest.mark.parametrize("name", SCHEDULERS)
def test_a_resumed_schedule_is_the_uninterrupted_one(device, name):
    make = SCHEDULERS[name]
    opt = sgd(device, lrs=(0.1, 1.0), momentum=0.9)
    expected = advance(opt, make(opt), 11)

    opt1 = sgd(device, lrs=(0.1, 1.0), momentum=0.9)
    scheduler1 = make(opt1)
    head = advance(opt1, scheduler1, 5)
    saved = copy.deepcopy((opt1.state_dict(), scheduler1.state_dict()))
    assert "optimizer" not in saved[1]
    advance(opt1, scheduler1, 3, start=5)          # the saved dicts are snapshots: this does not change them

    opt2 = sgd(device, lrs=(0.1, 1.0), momentum=0.9)
    scheduler2 = make(opt2)
    opt2.load_state_dict(saved[0])
    scheduler2.load_state_dict(saved[1])
    assert head + advance(opt2, scheduler2, 6, start=5) == expected


def test_state_dict_holds_everything_but_the_optimizer(device):
    opt = sgd(device)
    scheduler = CosineAnnealingLR(opt, T_max=5)
    state = scheduler.state_dict()
    assert {"T_max", "eta_min", "base_lrs", "last_epoch", "_last_lr"} <= set(state) and "optimizer" not in state
    assert state["T_max"] == 5 and state["last_epoch"] == 0


class Warmup:
    """A callable object: its attributes are saved, the function itself is not."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


def test_lambda_lr_saves_a_callable_objects_attributes_not_functions(device):
    opt = sgd(device, lrs=(0.1, 0.2))
    scheduler = LambdaLR(opt, [lambda e: 0.5 ** e, Warmup(4)])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [None, {"epochs": 4}]
    other = LambdaLR(sgd(device, lrs=(0.1, 0.2)), [lambda e: 1.0, Warmup(10)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].epochs == 4 and other.lr_lambdas[0](3) == 1.0     # the function stays its own


def test_a_failed_scheduler_load_changes_nothing(device):
    opt = sgd(device)
    scheduler = CosineAnnealingLR(opt, T_max=5)
    scheduler.step()
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=r"the keys \['T_max', 'eta_min', 'gamma', 'step_size'\] are missing or "
                                         "unknown"):
        scheduler.load_state_dict(StepLR(sgd(device), step_size=2).state_dict())
    two_groups = CosineAnnealingLR(sgd(device, lrs=(0.1, 0.2)), T_max=5).state_dict()
    with pytest.raises(ValueError, match="saved for 2 parameter groups, but the optimizer has 1"):
        scheduler.load_state_dict(two_groups)
    plateau = ReduceLROnPlateau(opt)
    bad = dict(plateau.state_dict(), mode="sideways")
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        plateau.load_state_dict(bad)
    assert scheduler.state_dict() == before and plateau.mode == "min"


@pytest.mark.parametrize("make, error, message", [
    (lambda o: StepLR(o, step_size=0), ValueError, "step_size must be a positive integer"),
    (lambda o: LambdaLR(o, [math.cos, math.sin]), ValueError, "expected 1 lr_lambdas"),
    (lambda o: MultiStepLR(o, [2.5]), ValueError, "milestones must be integers"),
    (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be a positive number of epochs, got 0"),
    (lambda o: OneCycleLR(o, max_lr=1.0), ValueError, r"either total_steps OR \(epochs AND steps_per_epoch\)"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "positive integer total_steps, but got 0"),
    (lambda o: OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=0), ValueError, "steps_per_epoch, but got 0"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1.5), ValueError, "between 0 and 1 pct_start"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), ValueError, "'cos' or 'linear'"),
    (lambda o: OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=5), ValueError, "max_lr has 2 values, param_groups has 1"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda o: ReduceLROnPlateau(o, mode="sideways"), ValueError, "mode sideways is unknown"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="ratio"), ValueError, "threshold mode ratio is unknown"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0, 0]), ValueError, "min_lr has 2 values, param_groups has 1"),
    (lambda o: StepLR(o, step_size=2, last_epoch=3), KeyError, "initial_lr"),
])
def test_scheduler_errors_leave_the_optimizer_alone(device, make, error, message):
    opt = sgd(device, momentum=0.9)
    before = copy.deepcopy(opt.state_dict()["param_groups"])
    with pytest.raises(error, match=message):
        make(opt)
    assert opt.state_dict()["param_groups"] == before


def test_one_cycle_needs_a_momentum_to_cycle(device):
    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1, weight_decay=0))

    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        OneCycleLR(Plain([nn.Parameter(tg.zeros(1, device=device))]), max_lr=1.0, total_steps=5)
    OneCycleLR(Plain([nn.Parameter(tg.zeros(1, device=device))]), max_lr=1.0, total_steps=5, cycle_momentum=False)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        StepLR([], step_size=1)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        ReduceLROnPlateau([])


def test_linear_lr_follows_its_closed_form(device):
    """lr_t = base (s + (e - s) min(t, T) / T), for a warm-up and a decay."""
    for s, e, total in [(1 / 3, 1.0, 5), (1.0, 0.1, 8), (0.5, 0.0, 4)]:
        opt = sgd(device, lrs=(0.1, 2.0))
        seen = lrs_seen(opt, optim.lr_scheduler.LinearLR(opt, s, e, total), 12)
        factors = [s + (e - s) * min(t, total) / total for t in range(12)]
        np.testing.assert_allclose(seen, [[0.1 * f, 2.0 * f] for f in factors], rtol=1e-12, atol=1e-15)


def test_constant_and_polynomial_lr_follow_their_closed_forms(device):
    opt = sgd(device)
    seen = lrs_seen(opt, optim.lr_scheduler.ConstantLR(opt, factor=0.25, total_iters=3), 6)
    np.testing.assert_allclose(seen[:, 0], [0.025, 0.025, 0.025, 0.1, 0.1, 0.1], rtol=1e-12)
    opt = sgd(device)
    seen = lrs_seen(opt, optim.lr_scheduler.PolynomialLR(opt, total_iters=6, power=2.0), 9)
    np.testing.assert_allclose(seen[:, 0], [0.1 * (1 - min(t, 6) / 6) ** 2 for t in range(9)], rtol=1e-12, atol=1e-15)


def test_multiplicative_lr_multiplies_from_epoch_one(device):
    opt = sgd(device, lrs=(0.1, 1.0))
    scheduler = optim.lr_scheduler.MultiplicativeLR(opt, [lambda e: 0.5, lambda e: 1 / (e + 1)])
    seen = lrs_seen(opt, scheduler, 5)
    np.testing.assert_allclose(seen[:, 0], [0.1 * 0.5 ** t for t in range(5)], rtol=1e-12)
    np.testing.assert_allclose(seen[:, 1], [1 / math.factorial(t + 1) for t in range(5)], rtol=1e-12)


@pytest.mark.parametrize("make,match", [
    (lambda o: optim.lr_scheduler.LinearLR(o, start_factor=0), "Starting multiplicative factor"),
    (lambda o: optim.lr_scheduler.LinearLR(o, end_factor=1.5), "Ending multiplicative factor"),
    (lambda o: optim.lr_scheduler.ConstantLR(o, factor=2), "Constant multiplicative factor"),
    (lambda o: optim.lr_scheduler.MultiplicativeLR(o, [lambda e: 1.0] * 3), "same length as optimizer.param_groups"),
])
def test_new_schedule_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make(sgd("cpu"))


def test_sequential_lr_runs_each_schedule_from_its_own_start(device):
    """A 3-epoch linear warm-up to the base rate, then a cosine over 6 epochs restarted at
    its epoch 0: the closed forms one after the other."""
    opt = sgd(device, lrs=(0.1, 1.0))
    warmup = optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
    cosine = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    seen = lrs_seen(opt, optim.lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[3]), 10)
    factors = [0.1 + 0.9 * t / 3 for t in range(3)] + [(1 + math.cos(math.pi * t / 6)) / 2 for t in range(7)]
    np.testing.assert_allclose(seen, [[0.1 * f, 1.0 * f] for f in factors], rtol=1e-12, atol=1e-15)


def test_sequential_lr_state_round_trip_and_errors(device):
    def build(opt):
        return optim.lr_scheduler.SequentialLR(opt, [optim.lr_scheduler.ConstantLR(opt, 0.5, total_iters=2),
                                                     optim.lr_scheduler.ExponentialLR(opt, 0.8)], milestones=[3])
    opt = sgd(device)
    scheduler = build(opt)
    for _ in range(4):
        opt.step()
        scheduler.step()
    saved, lr = scheduler.state_dict(), opt.param_groups[0]["lr"]
    fresh_opt = sgd(device)
    fresh = build(fresh_opt)
    fresh_opt.param_groups[0]["lr"] = lr
    fresh.load_state_dict(saved)
    for s, o in ((scheduler, opt), (fresh, fresh_opt)):
        o.step()
        s.step()
    assert fresh.get_last_lr() == scheduler.get_last_lr() == [pytest.approx(0.1 * 0.8 ** 2)]
    with pytest.raises(ValueError, match="one more than the number of milestone points"):
        optim.lr_scheduler.SequentialLR(opt, [StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        optim.lr_scheduler.SequentialLR(opt, [StepLR(opt, 2), StepLR(sgd(device), 2)], milestones=[3])
    with pytest.raises(ValueError, match="not ReduceLROnPlateau"):
        optim.lr_scheduler.SequentialLR(opt, [StepLR(opt, 2), ReduceLROnPlateau(opt)], milestones=[3])


def test_cosine_annealing_warm_restarts_restarts_with_longer_periods(device):
    """T_0 = 2, T_mult = 2: periods of 2, 4, 8 epochs, each a half cosine from the base rate;
    a fractional epoch lands inside its period."""
    opt = sgd(device)
    scheduler = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.0)
    seen = lrs_seen(opt, scheduler, 14)[:, 0]
    positions = [(0, 2), (1, 2), (0, 4), (1, 4), (2, 4), (3, 4)] + [(t, 8) for t in range(8)]
    np.testing.assert_allclose(seen, [0.1 * (1 + math.cos(math.pi * t / T)) / 2 for t, T in positions], rtol=1e-12)
    scheduler.step(3.5)                               # 1.5 epochs into the second period (length 4)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 1.5 / 4)) / 2, rel=1e-12)
    assert scheduler.last_epoch == 3
    with pytest.raises(ValueError, match="Expected non-negative epoch"):
        scheduler.step(-1)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        optim.lr_scheduler.CosineAnnealingWarmRestarts(sgd(device), T_0=0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1"):
        optim.lr_scheduler.CosineAnnealingWarmRestarts(sgd(device), T_0=2, T_mult=0)
