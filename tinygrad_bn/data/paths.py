"""Where data files live: the data root, and the folders under it where a data set is looked for.

The root is, in order: the ``root`` argument, the environment variable
``$TINYGRAD_BN_DATA``, then a per-user cache directory,
``$XDG_CACHE_HOME/tinygrad_bn`` (``~/.cache/tinygrad_bn`` when XDG_CACHE_HOME
is unset).  Each data set is looked for in the root itself (where a user may
have copied the files) and in its own subfolder of the root (``mnist/``,
``cifar10/``), where downloads go.
"""
import os
from pathlib import Path

ENV_VAR = "TINYGRAD_BN_DATA"
ROOT_RULE = f"The data root is the root argument, else ${ENV_VAR}, else ~/.cache/tinygrad_bn."


def data_root(root=None):
    """The data root as a ``Path`` (not created here)."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "tinygrad_bn"


def search_folders(root, subfolder):
    """The folders a data set is looked for in: the root, then its own ``subfolder`` (where downloads go)."""
    return [root, root / subfolder]


def locate(folders, names):
    """The first ``folder / name`` that exists, trying every name in each folder in turn; None if none does."""
    for folder in folders:
        for name in names:
            if (folder / name).exists():
                return folder / name
    return None
