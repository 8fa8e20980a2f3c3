"""SGD against the update rule written out in NumPy (plain, momentum, dampening,
Nesterov, weight decay, over several steps), what every optimizer shares
(parameter groups, zero_grad, closures), and hyper-parameter errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim


def reference_sgd(p, grads, lr, momentum, dampening, weight_decay, nesterov):
    """PyTorch's documented rule, one gradient per step, in NumPy."""
    buf = None
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


hyper = st.fixed_dictionaries({
    "lr": st.floats(0.0, 1.0), "momentum": st.sampled_from([0.0, 0.5, 0.9]),
    "dampening": st.sampled_from([0.0, 0.3]), "weight_decay": st.sampled_from([0.0, 1e-2, 0.5]),
    "nesterov": st.booleans()}).filter(lambda h: not h["nesterov"] or (h["momentum"] > 0 and h["dampening"] == 0))


@given(h=hyper, steps=st.integers(1, 4), seed=st.integers(0, 1000))
def test_sgd_matches_the_update_rule(device, h, steps, seed):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(steps)]
    p = nn.Parameter(tg.tensor(start, device=device))
    opt = optim.SGD([p], **h)
    for g in grads:
        p.grad = tg.tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), reference_sgd(start, grads, **h), rtol=1e-12, atol=1e-14)


def test_nesterov_with_weight_decay_by_hand(device):
    p = nn.Parameter(tg.tensor([1.0], dtype=tg.float64, device=device))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)
    p.grad = tg.tensor([0.5], dtype=tg.float64, device=device)
    opt.step()      # d = 0.5 + 0.1 = 0.6; buf = 0.6; d = 0.6 + 0.54 = 1.14; p = 1 - 0.114
    assert p.detach().item() == pytest.approx(0.886, abs=1e-15)
    p.grad = tg.tensor([-1.0], dtype=tg.float64, device=device)
    opt.step()      # d = -1 + 0.0886 = -0.9114; buf = 0.54 - 0.9114 = -0.3714; d = -0.9114 - 0.33426
    assert p.detach().item() == pytest.approx(0.886 + 0.1 * 1.24566, abs=1e-14)


def test_parameters_without_gradient_are_skipped(device):
    a, b = nn.Parameter(tg.ones(2, device=device)), nn.Parameter(tg.ones(2, device=device))
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = tg.ones(2, device=device)
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [1, 1])
    np.testing.assert_array_equal(a.detach().numpy(), [0.5, 0.5])
    assert b not in opt.state and "momentum_buffer" in opt.state[a]


def test_parameter_groups_have_their_own_lr(device):
    a, b = nn.Parameter(tg.ones(1, device=device)), nn.Parameter(tg.ones(1, device=device))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = tg.ones(1, device=device), tg.ones(1, device=device)
    opt.step()
    assert a.detach().item() == pytest.approx(0.9) and b.detach().item() == pytest.approx(0.5)


def test_zero_grad_sets_none_or_zeros(device):
    model = nn.Linear(3, 2).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(tg.ones(1, 3, device=device)).sum().backward()
    opt.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert p.grad.device == device and p.grad.dtype == p.dtype
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape))
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.Adam(ps),
                                  lambda ps: optim.AdamW(ps), lambda ps: optim.RMSprop(ps)])
def test_step_runs_the_closure_with_gradients_recorded(device, make):
    model = nn.Linear(3, 1).to(device)
    x = tg.randn(4, 3, device=device)
    opt = make(model.parameters())
    before = [p.detach().numpy().copy() for p in model.parameters()]
    calls = []

    def closure():
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        calls.append(loss)
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert len(calls) == 1 and calls[0] is loss and loss.grad_fn is not None
    assert all(p.grad is not None for p in model.parameters())
    assert all((p.detach().numpy() != b).any() for p, b in zip(model.parameters(), before))
    assert opt.step() is None


def test_training_a_linear_model_reduces_the_loss(device):
    x = tg.randn(32, 3, device=device)
    y = x @ tg.tensor([[1.0], [-2.0], [0.5]], device=device)
    model = nn.Linear(3, 1).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = tg.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.1), r"Invalid learning rate: -0.1 \(expected lr >= 0\)"),
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
    (dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening, got momentum=0"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
])
def test_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([nn.Parameter(tg.zeros(1))], **kwargs)


def test_complex_parameters_follow_the_same_rule(device):
    start, grads = np.array([1 + 2j, -0.5j]), [np.array([0.5 - 1j, 2 + 0j]), np.array([1j, -1 + 1j])]
    p = tg.tensor(start, device=device)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    for g in grads:
        p.grad = tg.tensor(g, device=device)
        opt.step()
    np.testing.assert_allclose(p.numpy(), reference_sgd(start, grads, 0.1, 0.9, 0, 0.1, False), rtol=1e-14)


def test_bad_parameter_lists():
    p = nn.Parameter(tg.zeros(1))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match=r"unknown hyper-parameter\(s\) \['betas'\]"):
        optim.SGD([{"params": [p], "betas": 0.9}], lr=0.1)
