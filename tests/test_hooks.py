"""Forward hooks and Module.requires_grad_, with PyTorch's semantics: pre-hooks see (and may
replace) the positional arguments, forward hooks the output; both run in registration
order and come out with the handle's remove()."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


class Scale(nn.Module):
    def forward(self, x, factor=1.0):
        return x * factor


def test_hooks_run_in_registration_order_around_forward(device):
    log = []
    layer = Scale()
    layer.register_forward_pre_hook(lambda m, args: log.append(("pre 1", m, args)))
    layer.register_forward_pre_hook(lambda m, args: log.append(("pre 2", m, args)))
    layer.register_forward_hook(lambda m, args, out: log.append(("post 1", m, args, out)))
    layer.register_forward_hook(lambda m, args, out: log.append(("post 2", m, args, out)))
    x = tg.ones(2, device=device)
    out = layer(x, factor=3.0)
    assert [entry[0] for entry in log] == ["pre 1", "pre 2", "post 1", "post 2"]
    assert all(entry[1] is layer for entry in log)
    # torch: keyword arguments go to forward, not to the hooks (args holds the positional ones)
    assert log[0][2] == (x,) and log[2][2] == (x,)
    assert log[2][3] is out and log[3][3] is out
    np.testing.assert_array_equal(out.numpy(), [3.0, 3.0])


def test_pre_hook_may_replace_the_arguments_and_forward_hook_the_output(device):
    layer = Scale()
    x = tg.tensor([1.0, 2.0], device=device)
    tuple_handle = layer.register_forward_pre_hook(lambda m, args: (args[0] * 10,))
    np.testing.assert_array_equal(layer(x).numpy(), [10.0, 20.0])
    tuple_handle.remove()
    layer.register_forward_pre_hook(lambda m, args: args[0] + 1)         # not a tuple: wrapped in one
    seen = []
    layer.register_forward_hook(lambda m, args, out: seen.append(args[0].numpy().tolist()))  # None: output kept
    layer.register_forward_hook(lambda m, args, out: out * -1)
    np.testing.assert_array_equal(layer(x).numpy(), [-2.0, -3.0])
    assert seen == [[2.0, 3.0]]                       # the forward hook sees the replaced arguments


def test_remove_unregisters_once_and_for_all(device):
    calls = []
    layer = Scale()
    handle = layer.register_forward_hook(lambda m, args, out: calls.append(1))
    other = layer.register_forward_hook(lambda m, args, out: calls.append(2))
    layer(tg.ones(1, device=device))
    handle.remove()
    handle.remove()                                   # a second remove does nothing
    layer(tg.ones(1, device=device))
    assert calls == [1, 2, 2] and handle.id != other.id
    with layer.register_forward_pre_hook(lambda m, args: calls.append(3)):
        layer(tg.ones(1, device=device))
    layer(tg.ones(1, device=device))
    assert calls == [1, 2, 2, 3, 2, 2]


def test_a_hook_may_remove_itself_while_hooks_run():
    layer = Scale()
    calls = []

    def once(module, args, out):
        calls.append("once")
        handles[0].remove()

    handles = [layer.register_forward_hook(once)]
    layer.register_forward_hook(lambda m, args, out: calls.append("always"))
    layer(tg.ones(1))
    layer(tg.ones(1))
    assert calls == ["once", "always", "always"]


def test_hooks_on_children_see_every_layer_of_a_sequential(device):
    """The usual use: record the activations of a model without changing its code."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2)).to(device)
    shapes = []
    handles = [m.register_forward_hook(lambda m, args, out: shapes.append((type(m).__name__, out.shape)))
               for m in model]
    model(tg.randn(5, 3, device=device))
    assert shapes == [("Linear", (5, 4)), ("Sigmoid", (5, 4)), ("Linear", (5, 2))]
    for h in handles:
        h.remove()
    model(tg.randn(5, 3, device=device))
    assert len(shapes) == 3


def test_hooks_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for library, tensor in ((torch.nn, torch.tensor), (nn, tg.tensor)):
        layer = library.Linear(2, 2)
        layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        layer.register_forward_hook(lambda m, args, out: out * 0 + args[0].sum())
        with (torch.no_grad() if library is torch.nn else tg.no_grad()):
            results.append(layer(tensor([[1.0, 2.0]])).numpy())
    np.testing.assert_array_equal(results[0], results[1])     # 2 * (1 + 2) = 6 in both places


def test_requires_grad_freezes_and_unfreezes_every_parameter(device):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).to(device)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    out = model(tg.randn(4, 3, device=device))
    assert not out.requires_grad                      # nothing to differentiate: a frozen model
    model[1].requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    model(tg.randn(4, 3, device=device)).sum().backward()
    assert model[0].weight.grad is None and model[1].weight.grad is not None
    assert not model[1].running_mean.requires_grad    # buffers are not parameters
