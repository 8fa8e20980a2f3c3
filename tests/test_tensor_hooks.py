"""Tensor gradient hooks and retain_grad: PyTorch's rules, by hand-computed gradients.

y = 3x, z = sum(y^2): dz/dy = 2y = 6x, dz/dx = 18x.  Each test states the rule it checks;
the last one runs the same script under torch where it is installed.
"""
import numpy as np
import pytest

import tinygrad_bn as tg


def leaf(device, values=(1.0, 2.0)):
    return tg.tensor(list(values), requires_grad=True, device=device)


def test_retain_grad_keeps_a_computed_tensors_gradient(device):
    x = leaf(device)
    y = x * 3
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_retained_gradients_accumulate_and_can_be_cleared(device):
    x = leaf(device)
    y = x * 3
    y.retain_grad()
    y.sum().backward(retain_graph=True)
    (y * 2).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 3.0])           # 1 + 2
    y.grad = None
    assert y.grad is None


def test_retain_grad_on_the_root_and_on_a_leaf(device):
    x = leaf(device)
    x.retain_grad()                       # a leaf keeps its gradient anyway: nothing changes
    assert not x.retains_grad
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_a_retained_gradient_is_its_own_array(device):
    """y = x + 0 hands y's gradient on unchanged to x: zeroing one must not zero the other."""
    x = leaf(device)
    y = x + 0
    y.retain_grad()
    (y * 5).sum().backward()
    y.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_retain_grad_follows_an_in_place_change(device):
    """b = 2a, b *= 3 in place: b.grad is the gradient of the new value (1), while a hook
    registered before the change sees the gradient of the old value (3)."""
    a = leaf(device)
    b = a * 2
    b.retain_grad()
    seen = []
    b.register_hook(lambda g: seen.append(g.numpy().copy()))
    b.mul_(3)
    assert b.retains_grad
    b.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])


def test_requires_grad_is_needed(device):
    plain = tg.ones(2, device=device)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        plain.register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        plain.retain_grad()


def test_a_hook_sees_the_gradient_and_may_replace_it(device):
    x = leaf(device)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))       # returns None: unchanged
    y.register_hook(lambda g: g * 2)                                # doubles what flows on
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([18.0, 36.0]))


def test_hooks_run_in_order_and_retain_grad_stores_the_result_last(device):
    x = leaf(device)
    y = x * 3
    order = []
    y.register_hook(lambda g: order.append("first") or g * 2)
    y.retain_grad()
    y.register_hook(lambda g: order.append(float(g[0].item())) or g + 1)
    (y * y).sum().backward()
    assert order == ["first", 12.0]                        # the second hook sees the first one's result
    np.testing.assert_allclose(y.grad.numpy(), [13.0, 25.0])   # 2 * 6x + 1, after every hook
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.array([13.0, 25.0]))


def test_a_leaf_hook_sees_the_sum_of_its_gradients_once(device):
    """w used twice in one pass: one call with 2 + 3, before .grad; a later pass adds."""
    w = leaf(device)
    calls = []
    w.register_hook(lambda g: calls.append(g.numpy().copy()) or g * 10)
    (w * 2 + w * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [5.0, 5.0])
    np.testing.assert_array_equal(w.grad.numpy(), [50.0, 50.0])
    (w * 1).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [60.0, 60.0])


def test_a_hook_registered_later_changes_only_later_gradients(device):
    w = leaf(device)
    (w * 2).sum().backward()
    w.register_hook(lambda g: g * 5)
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [12.0, 12.0])        # 2 + 5 * 2


def test_hooks_on_the_root(device):
    w = leaf(device)
    w.register_hook(lambda g: g * 5)
    w.sum().backward()                    # the root is the leaf itself
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0])
    v = w * 1
    v.register_hook(lambda g: g * 2)
    v.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0 + 10.0, 5.0 + 10.0])


def test_removed_hooks_do_not_run(device):
    w = leaf(device)
    handle = w.register_hook(lambda g: g * 0)
    handle.remove()
    handle.remove()                       # a second remove does nothing
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])
    v = w * 1
    with v.register_hook(lambda g: g * 0):
        pass
    v.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def test_grad_runs_hooks_and_fills_retained_gradients(device):
    """autograd.grad: hooks change what it returns (a leaf's and a computed tensor's),
    retained gradients are stored, and no leaf .grad is touched."""
    x = leaf(device)
    y = x * 3
    y.register_hook(lambda g: g * 2)
    y.retain_grad()
    (gy,) = tg.autograd.grad((y * y).sum(), y, retain_graph=True)
    np.testing.assert_allclose(gy.numpy(), 2 * np.array([6.0, 12.0]))
    np.testing.assert_allclose(y.grad.numpy(), gy.numpy())
    x.register_hook(lambda g: g * 10)
    (gx,) = tg.autograd.grad((y * y).sum(), x)
    np.testing.assert_allclose(gx.numpy(), 10 * 3 * 2 * np.array([6.0, 12.0]))
    assert x.grad is None


def test_grad_skips_hooks_off_the_path_to_its_inputs(device):
    x, other = leaf(device), leaf(device)
    y = other * 2
    ran = []
    y.register_hook(lambda g: ran.append(1))
    tg.autograd.grad((x * y).sum(), x)
    assert ran == []


def test_hooks_may_not_change_shape_dtype_or_type(device):
    for bad, match in [(lambda g: tg.ones(3, device=g.device), "has changed the size of value"),
                       (lambda g: g.double(), "has changed the type of value"),
                       (lambda g: g.numpy(), "expected a Tensor or None")]:
        w = leaf(device)
        w.register_hook(bad)
        with pytest.raises((RuntimeError, TypeError), match=match):
            (w * 1).sum().backward()
        assert w.grad is None


def test_hooks_under_create_graph_give_differentiable_gradients(device):
    """With g -> g * x on y = x, the gradient of sum(y^2) is 2y * x = 2x^2.  Its own backward
    passes y again, whose hook still multiplies by x: d/dx = 2y (the direct path) + 2x * x
    (through y, hooked), 2x + 2x^2 (torch gives the same)."""
    x = leaf(device, (1.0, 2.0))
    y = x * 1
    y.register_hook(lambda g: g * x)
    (gx,) = tg.autograd.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), [2.0, 8.0])
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 12.0])


def test_the_same_script_as_torch():
    torch = pytest.importorskip("torch")

    def script(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        record = []
        x.register_hook(lambda g: record.append(g.tolist()) or g * 3)
        y = (x * x).sin()
        y.retain_grad()
        y.register_hook(lambda g: record.append(g.tolist()) or g - 1)
        z = y.exp() * x
        z.retain_grad()
        (z.sum() + (y * 2).sum()).backward()
        return record, x.grad.tolist(), y.grad.tolist(), z.grad.tolist()

    ours, theirs = script(tg), script(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-6)
