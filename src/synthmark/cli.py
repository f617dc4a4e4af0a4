"""The ``synthmark`` command line. Every sub-command is a thin shell over the public API."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .errors import SynthmarkError


def _cmd_keygen(args) -> int:
    from .keys import Key

    key = Key.generate()
    key.save(args.keyfile, overwrite=args.force)
    print(f"wrote key {key.id} to {args.keyfile} (mode 0600; keep it secret)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthmark", description=__doc__)
    parser.add_argument("--version", action="version", version=f"synthmark {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("keygen", help="create a new secret key file")
    p.add_argument("keyfile")
    p.add_argument("--force", action="store_true", help="overwrite an existing key file")
    p.set_defaults(func=_cmd_keygen)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SynthmarkError as exc:
        print(f"synthmark: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthmark: interrupted", file=sys.stderr)
        return 130
