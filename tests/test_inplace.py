"""In-place operations as in PyTorch: they write into the tensor (and its views),
refuse to change a leaf that requires grad outside no_grad, are recorded when the
tensor is part of a graph, and a version counter makes backward raise when a
value it needs was changed after forward."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn

MODIFIED = "modified by an inplace operation"


def test_manual_sgd_under_no_grad_updates_the_parameter_itself(device):
    """The loop of every autograd tutorial: ``p -= lr * p.grad`` changes p in place."""
    w = tg.tensor([1.0, -2.0], requires_grad=True, device=device)
    alias = w
    (w * w).sum().backward()                        # dL/dw = 2w = [2, -4]
    with tg.no_grad():
        w -= 0.1 * w.grad
    assert w is alias and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)


def test_manual_sgd_on_a_module_trains_it(device):
    tg.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    x, y = tg.randn(8, 3, device=device), tg.randn(8, 1, device=device)
    before = model.weight.detach().numpy().copy()
    losses = []
    for _ in range(20):
        loss = ((model(x) - y) ** 2).mean()
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with tg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert not np.array_equal(model.weight.detach().numpy(), before)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name, op, expected", [
    ("+=", lambda x: x.__iadd__(2.0), [3.0, 4.0]),
    ("-=", lambda x: x.__isub__(2.0), [-1.0, 0.0]),
    ("*=", lambda x: x.__imul__(3.0), [3.0, 6.0]),
    ("/=", lambda x: x.__itruediv__(4.0), [0.25, 0.5]),
    ("**=", lambda x: x.__ipow__(2.0), [1.0, 4.0]),
    ("add_ alpha", lambda x: x.add_(tg.ones(2, device=x.device), alpha=3), [4.0, 5.0]),
    ("sub_ alpha", lambda x: x.sub_(tg.ones(2, device=x.device), alpha=2), [-1.0, 0.0]),
    ("mul_", lambda x: x.mul_(tg.tensor([2.0, -1.0], device=x.device)), [2.0, -2.0]),
    ("div_", lambda x: x.div_(2), [0.5, 1.0]),
    ("zero_", lambda x: x.zero_(), [0.0, 0.0]),
    ("fill_", lambda x: x.fill_(7), [7.0, 7.0]),
    ("copy_", lambda x: x.copy_(tg.tensor([5, 6])), [5.0, 6.0]),
    ("clamp_", lambda x: x.clamp_(min=1.5), [1.5, 2.0]),
    ("masked_fill_", lambda x: x.masked_fill_(tg.tensor([True, False], device=x.device), -1.0), [-1.0, 2.0]),
])
def test_in_place_ops_write_into_the_same_tensor_and_its_views(device, name, op, expected):
    x = tg.tensor([1.0, 2.0], device=device)
    view = x.reshape(2, 1)
    version = x._version[0]
    result = op(x)
    assert result is x
    np.testing.assert_allclose(x.numpy(), expected)
    np.testing.assert_allclose(view.numpy().reshape(-1), expected)      # the view sees the write
    assert x._version[0] == version + 1


def test_normal_and_uniform_draw_from_the_seeded_generator(device):
    tg.manual_seed(3)
    a = tg.zeros(1000, device=device).normal_(2.0, 0.5).numpy()
    b = tg.zeros(1000, device=device).uniform_(-1.0, 3.0).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(tg.empty(1000, device=device).normal_(2.0, 0.5).numpy(), a)
    assert abs(a.mean() - 2.0) < 0.1 and abs(a.std() - 0.5) < 0.05
    assert b.min() >= -1.0 and b.max() < 3.0 and abs(b.mean() - 1.0) < 0.2


def test_setitem_writes_in_place(device):
    x = tg.zeros(2, 3, device=device)
    x[0] = 1.0
    x[1, 1:] = tg.tensor([2.0, 3.0], device=device)
    x[x > 2.5] = -1.0
    np.testing.assert_array_equal(x.numpy(), [[1, 1, 1], [0, 2, -1]])
    labels = tg.tensor([1, 2, 3], device=device)
    labels[0] = 9.7                                  # cast to the tensor's dtype, as torch truncates
    assert labels.tolist() == [9, 2, 3]


def test_leaf_that_requires_grad_cannot_change_in_place_outside_no_grad(device):
    w = tg.ones(3, requires_grad=True, device=device)
    for change in (lambda: w.add_(1), lambda: w.__iadd__(1), lambda: w.zero_(),
                   lambda: w.__setitem__(0, 5.0), lambda: w.normal_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                                               "in-place operation"):
            change()
    np.testing.assert_array_equal(w.detach().numpy(), [1, 1, 1])     # nothing changed
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        w[:2].add_(1)
    with tg.no_grad():
        w[:2].add_(1)
        w[2] = 7.0
    np.testing.assert_array_equal(w.detach().numpy(), [2, 2, 7])


def test_in_place_on_a_non_leaf_is_recorded():
    """y = 2x; y += x^2 (in place); d sum(y) / dx = 2 + 2x, as in PyTorch."""
    x = tg.tensor([1.0, -3.0], dtype=tg.float64, requires_grad=True)
    y = x * 2
    y += x * x
    assert not y.is_leaf and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -4.0])


def test_recorded_in_place_mul_uses_the_old_value_for_the_other_operand():
    """y = x + 1; y *= w: dL/dw = x + 1 (the value before the change), dL/dx = w."""
    x = tg.tensor([2.0, 5.0], dtype=tg.float64, requires_grad=True)
    w = tg.tensor([3.0, -1.0], dtype=tg.float64, requires_grad=True)
    y = x + 1
    y.mul_(w)
    y.backward(tg.tensor([1.0, 10.0], dtype=tg.float64))
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 60.0])
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -10.0])


def test_earlier_uses_keep_their_gradient_path_after_an_in_place_change():
    """z uses y before y.mul_(3): dz/dx goes through y's old history only (PyTorch's edges
    are fixed when a node is made)."""
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x * 2
    z = y + 0                          # Add saves nothing: z's path to x stays valid
    y.mul_(3)
    (z.sum() + y.sum()).backward()     # d/dx: 2 (through z) + 6 (through y = 6x)
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 8.0])


def test_a_leaf_that_gains_a_graph_in_place_does_not_reroute_earlier_uses():
    a = tg.zeros(2, dtype=tg.float64)
    w = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    before = a + w                     # uses a while it is a constant (Add saves nothing)
    a.add_(w)                          # a = w now, recorded
    (before.sum() + (a * 3).sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 4.0])      # 1 (through before) + 3, as torch


@pytest.mark.parametrize("make, change, saved_by", [
    (lambda x: x.sigmoid(), lambda y: y.mul_(2), "Sigmoid"),     # sigmoid saves its output
    (lambda x: x.exp(), lambda y: y.add_(1), "Exp"),
    (lambda x: x.tanh(), lambda y: y.__setitem__(0, 0.0), "Tanh"),
])
def test_changing_a_saved_output_is_detected_at_backward(device, make, change, saved_by):
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True, device=device)
    y = make(x)
    change(y)
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        y.sum().backward()
    message = str(info.value)
    assert saved_by in message and "(3,)" in message and "version 1" in message and "version 0" in message


def test_changing_a_saved_input_is_detected_at_backward(device):
    """z = x * w saves x; changing x (a plain tensor) afterwards makes dz/dw wrong, so torch raises."""
    x = tg.tensor([1.0, 2.0], device=device)
    w = tg.tensor([3.0, 4.0], requires_grad=True, device=device)
    z = x * w
    x += 1
    with pytest.raises(RuntimeError, match=r"(?s)modified by an inplace operation.*Mul"):
        z.sum().backward()


def test_changing_a_view_of_a_saved_tensor_is_detected(device):
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    w = tg.ones(2, 2, requires_grad=True, device=device)
    z = x * w
    x[0].fill_(0.0)                    # a view shares the counter of its base
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()


def test_changes_after_backward_and_changes_nobody_saved_are_fine(device):
    x = tg.tensor([1.0, 2.0], device=device)
    w = tg.tensor([3.0, 4.0], requires_grad=True, device=device)
    z = x * w
    z.sum().backward()
    x += 1                                  # after backward: nothing left to corrupt
    y = w + x                               # Add saves nothing
    x.mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 3.0])   # 1 + 2, 2 + 1


def test_optimizer_style_updates_between_forward_and_backward_are_detected(device):
    """A weight changed (in place, under no_grad) after forward but before backward:
    the weight's value in the saved graph is stale, so backward raises, as in torch."""
    w = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    x = tg.tensor([3.0, 4.0], requires_grad=True, device=device)
    loss = (x * w).sum()
    with tg.no_grad():
        w.mul_(0.5)
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_an_optimizer_step_between_forward_and_backward_is_detected(device):
    from tinygrad_bn import optim
    w = nn.Parameter(tg.tensor([1.0, 2.0], device=device))
    x = tg.tensor([3.0, 4.0], requires_grad=True, device=device)
    opt = optim.SGD([w], lr=0.1)
    (x * w).sum().backward()
    loss = (x * w).sum()
    opt.step()                                   # w changes: loss's graph saved the old w
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_in_place_results_must_fit_the_tensor(device):
    x = tg.zeros(3, dtype=tg.int64, device=device)
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int64"):
        x += 1.5
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        tg.zeros(3, device=device).add_(tg.ones(2, 3, device=device))
    assert x.tolist() == [0, 0, 0] and x._version[0] == 0       # a failed write changes nothing
    y = tg.zeros(3, device=device)
    y += tg.ones(3, dtype=tg.float64, device=device)            # float64 into float32: same kind, allowed
    assert y.dtype == tg.float32 and y.tolist() == [1.0, 1.0, 1.0]


def test_in_place_on_a_view_inside_a_graph_is_refused_with_a_way_out():
    x = tg.ones(4, dtype=tg.float64, requires_grad=True)
    y = x * 2
    v = y[:2]
    with pytest.raises(RuntimeError, match="clone"):
        v.add_(1)
    with pytest.raises(RuntimeError, match="has views"):
        y.add_(1)
    u = (x * 2).clone()
    u.add_(1)                                       # no views: recorded
    u.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0] * 4)


def test_copy_is_differentiable_in_the_source():
    src = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    dst = tg.zeros(3, 2, dtype=tg.float64)
    dst.copy_(src)                                   # broadcast over the rows
    (dst * tg.tensor([[1.0], [2.0], [3.0]], dtype=tg.float64)).sum().backward()
    np.testing.assert_allclose(src.grad.numpy(), [6.0, 6.0])


def test_recorded_setitem_sends_gradients_to_the_value_and_the_untouched_places():
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    v = tg.tensor(10.0, dtype=tg.float64, requires_grad=True)
    y = x * 1.0
    y[1:] = v * 2                                     # broadcast to 2 places
    y.backward(tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 0.0])
    assert v.grad.item() == pytest.approx(2 * (2.0 + 3.0))


@given(st.lists(st.floats(-4, 4), min_size=1, max_size=6), st.floats(-3, 3))
def test_in_place_chain_has_the_gradient_of_its_out_of_place_twin(values, scale):
    x = tg.tensor(values, dtype=tg.float64, requires_grad=True)

    def in_place(t):
        y = t * 1.0
        y.mul_(t)
        y += scale
        y.clamp_(-2.0, 5.0)
        return y

    def out_of_place(t):
        return ((t * 1.0) * t + scale).clamp(-2.0, 5.0)

    np.testing.assert_allclose(in_place(x).detach().numpy(), out_of_place(x).detach().numpy())
    upstream = tg.tensor(np.linspace(-1, 2, len(values)), dtype=tg.float64)
    a, = tg.autograd.grad(in_place(x), x, upstream)
    b, = tg.autograd.grad(out_of_place(x), x, upstream)
    np.testing.assert_allclose(a.numpy(), b.numpy())


def test_init_functions_work_through_in_place_ops(device):
    w = nn.Parameter(tg.zeros(4, 5, device=device))
    version = w._version[0]
    nn.init.xavier_uniform_(w)                  # outside no_grad on a leaf that requires grad: allowed
    assert w._version[0] == version + 1 and w.requires_grad and w.is_leaf
    assert np.abs(w.detach().numpy()).max() > 0


def test_against_torch_in_place_semantics():
    torch = pytest.importorskip("torch")
    a, b = torch.tensor([1.0, 2.0], requires_grad=True), tg.tensor([1.0, 2.0], requires_grad=True)
    for lib, x in ((torch, a), (tg, b)):
        y = x * 2
        y.mul_(x)
        y += 1
        y.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy())
    with pytest.raises(RuntimeError) as mine:
        tg.ones(2, requires_grad=True).add_(1)
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(2, requires_grad=True).add_(1)
    assert str(mine.value) == str(theirs.value)
