"""Module: the container that holds a model's parameters, buffers and sub-modules.

A module is an object whose attributes are of three kinds, registered as they
are assigned (as in PyTorch):

* ``Parameter``s: tensors the optimizer trains (``self.weight = Parameter(...)``);
* buffers: tensors that are state but not trained, such as BatchNorm's running
  statistics (``self.register_buffer("running_mean", tensor)``);
* sub-modules (``self.layer = Linear(...)``).

Everything else (the model's walk over its parts: ``parameters()``,
``state_dict()``, ``train()``, ``to()``) follows from those three registries,
walked recursively with dotted names such as ``"0.weight"``.

Calling a module runs its ``forward``, between the forward hooks registered on
it, if any: functions that see (and may replace) the arguments before and the
output after, for inspecting or changing a model without editing its code.
"""
from collections import OrderedDict, namedtuple

import numpy

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from ..hooks import RemovableHandle


class Parameter(Tensor):
    """A Tensor that is a trainable part of a Module (``requires_grad=True`` by default).

    ``Parameter(tensor)`` shares the tensor's array (no copy), as in PyTorch;
    ``Parameter(array_or_list)`` copies like ``Tensor(...)``.
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            self._data, self.device, self._version, self._base = data._data, data.device, data._version, None
            self._grad, self.grad_fn, self._requires_grad, self._hooks = None, None, False, None
            if requires_grad:
                self.requires_grad_(True)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclasses set attributes in
    ``__init__`` (after ``super().__init__()``) and define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:     # the only cost when there are none
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before every ``forward``; ``args`` is the tuple of
        positional arguments, and a return value other than None replaces it (a
        non-tuple becomes a 1-tuple).  Returns a handle whose ``remove()`` unregisters it."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after every ``forward``; a return value
        other than None replaces the output.  Returns a handle whose ``remove()`` unregisters it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def _call_with_hooks(self, args, kwargs):
        """pre-hooks (in registration order), forward, forward hooks (in registration order).
        The hooks are copied first, so a hook may remove itself while they run."""
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ------------------------------------------------------------ registration
    def _registries(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning parameters, buffers or modules")
        return self._parameters, self._buffers, self._modules

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._register(self._registries()[0], name, value)
        elif isinstance(value, Module):
            self._register(self._registries()[2], name, value)
        elif name in self.__dict__.get("_parameters", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                f"(a Parameter or None is expected)")
            self._parameters[name] = None
        elif name in self.__dict__.get("_buffers", {}):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                f"(a Tensor or None is expected)")
            self._buffers[name] = value
        elif name in self.__dict__.get("_modules", {}):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                f"(a Module or None is expected)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _register(self, registry, name, value):
        """``registry[name] = value``, with ``name`` first removed from everywhere else;
        a name already in ``registry`` keeps its place in the order (as in PyTorch)."""
        if name not in registry:
            self._forget(name)
        registry[name] = value

    def _forget(self, name):
        """Remove ``name`` from every registry and the plain attributes."""
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent.discard(name)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):           # called only when normal lookup fails
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if any(name in r for r in self._registries()):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add a Parameter (or None, a declared but absent parameter) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, "
                            f"got {type(param).__name__}")
        self._register(self._registries()[0], name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is saved and moved with the module but not trained.

        ``tensor`` may be None (a declared but absent buffer); ``persistent=False``
        keeps it out of ``state_dict()``.
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._register(self._registries()[1], name, tensor)
        self._non_persistent.discard(name)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Register ``module`` (or None) as a child under ``name``: a non-empty string
        without ".", not already an attribute other than a child."""
        self._check_child(name, module)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The module at the dotted path ``target`` ("" is self), as PyTorch's."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part) if isinstance(module, Module) else None
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = child
        return module

    def get_parameter(self, target):
        """The Parameter at the dotted path ``target`` ("block.0.weight")."""
        return self._entry_at(target, "_parameters", "parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` ("bn.running_mean")."""
        return self._entry_at(target, "_buffers", "buffer")

    def _entry_at(self, target, registry, what):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        entries = getattr(module, registry)
        if name not in entries:
            raise AttributeError(f"{type(module).__name__} has no {what} `{name}`")
        return entries[name]

    def _check_child(self, name, module):
        """The errors of ``add_module(name, module)``, raised before anything is registered."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module or None, got {type(module).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"module name must be non-empty and without \".\", got {name!r}")
        self._registries()
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists")

    # ------------------------------------------------------------ walking
    def named_modules(self, prefix=""):
        """(dotted name, module) for this module and every descendant, each once."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) of the direct sub-modules."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, recurse):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        """(dotted name, Parameter) pairs; a parameter shared by two modules appears once."""
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse=True):
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse):
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module, then on self (e.g. to initialise weights)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes
    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording on or off for every parameter (e.g. to freeze
        layers for fine-tuning); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def train(self, mode=True):
        """Set training mode (``self.training``) here and in every sub-module; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (``.grad = None``, as PyTorch does by default)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor.wrap(p.xp.zeros_like(p._data), p.device)

    # ------------------------------------------------------------ moving
    def to(self, device=None, dtype=None):
        """Move every parameter and buffer (in place) to ``device`` and cast the
        floating-point ones to ``dtype``; integer buffers (such as
        ``num_batches_tracked``) keep their dtype.  Returns self."""
        device = None if device is None else backend.check_device(device)
        if dtype is not None and numpy.dtype(dtype).kind != "f":
            raise TypeError(f"Module.to() only accepts floating point dtypes, got {numpy.dtype(dtype)}")

        def convert(t):
            array = t._data if device is None else backend.to_device(t._data, device)
            if dtype is not None and array.dtype.kind == "f":
                array = array.astype(dtype, copy=False)
            return array

        for module in self.modules():
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is None:
                    continue
                grad = t.grad
                t._data = convert(t)
                t.device = device or t.device
                if grad is not None:
                    t._grad = Tensor.wrap(convert(grad), t.device)
        return self

    def double(self):
        """Cast floating-point parameters and buffers to float64."""
        return self.to(dtype=numpy.float64)

    def float(self):
        """Cast floating-point parameters and buffers to float32."""
        return self.to(dtype=numpy.float32)

    def half(self):
        """Cast floating-point parameters and buffers to float16."""
        return self.to(dtype=numpy.float16)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # ------------------------------------------------------------ saving
    def state_dict(self):
        """An ordered dict of dotted name -> Tensor (detached, sharing data) for every
        parameter and persistent buffer."""
        out = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[dot + name] = p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[dot + name] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (Tensors or NumPy arrays, e.g. from ``tg.load``) into the
        parameters and buffers, casting to each one's dtype and device.

        Everything is checked before anything is written: with ``strict`` a
        missing or unexpected key is an error, and a shape mismatch always is;
        on error the module is unchanged.  Returns ``(missing_keys, unexpected_keys)``.
        """
        targets = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    targets[dot + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    targets[dot + name] = b
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)) + ".")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)) + ".")
        values = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else value
            if not hasattr(array, "shape") or not hasattr(array, "dtype"):
                errors.append(f"value for {key!r} is a {type(value).__name__}, expected a Tensor or array.")
                continue
            if tuple(array.shape) != target.shape:
                errors.append(f"size mismatch for {key!r}: copying a value of shape {tuple(array.shape)}, "
                              f"the shape in the current model is {tuple(target.shape)}.")
                continue
            values[key] = backend.to_device(array, target.device).astype(target.dtype, copy=False)
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for key, array in values.items():
                targets[key]._data[...] = array
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside this module's parentheses (its hyper-parameters)."""
        return ""

    def __repr__(self):
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not self._modules:
            return f"{type(self).__name__}({', '.join(lines)})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
