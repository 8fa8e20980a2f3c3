"""Containers: modules that hold other modules (PyTorch's Sequential, ModuleList, ModuleDict).

A container registers what it holds as its children, so their parameters,
buffers and modes are the container's (``parameters()``, ``state_dict()``,
``train()``, ``to()`` reach them), under the names the container gives them:
"0", "1", ... for Sequential and ModuleList, the keys for ModuleDict.
Sequential also runs them, one after another; the other two only hold them,
for a model whose ``forward`` decides how to use them.
"""
import itertools
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module, Parameter


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(2, 3), Sigmoid())(x)``.

    Takes modules as arguments (named "0", "1", ...) or one OrderedDict of
    name -> module; supports ``len``, iteration, ``model[i]`` and ``model[a:b]``.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range for a Sequential of {len(items)} modules")
        return items[index][1]


class ModuleList(Module):
    """A Python list of modules whose parameters are the list's: children "0", "1", ...
    in list order, renumbered when one is inserted or deleted.

    ``ModuleList([Linear(2, 2), ReLU()])``; ``append``, ``extend``, ``insert``,
    ``len``, iteration, ``layers[i]`` (negative i from the end), ``layers[a:b]``
    (a ModuleList), ``layers[i] = module``, ``del layers[i]`` as for a list.
    It has no ``forward``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _position(self, index):
        """``index`` as a position in [0, len): negative ones count from the end."""
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ModuleList of {len(self)} modules")
        return index % len(self)

    def _renumber(self, modules):
        """Hold exactly ``modules``, as children "0", "1", ... (each checked before any is registered)."""
        for i, module in enumerate(modules):
            self._check_child(str(i), module)
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self)[index])
        return self._modules[str(self._position(index))]

    def __setitem__(self, index, module):
        self.add_module(str(self._position(index)), module)

    def __delitem__(self, index):
        modules = list(self)
        del modules[index if isinstance(index, slice) else self._position(index)]
        self._renumber(modules)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Add every module of the iterable ``modules`` at the end; returns self."""
        if not isinstance(modules, Iterable) or isinstance(modules, Module):
            raise TypeError(f"ModuleList.extend expects an iterable of modules, got {type(modules).__name__}")
        self._renumber(list(self) + list(modules))
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index``, as ``list.insert``."""
        modules = list(self)
        modules.insert(index, module)
        self._renumber(modules)

    def __repr__(self):
        """Like Sequential's, with a run of identical modules on one line, "(0-2): 3 x Linear(...)" (as PyTorch)."""
        if not self._modules:
            return "ModuleList()"
        lines, start = [], 0
        for text, run in itertools.groupby(repr(module) for module in self):
            count = len(list(run))
            label = f"({start}): " if count == 1 else f"({start}-{start + count - 1}): {count} x "
            lines.append((label + text).replace("\n", "\n  "))
            start += count
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A Python dict of modules whose parameters are the dict's: each key is the child's
    name, and keys keep their insertion order.

    ``ModuleDict({"encoder": Linear(4, 2), "act": ReLU()})`` (or an iterable of
    (key, module) pairs); ``d[key]``, ``d[key] = module``, ``del d[key]``, ``in``,
    ``len``, iteration over the keys, ``keys()``, ``values()``, ``items()``,
    ``pop(key)``, ``update(...)``, ``clear()``.  It has no ``forward``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add (or replace) the entries of a mapping, or of an iterable of (key, module)
        pairs, in their order; all are checked before any is added."""
        if isinstance(modules, Mapping) or isinstance(modules, ModuleDict):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable) and not isinstance(modules, Module):
            pairs = [tuple(pair) if isinstance(pair, Iterable) else pair for pair in modules]
        else:
            raise TypeError(f"ModuleDict.update expects a mapping or an iterable of (key, module) pairs, "
                            f"got {type(modules).__name__}")
        for i, pair in enumerate(pairs):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"ModuleDict.update: element {i} should be a (key, module) pair, got {pair!r}")
            self._check_child(*pair)
        for key, module in pairs:
            self._modules[key] = module


class ParameterList(Module):
    """A Python list of Parameters that are the module's own: "0", "1", ... in order.
    ``ParameterList([Parameter(tg.randn(3)) for _ in range(4)])``; ``append``, ``extend``,
    ``len``, iteration and ``plist[i]`` (negative i from the end) as for a list.  A plain
    Tensor put in becomes a Parameter, as in PyTorch."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self)[index])
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ParameterList of {len(self)} parameters")
        return self._parameters[str(index % len(self))]

    def __setitem__(self, index, value):
        position = operator.index(index) % len(self) if len(self) else operator.index(index)
        self[position]                    # (an IndexError for a position that does not exist)
        self.register_parameter(str(position), _as_parameter(value))

    def append(self, value):
        """Add ``value`` at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        """Add every value of the iterable at the end (each checked first); returns self."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend expects an iterable of Parameters, got {type(values).__name__}")
        parameters = [_as_parameter(value) for value in values]
        for parameter in parameters:
            self.append(parameter)
        return self

    def __repr__(self):
        return _parameters_repr("ParameterList", enumerate(self))


class ParameterDict(Module):
    """A Python dict of Parameters that are the module's own, under their keys, in
    insertion order: ``d[key]``, ``d[key] = value``, ``del d[key]``, ``in``, ``len``,
    iteration over the keys, ``keys()``, ``values()``, ``items()``, ``update(...)``,
    ``pop(key)``.  A plain Tensor put in becomes a Parameter, as in PyTorch."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def pop(self, key):
        """Remove ``key`` and return its Parameter."""
        value = self[key]
        del self[key]
        return value

    def update(self, parameters):
        """Add (or replace) the entries of a mapping or of (key, value) pairs, all checked first."""
        pairs = list(parameters.items()) if isinstance(parameters, (Mapping, ParameterDict)) else list(parameters)
        checked = [(key, _as_parameter(value)) for key, value in pairs]
        for key, value in checked:
            self[key] = value

    def __repr__(self):
        return _parameters_repr("ParameterDict", self.items())


def _parameters_repr(name, pairs):
    """One line per Parameter, as PyTorch prints these containers: (key): Parameter containing:
    [float32 of size 2x3]."""
    lines = [f"    ({key}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
             for key, p in pairs]
    return f"{name}(\n" + "\n".join(lines) + "\n)" if lines else f"{name}()"


def _as_parameter(value):
    """A Parameter as it is; a Tensor made one (sharing its data); anything else refused."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"a ParameterList or ParameterDict holds Parameters (or Tensors), got {type(value).__name__}")
