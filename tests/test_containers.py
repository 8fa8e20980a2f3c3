"""ModuleList and ModuleDict: a Python list / dict of modules whose parameters are the
container's, with PyTorch's names ("0.weight", "encoder.bias"), order and errors.
(Sequential: tests/test_module.py.)"""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def names(module):
    return list(module.state_dict())


def test_module_list_registers_its_modules_under_their_positions(device):
    layers = nn.ModuleList([nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]).to(device)
    # torch 2.13: list(ModuleList([Linear(2, 3), ReLU(), Linear(3, 1)]).state_dict())
    assert names(layers) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(layers.parameters())) == 4 and all(p.device == device for p in layers.parameters())
    assert len(layers) == 3 and [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Linear"]
    assert layers[-1] is layers[2] and layers.eval() is layers and not layers[0].training


def test_module_list_in_a_model_trains_its_parameters(device):
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    model = Stack().to(device)
    assert names(model)[:2] == ["layers.0.weight", "layers.0.bias"] and len(names(model)) == 6
    model(tg.randn(4, 2, device=device)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_module_list_edits_renumber_as_a_list_does():
    a, b, c, d = nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 2), nn.ReLU()
    layers = nn.ModuleList([a, b])
    assert layers.append(c) is layers and layers.extend([d]) is layers
    assert list(layers) == [a, b, c, d]
    layers.insert(1, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Linear", "Identity", "Tanh", "Linear", "ReLU"]
    layers.insert(-1, nn.Sigmoid())                  # before the last, as list.insert
    assert type(layers[-2]).__name__ == "Sigmoid" and layers[-1] is d
    del layers[1]
    del layers[-2:]
    assert list(layers) == [a, b, c]
    assert list(layers._modules) == ["0", "1", "2"]             # renumbered, no gaps
    layers[1] = d
    assert list(layers) == [a, d, c] and names(layers) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_module_list_slices_are_module_lists():
    layers = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2)])
    tail = layers[1:]
    assert isinstance(tail, nn.ModuleList) and list(tail) == [layers[1], layers[2]]
    assert names(tail) == ["1.weight", "1.bias"]                # renumbered from 0


@pytest.mark.parametrize("edit, error, message", [
    (lambda m: m[3], IndexError, "index 3 is out of range for a ModuleList of 3 modules"),
    (lambda m: m[-4], IndexError, "index -4 is out of range"),
    (lambda m: m.__setitem__(5, nn.ReLU()), IndexError, "index 5 is out of range"),
    (lambda m: m["0"], TypeError, "'str' object cannot be interpreted as an integer"),
    (lambda m: m.append(3), TypeError, "expected a Module or None, got int"),
    (lambda m: m.extend(nn.ReLU()), TypeError, "extend expects an iterable of modules, got ReLU"),
    (lambda m: m.extend([nn.ReLU(), "relu"]), TypeError, "got str"),
    (lambda m: m.insert(0, 3.0), TypeError, "got float"),
])
def test_module_list_errors_change_nothing(edit, error, message):
    layers = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Tanh()])
    before = list(layers)
    with pytest.raises(error, match=message):
        edit(layers)
    assert list(layers) == before and list(layers._modules) == ["0", "1", "2"]


def test_module_list_has_no_forward():
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        nn.ModuleList([nn.ReLU()])(tg.zeros(1))


def test_module_list_repr_folds_runs_of_identical_modules():
    # torch 2.13 prints a run of equal reprs once: "(0-1): 2 x Linear(...)"
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 3)])
    assert repr(layers) == ("ModuleList(\n"
                            "  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
                            "  (2): ReLU()\n"
                            "  (3): Linear(in_features=2, out_features=3, bias=True)\n"
                            ")")
    assert repr(nn.ModuleList()) == "ModuleList()"
    nested = nn.ModuleList([nn.Sequential(nn.ReLU())])
    assert repr(nested) == "ModuleList(\n  (0): Sequential(\n    (0): ReLU()\n  )\n)"


def test_module_dict_keeps_insertion_order_and_names_children_by_key(device):
    encoder, act = nn.Linear(4, 2), nn.ReLU()
    blocks = nn.ModuleDict({"encoder": encoder, "act": act}).to(device)
    assert list(blocks) == ["encoder", "act"] == list(blocks.keys())
    assert list(blocks.values()) == [encoder, act] and list(blocks.items()) == [("encoder", encoder), ("act", act)]
    assert blocks["encoder"] is encoder and "act" in blocks and "decoder" not in blocks and len(blocks) == 2
    assert names(blocks) == ["encoder.weight", "encoder.bias"]
    blocks["decoder"] = nn.Linear(2, 4)
    blocks["encoder"] = nn.Linear(4, 3)                       # replaced where it was
    assert list(blocks) == ["encoder", "act", "decoder"] and blocks["encoder"].out_features == 3
    assert blocks.pop("act") is act and list(blocks) == ["encoder", "decoder"]
    del blocks["decoder"]
    assert list(blocks) == ["encoder"]
    blocks.update([("z", nn.Tanh()), ("a", nn.Sigmoid())])
    blocks.update(nn.ModuleDict({"b": nn.ReLU()}))
    assert list(blocks) == ["encoder", "z", "a", "b"]
    blocks.clear()
    assert len(blocks) == 0 and names(blocks) == [] and repr(blocks) == "ModuleDict()"


@pytest.mark.parametrize("update, error, message", [
    ([("ok", nn.ReLU()), ("bad", 3)], TypeError, "expected a Module or None, got int"),
    ([("ok", nn.ReLU()), 7], TypeError, "element 1 should be a \\(key, module\\) pair, got 7"),
    ([("ok", nn.ReLU()), ("a.b", nn.ReLU())], KeyError, "module name must be non-empty and without"),
    ([("ok", nn.ReLU()), ("", nn.ReLU())], KeyError, "module name must be non-empty"),
    ([("ok", nn.ReLU()), ("training", nn.ReLU())], KeyError, "attribute 'training' already exists"),
    ([("ok", nn.ReLU()), (1, nn.ReLU())], TypeError, "module name should be a string, got int"),
    (3, TypeError, "expects a mapping or an iterable of \\(key, module\\) pairs, got int"),
])
def test_module_dict_update_checks_everything_before_adding(update, error, message):
    blocks = nn.ModuleDict({"first": nn.Tanh()})
    with pytest.raises(error, match=message):
        blocks.update(update)
    assert list(blocks) == ["first"]


def test_module_dict_missing_key_is_a_key_error():
    with pytest.raises(KeyError, match="missing"):
        nn.ModuleDict()["missing"]


def test_containers_match_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU()])
    ours = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    assert repr(ours) == repr(theirs) and names(ours) == list(theirs.state_dict())
    theirs_dict = torch.nn.ModuleDict({"b": torch.nn.Linear(1, 1), "a": torch.nn.ReLU()})
    ours_dict = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.ReLU()})
    assert repr(ours_dict) == repr(theirs_dict) and names(ours_dict) == list(theirs_dict.state_dict())


def test_state_dict_round_trip_through_a_module_list():
    source, target = (nn.ModuleList([nn.Linear(3, 2), nn.BatchNorm1d(2)]) for _ in range(2))
    source[1](tg.randn(5, 2))
    target.load_state_dict({k: v.numpy().copy() for k, v in source.state_dict().items()})
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_parameter_list_registers_its_parameters_in_order(device):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.ParameterList([nn.Parameter(tg.ones(2, device=device) * i) for i in range(3)])

        def forward(self, x):
            for w in self.weights:
                x = x * w
            return x

    model = Model()
    assert [name for name, _ in model.named_parameters()] == ["weights.0", "weights.1", "weights.2"]
    assert len(model.weights) == 3 and model.weights[-1].tolist() == [2.0, 2.0]
    model.weights.append(tg.full((2,), 5.0, device=device))          # a Tensor becomes a Parameter
    assert isinstance(model.weights[3], nn.Parameter) and model.weights[3].requires_grad
    model.weights[0] = nn.Parameter(tg.full((2,), 3.0, device=device))
    model(tg.ones(2, device=device)).sum().backward()
    assert model.weights[0].grad.tolist() == [10.0, 10.0]             # d(x w0 w1 w2 w3)/dw0 = 1 * 1 * 2 * 5
    assert len(list(model.parameters())) == 4 and isinstance(model.weights[1:], nn.ParameterList)
    with pytest.raises(IndexError):
        model.weights[7]
    with pytest.raises(TypeError, match="holds Parameters"):
        model.weights.append(3.0)


def test_parameter_dict_and_its_state_dict(device):
    d = nn.ParameterDict({"scale": nn.Parameter(tg.ones(3, device=device)), "shift": tg.zeros(3, device=device)})
    assert list(d.keys()) == ["scale", "shift"] and "scale" in d and len(d) == 2
    assert isinstance(d["shift"], nn.Parameter)
    d.update([("extra", tg.ones(1, device=device))])
    assert list(d.state_dict()) == ["scale", "shift", "extra"]
    assert d.pop("extra").shape == (1,) and "extra" not in d
    with pytest.raises(TypeError, match="holds Parameters"):
        d["bad"] = [1.0]
    assert repr(d) == ("ParameterDict(\n    (scale): Parameter containing: [float32 of size 3]\n"
                       "    (shift): Parameter containing: [float32 of size 3]\n)")


def test_unflatten_inverts_flatten(device):
    x = tg.randn(2, 3, 4, device=device)
    flat = nn.Flatten()(x)
    assert nn.Unflatten(1, (3, 4))(flat).tolist() == x.tolist()
    assert nn.Unflatten(-1, (-1, 2))(flat).shape == (2, 6, 2)
    assert x.unflatten(2, (2, 2)).shape == (2, 3, 2, 2) and repr(nn.Unflatten(1, (3, 4))) == \
        "Unflatten(dim=1, unflattened_size=(3, 4))"
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        flat.unflatten(1, (5, 2))
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        flat.unflatten(1, (-1, -1))


def test_parameter_containers_name_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Module(), torch.nn.Module()
    ours.p = nn.ParameterList([nn.Parameter(tg.ones(2)), nn.Parameter(tg.ones(2, 3))])
    theirs.p = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2, 3))])
    ours.d = nn.ParameterDict({"a": nn.Parameter(tg.ones(1))})
    theirs.d = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.ones(1))})
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours.p).replace("float32", "torch.float32") == repr(theirs.p)
