"""Command line: ``python -m tinygrad_bn.data download mnist [--root DIR] [--mirror URL ...]``.

Fetches the four MNIST files into ``<root>/mnist/``, each verified against
its published SHA-256; files already present are kept as they are.
"""
import argparse
import sys

from .download import DownloadError
from .mnist import download_mnist
from .paths import data_root


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_bn.data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("download", help="download a data set and verify its checksums")
    fetch.add_argument("dataset", choices=["mnist"])
    fetch.add_argument("--root", default=None,
                       help="data root (default: $TINYGRAD_BN_DATA, else ~/.cache/tinygrad_bn)")
    fetch.add_argument("--mirror", action="append", default=None, metavar="URL",
                       help="base URL to try instead of the built-in mirrors (repeatable, tried in order)")
    args = parser.parse_args(argv)
    try:
        for train in (True, False):
            for path in download_mnist(args.root, train, mirrors=args.mirror):
                print(path)
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST is ready under {data_root(args.root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
