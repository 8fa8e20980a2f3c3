"""Optimizer: what every optimizer shares (parameter groups, per-parameter state,
a step that checks everything before it writes, zero_grad, state_dict / load_state_dict)."""
import copy
import numbers

from .. import backend
from ..autograd import enable_grad, no_grad
from ..creation import zeros_like
from ..tensor import Tensor


def _describe(t):
    """A tensor's dtype, shape and device, as error messages name them: 'float32 (3, 2) on cpu'."""
    return f"{t.dtype} {tuple(t.shape)} on {t.device}"


def _alike(t, p):
    """Whether ``t`` has the shape, dtype and device of ``p``."""
    return t._data.shape == p._data.shape and t._data.dtype == p._data.dtype and t.device == p.device


def state_buffer(state, name, p):
    """``state[name]``'s array, created as zeros shaped like ``p`` the first time it is needed."""
    if name not in state:
        state[name] = zeros_like(p)
    return state[name]._data


def check_eps(eps):
    """The constant added for stability: eps >= 0."""
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps} (expected eps >= 0)")


def check_betas(betas):
    """Adam's and Adamax's (beta1, beta2): two averaging factors in [0, 1)."""
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    for index, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {beta} (expected 0 <= beta < 1)")


class Optimizer:
    """Holds ``param_groups``, a list of dicts, each with its ``params`` and its own
    hyper-parameters (those missing from a group are taken from ``defaults``),
    and ``state``, a dict from parameter to what the update rule remembers
    (Tensors shaped like the parameter, and counters such as ``step``).

    ``params`` is an iterable of Parameters (one group) or of dicts (several groups).

    A subclass names its state (``_buffers``: Tensors shaped like the parameter;
    ``_counters``: whole numbers; ``_required``: the entries every non-empty
    state holds), checks hyper-parameters in ``_check(group)`` and writes its
    update rule in ``_update_group(group, params)``.
    """

    _buffers, _counters, _required = (), (), ()
    _dtype_kinds = "f"      # the parameter dtypes the rule is written for: real floating point

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with ``params`` and optional hyper-parameters overriding ``defaults``."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a parameter group must be a dict with a 'params' entry, got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one computed by an operation)")
            if id(p) in seen:
                raise ValueError("some parameters appear in more than one parameter group")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)} in a parameter group; "
                             f"expected some of {sorted(self.defaults)}")
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group):
        """Raise ValueError on an invalid hyper-parameter; every optimizer here has ``lr`` and ``weight_decay``."""
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']} (expected lr >= 0)")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} (expected weight_decay >= 0)")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (``.grad = None``, or zeros with ``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                p._grad = None if set_to_none or p._grad is None else zeros_like(p)

    # ------------------------------------------------------------ stepping
    @no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient, in place; returns ``closure()``'s loss.

        ``closure`` (optional) re-evaluates the model and returns the loss; it
        runs first, with gradients recorded.  Then every group's
        hyper-parameters, every gradient (it must have its parameter's shape,
        dtype and device) and every state buffer is checked before anything is
        written, so a step that raises leaves parameters and state as they were.
        Inf and NaN are not errors: they propagate silently, as in PyTorch
        (``tg.detect_anomaly()`` finds the operation that made them).  Each
        updated parameter's version counter moves on, as after any in-place
        operation (docs/autograd.md, section 11).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._update_checked()
        return loss

    @backend.float_errors_ignored()
    def _update_checked(self):
        for group, params in self._checked_work():
            self._update_group(group, params)
            for p in params:                 # an in-place change: a backward that saved p must notice
                p._version[0] += 1

    def _checked_work(self):
        """``[(group, its parameters that have a gradient)]``, once every group has passed the checks."""
        work = []
        for group in self.param_groups:
            self._check(group)
            params = [p for p in group["params"] if p._grad is not None]
            for p in params:
                array, grad = p._data, p._grad
                if grad._data.shape != array.shape or grad._data.dtype != array.dtype or grad.device != p.device \
                        or array.dtype.kind not in self._dtype_kinds:
                    raise self._step_error(p)
                state = self.state.get(p)
                if state:
                    for value in state.values():
                        if isinstance(value, Tensor) and not _alike(value, p):
                            raise self._step_error(p)
            work.append((group, params))
        return work

    def _gradient_and_state(self, p, weight_decay):
        """p's gradient array, with the L2 penalty weight_decay * p added, and p's state,
        its ``step`` counted (the start of every per-coordinate rule but SGD's and Adam's)."""
        g = p._grad._data
        state = self.state.setdefault(p, {})
        state["step"] = state.get("step", 0) + 1
        if weight_decay != 0:
            g = g + weight_decay * p._data
        return g, state

    def _position(self, p):
        """``(i, j)``: parameter ``p`` is the j-th of group i."""
        for i, group in enumerate(self.param_groups):
            for j, q in enumerate(group["params"]):
                if q is p:
                    return i, j

    def _step_error(self, p):
        """The RuntimeError for parameter ``p``, naming it (group and place) and what does not fit it."""
        i, j = self._position(p)
        if p._data.dtype.kind not in self._dtype_kinds:
            problem = "has a dtype this optimizer cannot update; expected a real floating-point parameter"
        elif not _alike(p.grad, p):
            problem = f"has a gradient that is {_describe(p.grad)}; expected the parameter's shape, dtype and device"
        else:
            name, value = next((name, value) for name, value in self.state[p].items()
                               if isinstance(value, Tensor) and not _alike(value, p))
            problem = (f"has state '{name}' that is {_describe(value)}; expected the parameter's shape, dtype and "
                       "device (was the model moved or cast after the optimizer's first step? "
                       "optimizer.load_state_dict(optimizer.state_dict()) moves the state to the parameters)")
        return RuntimeError(f"{type(self).__name__}.step: parameter {j} of group {i} ({_describe(p)}) {problem}; "
                            "no parameter was changed")

    def _update_group(self, group, params):
        """Apply the update rule, with ``group``'s hyper-parameters, to ``params`` (each has a gradient)."""
        raise NotImplementedError

    # ------------------------------------------------------------ saving
    def state_dict(self):
        """The optimizer as PyTorch saves it::

            {"state": {index: {name: Tensor or number}},
             "param_groups": [{hyper-parameter: value, ..., "params": [index, ...]}, ...]}

        Parameters are numbered 0, 1, ... in order across the groups; only
        parameters that have state appear in ``state``.  As in PyTorch (and as
        ``Module.state_dict``), the Tensors are the optimizer's own buffers, not
        copies: ``copy.deepcopy`` the dict for a snapshot that later steps leave alone.
        """
        groups, index = [], {}
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(saved)
        state = {index[id(p)]: dict(entries) for p, entries in self.state.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take hyper-parameters and state from ``state_dict`` (what ``state_dict()``
        returned, perhaps for another copy of the model), matched to this
        optimizer's parameters by position.

        Everything is checked before anything changes: the number of groups and
        of parameters in each, every hyper-parameter, and every state entry (its
        name, and each buffer's shape).  Buffers are copied onto their
        parameter's device and cast to its dtype, so the optimizer shares no
        array with ``state_dict``.  Entries of a group that are not
        hyper-parameters (a scheduler's ``initial_lr``) are kept as they are.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with the keys 'state' and 'param_groups' "
                             "(what state_dict() returns)")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has a different number of parameter "
                             f"groups: {len(saved_groups)}, expected {len(self.param_groups)}")
        groups, by_index = [], {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: group {i} is {saved!r}; expected a dict with 'params'")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: loaded state dict contains a parameter group that "
                                 f"doesn't match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} parameters, expected {len(group['params'])}")
            missing = [key for key in self.defaults if key not in saved]
            if missing:
                raise ValueError(f"{name}.load_state_dict: group {i} lacks the hyper-parameter(s) {missing} "
                                 f"(was it saved by another optimizer?)")
            new_group = copy.deepcopy({key: value for key, value in saved.items() if key != "params"})
            new_group["params"] = group["params"]
            self._check(new_group)
            groups.append(new_group)
            by_index.update(zip(saved["params"], group["params"]))
        if len(by_index) != sum(len(g["params"]) for g in groups):
            raise ValueError(f"{name}.load_state_dict: a parameter index appears twice in the saved groups")
        state = {}
        for index, entries in state_dict["state"].items():
            if index not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {index!r}, which no saved group "
                                 f"lists (they list {sorted(by_index)})")
            p = by_index[index]
            if entries:
                state[p] = self._loaded_state(entries, p, f"{name}.load_state_dict: state of parameter {index}")
        self.param_groups, self.state = groups, state

    def _loaded_state(self, entries, p, where):
        """A checked copy of one parameter's saved state, on ``p``'s device in ``p``'s dtype."""
        unknown = [key for key in entries if key not in self._buffers + self._counters]
        if unknown:
            raise ValueError(f"{where}: unknown entries {unknown}; {type(self).__name__} keeps "
                             f"{list(self._counters + self._buffers)}")
        missing = [key for key in self._required if key not in entries]
        if missing:
            raise ValueError(f"{where}: lacks {missing}")
        loaded = {}
        for key, value in entries.items():
            if key in self._counters:
                if isinstance(value, Tensor) and value._data.size == 1:
                    value = value.item()
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0 \
                        or not float(value).is_integer():
                    raise ValueError(f"{where}: '{key}' is {value!r}; expected a whole number >= 0")
                loaded[key] = int(value)
            else:
                if not isinstance(value, Tensor) or value._data.dtype.kind not in "iuf" + p._data.dtype.kind:
                    raise ValueError(f"{where}: '{key}' is {value!r}; expected a real Tensor of shape {tuple(p.shape)}")
                if value.shape != p.shape:
                    raise ValueError(f"{where}: '{key}' has shape {tuple(value.shape)}; expected the parameter's {tuple(p.shape)}")
                array = backend.to_device(value._data, p.device)
                loaded[key] = Tensor.wrap(array.astype(p._data.dtype, copy=True), p.device)
        return loaded
