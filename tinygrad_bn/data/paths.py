"""Where data files live: the data root.

The root is, in order: the ``root`` argument, the environment variable
``$TINYGRAD_BN_DATA``, then a per-user cache directory,
``$XDG_CACHE_HOME/tinygrad_bn`` (``~/.cache/tinygrad_bn`` when XDG_CACHE_HOME
is unset).
"""
import os
from pathlib import Path

ENV_VAR = "TINYGRAD_BN_DATA"


def data_root(root=None):
    """The data root as a ``Path`` (not created here)."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "tinygrad_bn"
