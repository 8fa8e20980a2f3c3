"""The optimizers and schedules against PyTorch itself (skipped where PyTorch is
not installed): parameters, state and state_dict layout after several steps,
and learning-rate / momentum sequences."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.optim import lr_scheduler

torch = pytest.importorskip("torch")

OPTIMIZERS = {
    "SGD": st.fixed_dictionaries({"lr": st.floats(1e-3, 1.0), "momentum": st.sampled_from([0.0, 0.9]),
                                  "dampening": st.sampled_from([0.0, 0.2]),
                                  "weight_decay": st.sampled_from([0.0, 0.1])}),
    "SGD nesterov": st.fixed_dictionaries({"lr": st.floats(1e-3, 1.0), "momentum": st.floats(0.1, 0.99),
                                           "weight_decay": st.sampled_from([0.0, 0.1]), "nesterov": st.just(True)}),
    "Adam": st.fixed_dictionaries({"lr": st.floats(1e-4, 0.5), "betas": st.tuples(st.floats(0.0, 0.99),
                                                                                 st.floats(0.0, 0.9999)),
                                   "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": st.sampled_from([0.0, 0.1]),
                                   "amsgrad": st.booleans()}),
    "AdamW": st.fixed_dictionaries({"lr": st.floats(1e-4, 0.5), "weight_decay": st.sampled_from([0.0, 1e-2, 0.5]),
                                    "amsgrad": st.booleans()}),
    "RMSprop": st.fixed_dictionaries({"lr": st.floats(1e-4, 0.1), "alpha": st.floats(0.5, 0.999),
                                      "eps": st.sampled_from([1e-8, 1e-3]),
                                      "weight_decay": st.sampled_from([0.0, 0.1]),
                                      "momentum": st.sampled_from([0.0, 0.9]), "centered": st.booleans()}),
    "Adagrad": st.fixed_dictionaries({"lr": st.floats(1e-3, 1.0), "lr_decay": st.sampled_from([0.0, 0.1]),
                                      "weight_decay": st.sampled_from([0.0, 0.1]),
                                      "initial_accumulator_value": st.sampled_from([0.0, 0.5]),
                                      "eps": st.sampled_from([1e-10, 1e-3])}),
    "Adadelta": st.fixed_dictionaries({"lr": st.floats(0.1, 2.0), "rho": st.floats(0.5, 0.99),
                                       "eps": st.sampled_from([1e-6, 1e-3]),
                                       "weight_decay": st.sampled_from([0.0, 0.1])}),
    "Adamax": st.fixed_dictionaries({"lr": st.floats(1e-4, 0.5), "betas": st.tuples(st.floats(0.0, 0.99),
                                                                                   st.floats(0.0, 0.9999)),
                                     "eps": st.sampled_from([1e-8, 1e-3]),
                                     "weight_decay": st.sampled_from([0.0, 0.1])}),
}
CLASSES = {"SGD": "SGD", "SGD nesterov": "SGD", "Adam": "Adam", "AdamW": "AdamW", "RMSprop": "RMSprop",
           "Adagrad": "Adagrad", "Adadelta": "Adadelta", "Adamax": "Adamax"}
SHAPES = [(2, 3), (3,), ()]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", OPTIMIZERS)
@settings(max_examples=10)
@given(data=st.data(), steps=st.integers(1, 4), seed=st.integers(0, 1000))
def test_optimizer_matches_pytorch(device, name, dtype, data, steps, seed):
    h = data.draw(OPTIMIZERS[name])
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]

    ours = [nn.Parameter(tg.tensor(a, device=device)) for a in starts]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in starts]
    opt = getattr(optim, CLASSES[name])([{"params": ours[:1], "lr": h["lr"] / 2}, {"params": ours[1:]}], **h)
    ref = getattr(torch.optim, CLASSES[name])([{"params": theirs[:1], "lr": h["lr"] / 2}, {"params": theirs[1:]}],
                                              **h)
    for step_grads in grads:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad, q.grad = tg.tensor(g, device=device), torch.tensor(g)
        opt.step()
        ref.step()

    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (2e-5, 1e-5)
    for p, q in zip(ours, theirs):
        assert p.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol)
    mine, torchs = opt.state_dict(), ref.state_dict()
    assert [g["params"] for g in mine["param_groups"]] == [g["params"] for g in torchs["param_groups"]]
    for group, torch_group in zip(mine["param_groups"], torchs["param_groups"]):
        assert all(group[key] == torch_group[key] for key in group)
    assert mine["state"].keys() == torchs["state"].keys()
    for index, entries in mine["state"].items():
        torch_entries = {k: v for k, v in torchs["state"][index].items() if v is not None}
        assert entries.keys() == torch_entries.keys()
        for key, value in entries.items():
            if key == "step":
                assert value == torch_entries[key].item()
            else:
                np.testing.assert_allclose(value.numpy(), torch_entries[key].numpy(), rtol=rtol, atol=atol)


def run_schedule(module, make, metrics=None, steps=24, momentum_key="momentum", optimizer="SGD"):
    """The (lrs, momenta) in force at each step, for our scheduler or PyTorch's."""
    def parameter():
        return nn.Parameter(tg.zeros(1)) if module is lr_scheduler else torch.nn.Parameter(torch.zeros(1))

    opt_module = optim if module is lr_scheduler else torch.optim
    kwargs = dict(lr=0.1, momentum=0.9) if optimizer == "SGD" else dict(lr=0.1)
    opt = getattr(opt_module, optimizer)([{"params": [parameter()]}, {"params": [parameter()], "lr": 0.4}], **kwargs)
    scheduler = make(module, opt)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in range(steps):
            seen.append((list(scheduler.get_last_lr()), [g[momentum_key] for g in opt.param_groups]))
            opt.step()
            scheduler.step(metrics[t]) if metrics else scheduler.step()
    return seen


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7),
    "CosineAnnealingLR eta_min": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95),
    "MultiplicativeLR per group": lambda m, o: m.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1 - 0.01 * e]),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR": lambda m, o: m.LinearLR(o),
    "LinearLR decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=10),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),
    "PolynomialLR linear": lambda m, o: m.PolynomialLR(o),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.01),
    "CosineAnnealingWarmRestarts T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    "SequentialLR warm-up, cosine, exponential": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=3), m.CosineAnnealingLR(o, 6), m.ExponentialLR(o, 0.9)], milestones=[3, 8]),
    "SequentialLR constant, step, milestones, polynomial": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, total_iters=2), m.StepLR(o, 2, 0.5), m.MultiStepLR(o, [1, 3]),
            m.PolynomialLR(o, total_iters=6, power=2.0)], milestones=[4, 9, 15]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=24),
    "OneCycleLR linear three-phase": lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=4, steps_per_epoch=6,
                                                               anneal_strategy="linear", three_phase=True,
                                                               pct_start=0.4, base_momentum=[0.8, 0.7]),
    "OneCycleLR no momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=24, cycle_momentum=False,
                                                        div_factor=5.0, final_div_factor=50.0),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_matches_pytorch(name):
    ours = run_schedule(lr_scheduler, SCHEDULES[name])
    theirs = run_schedule(torch.optim.lr_scheduler, SCHEDULES[name])
    for (lrs, momenta), (torch_lrs, torch_momenta) in zip(ours, theirs):
        assert lrs == pytest.approx(torch_lrs, rel=1e-13, abs=1e-16)
        assert momenta == pytest.approx(torch_momenta, rel=1e-13)


def test_one_cycle_cycles_adams_beta1_as_pytorch_does():
    make = lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=20, base_momentum=0.8)   # noqa: E731
    ours = run_schedule(lr_scheduler, make, steps=20, momentum_key="betas", optimizer="Adam")
    theirs = run_schedule(torch.optim.lr_scheduler, make, steps=20, momentum_key="betas", optimizer="Adam")
    for (lrs, betas), (torch_lrs, torch_betas) in zip(ours, theirs):
        assert lrs == pytest.approx(torch_lrs, rel=1e-13)
        assert [b for pair in betas for b in pair] == pytest.approx([b for pair in torch_betas for b in pair],
                                                                    rel=1e-13)


def test_one_cycle_past_its_last_step_raises_as_pytorch_does():
    messages = []
    for module, opt_module, parameter in [(lr_scheduler, optim, nn.Parameter(tg.zeros(1))),
                                          (torch.optim.lr_scheduler, torch.optim, torch.nn.Parameter(torch.zeros(1)))]:
        scheduler = module.OneCycleLR(opt_module.SGD([parameter], lr=0.1, momentum=0.9), max_lr=1.0, total_steps=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(5):
                scheduler.step()
            with pytest.raises(ValueError) as error:
                scheduler.step()
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.3, patience=2),
                                    dict(patience=0, cooldown=2, factor=0.5, min_lr=[0.01, 0.1]),
                                    dict(patience=1, eps=0.05, factor=0.5)])
def test_reduce_on_plateau_matches_pytorch(kwargs):
    rng = np.random.default_rng(0)
    metrics = list(np.round(np.cumsum(rng.normal(0.0, 1.0, 60)) * 0.1, 2))
    make = lambda m, o: m.ReduceLROnPlateau(o, **kwargs)    # noqa: E731
    ours = run_schedule(lr_scheduler, make, metrics=metrics, steps=60)
    theirs = run_schedule(torch.optim.lr_scheduler, make, metrics=metrics, steps=60)
    assert [lr for lrs, _ in ours for lr in lrs] == pytest.approx([lr for lrs, _ in theirs for lr in lrs], rel=1e-13)
    assert len({tuple(lrs) for lrs, _ in ours}) > 1         # the sequence did reduce


@pytest.mark.parametrize("cls, kwargs, message", [
    ("Adam", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("AdamW", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("AdamW", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("RMSprop", dict(alpha=-1.0), "Invalid alpha value: -1.0"),
    ("RMSprop", dict(momentum=-1.0), "Invalid momentum value: -1.0"),
    ("SGD", dict(lr=0.1, momentum=-1.0), "Invalid momentum value: -1.0"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
])
def test_error_messages_start_as_pytorchs(cls, kwargs, message):
    with pytest.raises(ValueError) as torch_error:
        getattr(torch.optim, cls)([torch.nn.Parameter(torch.zeros(1))], **kwargs)
    with pytest.raises(ValueError) as our_error:
        getattr(optim, cls)([nn.Parameter(tg.zeros(1))], **kwargs)
    assert str(torch_error.value) == message and str(our_error.value).startswith(message)


def test_cosine_recursion_is_the_closed_form_in_pytorch_too():
    T = 9
    seen = run_schedule(torch.optim.lr_scheduler, lambda m, o: m.CosineAnnealingLR(o, T_max=T), steps=T + 1)
    assert [lrs[0] for lrs, _ in seen] == pytest.approx([0.05 * (1 + math.cos(math.pi * t / T)) for t in range(T + 1)],
                                                        rel=1e-12, abs=1e-16)
