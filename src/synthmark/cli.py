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


# ---- synthmark audit ... (audit log: verify, purge, export, show)

def _audit_open(args, *, read_only: bool):
    from .audit import AuditLog, default_store_url
    from .keys import Key

    key = Key.load(args.key) if getattr(args, "key", None) else None
    url = args.store or default_store_url()
    return AuditLog(url, key=key, read_only=read_only)


def _cmd_audit_verify(args) -> int:
    with _audit_open(args, read_only=True) as log:
        result = log.verify()
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _cmd_audit_purge(args) -> int:
    with _audit_open(args, read_only=False) as log:
        result = log.purge(args.older_than)
    if result.purged:
        print(f"purged {result.purged} records through seq {result.through_seq}; anchor record seq {result.anchor.seq}")
    else:
        print(f"nothing to purge: no records older than {args.older_than} days")
    return 0


def _cmd_audit_export(args) -> int:
    with _audit_open(args, read_only=True) as log:
        if args.output in (None, "-"):
            n = log.export(sys.stdout, args.since, args.until, args.format)
        else:
            with open(args.output, "w", encoding="utf-8", newline="") as f:
                n = log.export(f, args.since, args.until, args.format)
    print(f"exported {n} records", file=sys.stderr)
    return 0


def _cmd_audit_show(args) -> int:
    import json

    with _audit_open(args, read_only=True) as log:
        rec = log.get(args.event_id)
    if rec is None:
        print(f"synthmark: error: no audit record with event id {args.event_id}", file=sys.stderr)
        return 1
    print(json.dumps(rec.to_dict(), ensure_ascii=False, sort_keys=True, indent=2))
    return 0


def _add_audit_parser(sub) -> None:
    audit = sub.add_parser("audit", help="audit log: verify, purge, export, show")
    asub = audit.add_subparsers(dest="audit_command", required=True)
    store_help = "audit store URL (sqlite:///file.db, postgresql://...; default $SYNTHMARK_AUDIT or ./synthmark-audit.db)"

    p = asub.add_parser("verify", help="walk the hash chain; exit 1 when it is broken")
    p.add_argument("--key", help="key file to check the records' MACs (signed logs)")
    p.set_defaults(func=_cmd_audit_verify)
    p_verify = p

    p = asub.add_parser("purge", help="delete records older than DAYS (>= the 180-day minimum), keep the chain verifiable")
    p.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    p.add_argument("--key", help="key file of a signed log")
    p.set_defaults(func=_cmd_audit_purge)
    p_purge = p

    p = asub.add_parser("export", help="export records for auditors (JSON lines or CSV)")
    p.add_argument("--since", help="ISO time (UTC), inclusive, e.g. 2026-01-01 or 2026-01-01T00:00:00Z")
    p.add_argument("--until", help="ISO time (UTC), exclusive")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.set_defaults(func=_cmd_audit_export)
    p_export = p

    p = asub.add_parser("show", help="print one record")
    p.add_argument("event_id")
    p.set_defaults(func=_cmd_audit_show)
    for p in (p_verify, p_purge, p_export, p):
        p.add_argument("--store", default=None, help=store_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthmark", description=__doc__)
    parser.add_argument("--version", action="version", version=f"synthmark {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("keygen", help="create a new secret key file")
    p.add_argument("keyfile")
    p.add_argument("--force", action="store_true", help="overwrite an existing key file")
    p.set_defaults(func=_cmd_keygen)

    _add_audit_parser(sub)

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
