"""Command line: ``python -m tinygrad_bn.data download {mnist,cifar10} [--root DIR] [--mirror URL ...]``.

Fetches the four MNIST files into ``<root>/mnist/`` (each verified against
its published SHA-256) or the CIFAR-10 tarball into ``<root>/cifar10/``
(verified against its published MD5); files already present are kept as
they are.
"""
import argparse
import sys

from .cifar10 import download_cifar10
from .download import DownloadError
from .mnist import download_mnist
from .paths import data_root

NAMES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}


def fetch(dataset, root, mirrors):
    """Download every file of ``dataset`` that is not present yet; the paths of all its files."""
    if dataset == "mnist":
        return [path for train in (True, False) for path in download_mnist(root, train, mirrors=mirrors)]
    return [download_cifar10(root, mirrors=mirrors)]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_bn.data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_command = commands.add_parser("download", help="download a data set and verify its checksums")
    fetch_command.add_argument("dataset", choices=list(NAMES))
    fetch_command.add_argument("--root", default=None,
                               help="data root (default: $TINYGRAD_BN_DATA, else ~/.cache/tinygrad_bn)")
    fetch_command.add_argument("--mirror", action="append", default=None, metavar="URL",
                               help="base URL to try instead of the built-in mirrors (repeatable, tried in order)")
    args = parser.parse_args(argv)
    try:
        for path in fetch(args.dataset, args.root, args.mirror):
            print(path)
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{NAMES[args.dataset]} is ready under {data_root(args.root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
