"""RemovableHandle: what registering a hook returns, so the hook can be taken out again."""
import itertools


class RemovableHandle:
    """``handle.remove()`` takes the hook out of the registry it was added to (a second
    call does nothing); ``with handle:`` removes it at the end of the block.

    Each handle has a fresh ``id``, the hook's key in that registry (an ordered dict,
    so hooks run in the order they were registered)."""

    _ids = itertools.count()

    def __init__(self, registry):
        self.registry = registry
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self.registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
