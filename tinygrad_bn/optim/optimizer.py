"""Optimizer: what every optimizer shares (parameter groups, per-parameter state,
a step that checks everything before it writes, zero_grad)."""
from .. import backend
from ..autograd import enable_grad, no_grad
from ..creation import zeros_like
from ..tensor import Tensor


def _describe(t):
    """A tensor's dtype, shape and device, as error messages name them: 'float32 (3, 2) on cpu'."""
    return f"{t.dtype} {tuple(t.shape)} on {t.device}"


def _alike(t, p):
    """Whether ``t`` has the shape, dtype and device of ``p``."""
    return t.data.shape == p.data.shape and t.data.dtype == p.data.dtype and t.device == p.device


def state_buffer(state, name, p):
    """``state[name]``'s array, created as zeros shaped like ``p`` the first time it is needed."""
    if name not in state:
        state[name] = zeros_like(p)
    return state[name].data


class Optimizer:
    """Holds ``param_groups``, a list of dicts, each with its ``params`` and its own
    hyper-parameters (those missing from a group are taken from ``defaults``),
    and ``state``, a dict from parameter to what the update rule remembers
    (Tensors shaped like the parameter, and counters such as ``step``).

    ``params`` is an iterable of Parameters (one group) or of dicts (several groups).

    A subclass checks hyper-parameters in ``_check(group)`` and writes its
    update rule in ``_update_group(group, params)``.
    """

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
                p.grad = None if set_to_none or p.grad is None else zeros_like(p)

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
        (``tg.detect_anomaly()`` finds the operation that made them).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = self._checked_work()
        with backend.float_errors_ignored():
            for group, params in work:
                self._update_group(group, params)
        return loss

    def _checked_work(self):
        """``[(group, its parameters that have a gradient)]``, once every group has passed the checks."""
        work = []
        for i, group in enumerate(self.param_groups):
            self._check(group)
            params = []
            for j, p in enumerate(group["params"]):
                grad = p.grad
                if grad is None:
                    continue
                array, grad_array = p.data, grad.data
                if grad_array.shape != array.shape or grad_array.dtype != array.dtype or grad.device != p.device \
                        or array.dtype.kind not in self._dtype_kinds:
                    raise self._step_error(i, j, p)
                state = self.state.get(p)
                if state and any(isinstance(value, Tensor) and not _alike(value, p) for value in state.values()):
                    raise self._step_error(i, j, p)
                params.append(p)
            work.append((group, params))
        return work

    def _step_error(self, i, j, p):
        """The RuntimeError for parameter ``j`` of group ``i``, naming what does not fit it."""
        if p.data.dtype.kind not in self._dtype_kinds:
            problem = "has a dtype this optimizer cannot update; expected a real floating-point parameter"
        elif not _alike(p.grad, p):
            problem = f"has a gradient that is {_describe(p.grad)}; expected the parameter's shape, dtype and device"
        else:
            name, value = next((name, value) for name, value in self.state[p].items()
                               if isinstance(value, Tensor) and not _alike(value, p))
            problem = (f"has state '{name}' that is {_describe(value)}; expected the parameter's shape, dtype and "
                       "device (was the model moved or cast after the optimizer's first step?)")
        return RuntimeError(f"{type(self).__name__}.step: parameter {j} of group {i} ({_describe(p)}) {problem}; "
                            "no parameter was changed")

    def _update_group(self, group, params):
        """Apply the update rule, with ``group``'s hyper-parameters, to ``params`` (each has a gradient)."""
        raise NotImplementedError
