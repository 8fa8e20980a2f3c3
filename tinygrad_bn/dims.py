"""Dimension arguments: negative dims count from the end, as in PyTorch."""


def canonical_dim(dim, ndim):
    """``dim`` (negative counts from the end) as an index in [0, ndim); IndexError
    with PyTorch's message otherwise.  A 0-d tensor accepts -1 and 0."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        try:
            dim = dim.__index__()
        except AttributeError:
            raise TypeError(f"dim must be an int, got {type(dim).__name__} {dim!r}") from None
    extent = max(ndim, 1)
    if not -extent <= dim < extent:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-extent}, {extent - 1}], "
                         f"but got {dim})")
    return dim % extent if ndim else 0


def canonical_dims(dims, ndim):
    """``dims`` (None = all, an int, or a sequence) as a sorted tuple of dims in [0, ndim)."""
    if dims is None:
        return tuple(range(ndim))
    dims = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    normalized = [canonical_dim(d, ndim) for d in dims]
    if len(set(normalized)) != len(normalized):
        raise RuntimeError(f"dim {normalized[0]} appears multiple times in the list of dims {dims}")
    return tuple(sorted(normalized)) if ndim else ()
