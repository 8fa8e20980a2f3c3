"""Adagrad, Adadelta and Adamax against their algorithms as PyTorch documents them,
written out in NumPy float64 over several steps; hand-computed first steps; state,
checkpoints and hyper-parameter errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim


def reference_adagrad(p, grads, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p, {"sum": s}


def reference_adadelta(p, grads, lr, rho, eps, weight_decay):
    v, u = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    return p, {"square_avg": v, "acc_delta": u}


def reference_adamax(p, grads, lr, betas, eps, weight_decay):
    beta1, beta2 = betas
    m, u = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = np.maximum(beta2 * u, np.abs(g) + eps)
        p = p - lr / (1 - beta1 ** t) * m / u
    return p, {"exp_avg": m, "exp_inf": u}


CASES = {
    "Adagrad": (reference_adagrad, st.fixed_dictionaries({
        "lr": st.floats(1e-3, 1.0), "lr_decay": st.sampled_from([0.0, 0.05]),
        "weight_decay": st.sampled_from([0.0, 0.1]), "initial_accumulator_value": st.sampled_from([0.0, 0.3]),
        "eps": st.sampled_from([1e-10, 1e-2])})),
    "Adadelta": (reference_adadelta, st.fixed_dictionaries({
        "lr": st.floats(0.1, 2.0), "rho": st.floats(0.1, 0.99), "eps": st.sampled_from([1e-6, 1e-2]),
        "weight_decay": st.sampled_from([0.0, 0.1])})),
    "Adamax": (reference_adamax, st.fixed_dictionaries({
        "lr": st.floats(1e-4, 0.5), "betas": st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.999)),
        "eps": st.sampled_from([1e-8, 1e-2]), "weight_decay": st.sampled_from([0.0, 0.1])})),
}


@pytest.mark.parametrize("name", CASES)
@given(data=st.data(), shape=st.sampled_from([(), (3,), (2, 3)]), steps=st.integers(1, 5),
       seed=st.integers(0, 1000))
def test_matches_the_documented_algorithm(device, name, data, shape, steps, seed):
    reference, hyper = CASES[name]
    h = data.draw(hyper)
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(steps)]
    p = nn.Parameter(tg.tensor(start, device=device))
    opt = getattr(optim, name)([p], **h)
    for g in grads:
        p.grad = tg.tensor(g, device=device)
        opt.step()
    expected, expected_state = reference(start, grads, **h)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    state = opt.state[p]
    assert sorted(state) == sorted(["step", *expected_state]) and state["step"] == steps
    for key, value in expected_state.items():
        np.testing.assert_allclose(state[key].numpy(), value, rtol=1e-10, atol=1e-14)


def first_step(device, make, g=2.0):
    p = nn.Parameter(tg.tensor([1.0], dtype=tg.float64, device=device))
    opt = make([p])
    p.grad = tg.tensor([g], dtype=tg.float64, device=device)
    opt.step()
    return p.item()


def test_first_steps_by_hand(device):
    # Adagrad: s = 4, p = 1 - 0.1 * 2 / 2 = 0.9
    assert first_step(device, lambda ps: optim.Adagrad(ps, lr=0.1, eps=0)) == pytest.approx(0.9, abs=1e-15)
    # Adadelta, rho = 0.5, eps = 0.01: v = 2, d = sqrt(0.01) / sqrt(2.01) * 2, p = 1 - d
    expected = 1 - 0.1 / np.sqrt(2.01) * 2
    assert first_step(device, lambda ps: optim.Adadelta(ps, rho=0.5, eps=0.01)) == pytest.approx(expected, abs=1e-15)
    # Adamax: m = 0.2, u = 2, step lr / 0.1 * 0.1 = lr: p = 1 - 0.002 (the sign of g times lr)
    assert first_step(device, lambda ps: optim.Adamax(ps, eps=0)) == pytest.approx(0.998, abs=1e-15)


def test_parameters_without_gradients_are_skipped_and_state_round_trips(device):
    a = nn.Parameter(tg.tensor([1.0, -1.0], device=device))
    b = nn.Parameter(tg.tensor([2.0], device=device))
    for name in CASES:
        opt = getattr(optim, name)([a, b])
        a.grad, b.grad = tg.tensor([0.5, 0.25], device=device), None
        opt.step()
        assert b.tolist() == [2.0] and b not in opt.state
        again = getattr(optim, name)([a, b])
        again.load_state_dict(opt.state_dict())
        a.grad = tg.tensor([0.1, 0.2], device=device)
        before = a.detach().clone()
        opt.step()
        moved = a.detach().clone()
        a._data[...] = before._data
        again.step()
        np.testing.assert_array_equal(a.detach().numpy(), moved.numpy())


@pytest.mark.parametrize("make,match", [
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "Invalid lr_decay value"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), "Invalid initial_accumulator_value"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), "Invalid rho value"),
    (lambda ps: optim.Adadelta(ps, eps=-1), "Invalid epsilon value"),
    (lambda ps: optim.Adamax(ps, betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    (lambda ps: optim.Adamax(ps, lr=-1), "Invalid learning rate"),
])
def test_invalid_hyper_parameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make([nn.Parameter(tg.ones(2))])


def test_adadelta_trains_the_examples_network_shape():
    """The pytorch/examples MNIST recipe's optimizer (Adadelta, lr 1.0) lowers a small
    network's loss on a fixed batch."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = tg.randn(32, 8), tg.randint(0, 3, (32,))
    opt = optim.Adadelta(model.parameters(), lr=1.0)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = tg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
