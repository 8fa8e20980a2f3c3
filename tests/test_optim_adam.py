"""Adam and AdamW against the algorithm as PyTorch documents it (bias-corrected
moments m_hat and v_hat, AMSGrad's running maximum of v, L2 or decoupled
weight decay), written out in NumPy float64, over several steps; a hand-computed
first step; dtypes; state; hyper-parameter errors."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim


def reference_adam(p, grads, lr, betas, eps, weight_decay, amsgrad, decoupled):
    """The pseudo-code of torch.optim.Adam / AdamW, one gradient per step."""
    beta1, beta2 = betas
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if weight_decay and decoupled:
            p = p - lr * weight_decay * p
        elif weight_decay:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2 ** t)
        else:
            v_hat = v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, {"step": len(grads), "exp_avg": m, "exp_avg_sq": v, **({"max_exp_avg_sq": v_max} if amsgrad else {})}


hyper = st.fixed_dictionaries({
    "lr": st.floats(1e-4, 1.0), "betas": st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999)),
    "eps": st.sampled_from([1e-8, 1e-3, 0.5]), "weight_decay": st.sampled_from([0.0, 1e-2, 0.5]),
    "amsgrad": st.booleans()})
shapes = st.sampled_from([(), (3,), (2, 3)])


def run(make, device, start, grads):
    p = nn.Parameter(tg.tensor(start, device=device))
    opt = make([p])
    for g in grads:
        p.grad = tg.tensor(g, device=device)
        opt.step()
    return p, opt


@pytest.mark.parametrize("cls, decoupled", [(optim.Adam, False), (optim.AdamW, True)])
@given(h=hyper, shape=shapes, steps=st.integers(1, 5), seed=st.integers(0, 1000))
def test_adam_matches_the_documented_algorithm(device, cls, decoupled, h, shape, steps, seed):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(steps)]
    p, opt = run(lambda ps: cls(ps, **h), device, start, grads)
    expected, expected_state = reference_adam(start, grads, decoupled=decoupled, **h)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    state = opt.state[p]
    assert sorted(state) == sorted(expected_state) and state["step"] == steps and type(state["step"]) is int
    for name in expected_state:
        if name != "step":
            np.testing.assert_allclose(state[name].numpy(), expected_state[name], rtol=1e-10, atol=1e-14)


def test_adam_with_the_decoupled_flag_is_adamw(device):
    rng = np.random.default_rng(1)
    start, grads = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(3)]
    a, _ = run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.3, decoupled_weight_decay=True), device, start, grads)
    b, _ = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.3), device, start, grads)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_first_adam_step_moves_each_coordinate_by_lr_by_hand(device):
    # t = 1: m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps)
    p = nn.Parameter(tg.tensor([1.0, -2.0, 3.0], dtype=tg.float64, device=device))
    opt = optim.Adam([p], lr=0.1, eps=0.0)
    p.grad = tg.tensor([4.0, -0.01, 0.0], dtype=tg.float64, device=device)
    opt.step()
    # 0/0 in the last coordinate (eps = 0, g = 0) gives NaN, silently, as in PyTorch
    np.testing.assert_allclose(p.detach().numpy()[:2], [0.9, -1.9], rtol=1e-15)
    assert math.isnan(p.detach().numpy()[2])


def test_adamw_decay_by_hand(device):
    # zero gradient: m = v = 0, so only the decay moves p: p = p * (1 - lr * wd) per step
    p = nn.Parameter(tg.tensor([2.0], dtype=tg.float64, device=device))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad = tg.zeros(1, dtype=tg.float64, device=device)
        opt.step()
    assert p.detach().item() == pytest.approx(2.0 * 0.95 ** 3, rel=1e-15)


def test_amsgrad_normalises_by_the_largest_second_moment(device):
    # a large gradient, then small ones: with amsgrad the step stays small because v_max remembers
    grads = [np.array([10.0]), np.array([0.1]), np.array([0.1])]
    plain, _ = run(lambda ps: optim.Adam(ps, lr=0.1), device, np.zeros(1), grads)
    ams, opt = run(lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True), device, np.zeros(1), grads)
    state = opt.state[ams]
    assert state["max_exp_avg_sq"].item() == pytest.approx(100 * 0.001, rel=1e-12)   # reached at step 1
    assert state["exp_avg_sq"].item() < state["max_exp_avg_sq"].item()
    assert abs(ams.detach().item()) < abs(plain.detach().item())


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_float32_parameters_keep_float32_state(device, cls):
    p = nn.Parameter(tg.randn(3, device=device))
    opt = cls([p], amsgrad=True)
    p.grad = tg.randn(3, device=device)
    opt.step()
    assert p.dtype == np.float32 and p.device == device
    assert all(opt.state[p][name].dtype == np.float32 for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))


def test_turning_amsgrad_on_later_starts_its_maximum_from_v(device):
    p = nn.Parameter(tg.ones(2, dtype=tg.float64, device=device))
    opt = optim.Adam([p])
    p.grad = tg.ones(2, dtype=tg.float64, device=device)
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    p.grad = tg.full((2,), 0.5, dtype=tg.float64, device=device)
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"].numpy(), opt.state[p]["exp_avg_sq"].numpy())


def test_defaults():
    p = nn.Parameter(tg.zeros(1))
    adam, adamw = optim.Adam([p]).defaults, optim.AdamW([p]).defaults
    assert adam == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                        decoupled_weight_decay=False)
    assert adamw == dict(adam, weight_decay=1e-2, decoupled_weight_decay=True)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1), r"Invalid learning rate: -1 \(expected lr >= 0\)"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.0, 0.999)), r"Invalid beta parameter at index 0: 1.0 \(expected 0 <= beta < 1\)"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(betas=(0.9, float("nan"))), "Invalid beta parameter at index 1: nan"),
    (dict(betas=(0.9,)), r"Invalid betas: \(0.9,\) \(expected a pair"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
def test_bad_hyper_parameters(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([nn.Parameter(tg.zeros(1))], **kwargs)
    with pytest.raises(ValueError, match=message):      # a group's own values are checked too
        cls([{"params": [nn.Parameter(tg.zeros(1))], **kwargs}])


def test_adamw_refuses_coupled_weight_decay():
    with pytest.raises(ValueError, match="decoupled_weight_decay must be True"):
        optim.AdamW([{"params": [nn.Parameter(tg.zeros(1))], "decoupled_weight_decay": False}])
