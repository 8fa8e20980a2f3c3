"""Optimizer: what every optimizer shares (parameter groups, per-parameter state, zero_grad)."""
from ..tensor import Tensor


class Optimizer:
    """Holds ``param_groups``, a list of dicts, each with its ``params`` and its own
    hyper-parameters (those missing from a group are taken from ``defaults``),
    and ``state``, a dict from parameter to whatever the update rule remembers.

    ``params`` is an iterable of Parameters (one group) or of dicts (several groups).
    """

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
        """Raise on invalid hyper-parameters (subclasses)."""

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (``.grad = None``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor.wrap(p.xp.zeros_like(p.data), p.device)

    def step(self):
        raise NotImplementedError
