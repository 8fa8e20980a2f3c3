"""RMSprop against the algorithm as PyTorch documents it (plain and centered,
with and without momentum, weight decay), written out in NumPy float64 over
several steps; a hand-computed first step; state; hyper-parameter errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn, optim


def reference_rmsprop(p, grads, lr, alpha, eps, weight_decay, momentum, centered):
    """The pseudo-code of torch.optim.RMSprop, one gradient per step."""
    v, g_ave, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    state = {}
    for g in grads:
        if weight_decay:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave ** 2
            state["grad_avg"] = g_ave
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * b
            state["momentum_buffer"] = b
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
    return p, {"step": len(grads), "square_avg": v, **state}


hyper = st.fixed_dictionaries({
    "lr": st.floats(1e-4, 1.0), "alpha": st.floats(0.1, 0.999), "eps": st.sampled_from([1e-8, 1e-3, 0.5]),
    "weight_decay": st.sampled_from([0.0, 1e-2, 0.5]), "momentum": st.sampled_from([0.0, 0.5, 0.9]),
    "centered": st.booleans()})


@given(h=hyper, shape=st.sampled_from([(), (3,), (2, 3)]), steps=st.integers(1, 5), seed=st.integers(0, 1000))
def test_rmsprop_matches_the_documented_algorithm(device, h, shape, steps, seed):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(steps)]
    p = nn.Parameter(tg.tensor(start, device=device))
    opt = optim.RMSprop([p], **h)
    for g in grads:
        p.grad = tg.tensor(g, device=device)
        opt.step()
    expected, expected_state = reference_rmsprop(start, grads, **h)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10, atol=1e-12)
    state = opt.state[p]
    assert sorted(state) == sorted(expected_state) and state["step"] == steps and type(state["step"]) is int
    for name in expected_state:
        if name != "step":
            np.testing.assert_allclose(state[name].numpy(), expected_state[name], rtol=1e-10, atol=1e-14)


def test_first_step_by_hand(device):
    # v = (1 - alpha) g^2 = 0.01 * 4, so p = 1 - 0.01 * 2 / (sqrt(0.04) + 0) = 0.9
    p = nn.Parameter(tg.tensor([1.0], dtype=tg.float64, device=device))
    opt = optim.RMSprop([p], lr=0.01, eps=0.0)
    p.grad = tg.tensor([2.0], dtype=tg.float64, device=device)
    opt.step()
    assert p.detach().item() == pytest.approx(0.9, rel=1e-14)
    # centered: the first step's variance is (1 - alpha) g^2 - ((1 - alpha) g)^2 = alpha (1 - alpha) g^2
    q = nn.Parameter(tg.tensor([1.0], dtype=tg.float64, device=device))
    opt = optim.RMSprop([q], lr=0.01, alpha=0.75, eps=0.0, centered=True)
    q.grad = tg.tensor([2.0], dtype=tg.float64, device=device)
    opt.step()
    assert q.detach().item() == pytest.approx(1 - 0.01 * 2 / np.sqrt(0.75 * 0.25 * 4), rel=1e-14)


def test_defaults():
    assert optim.RMSprop([nn.Parameter(tg.zeros(1))]).defaults == dict(
        lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1), "Invalid learning rate: -1"),
    (dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (dict(momentum=-0.9), "Invalid momentum value: -0.9"),
    (dict(weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (dict(alpha=-0.5), r"Invalid alpha value: -0.5 \(expected alpha >= 0\)"),
])
def test_bad_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.RMSprop([nn.Parameter(tg.zeros(1))], **kwargs)
