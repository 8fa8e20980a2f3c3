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


class Size(tuple):
    """A tensor's shape, as ``torch.Size``: a tuple of ints (``x.shape == (2, 3)`` holds,
    ``x.shape[0]`` is an int, a slice is a Size) that prints as ``Size([2, 3])`` and
    knows its number of elements."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        values = tuple(sizes)
        for n in values:
            if isinstance(n, bool) or not hasattr(n, "__index__"):
                raise TypeError(f"Size() takes an iterable of 'int' (item {values.index(n)} is "
                                f"'{type(n).__name__}')")
        return tuple.__new__(cls, (n.__index__() for n in values))

    def __repr__(self):
        return f"Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return tuple.__new__(Size, item) if isinstance(index, slice) else item

    def __add__(self, other):
        return tuple.__new__(Size, tuple.__add__(self, tuple(other)))

    def numel(self):
        """The number of elements of a tensor of this shape (1 for ())."""
        count = 1
        for n in self:
            count *= n
        return count
