"""Named tuples returned by reductions that give values and indices, as ``torch.return_types``:
``values, indices = x.max(dim=1)`` or ``x.max(dim=1).indices``."""
from collections import namedtuple

max = namedtuple("max", ["values", "indices"])   # noqa: A001  (torch.return_types.max)
min = namedtuple("min", ["values", "indices"])   # noqa: A001
topk = namedtuple("topk", ["values", "indices"])
sort = namedtuple("sort", ["values", "indices"])
median = namedtuple("median", ["values", "indices"])

min_max = {"max": max, "min": min}
