"""The ``synthmark`` command line. Every sub-command is a thin shell over the public API."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from . import __version__
from .errors import SynthmarkError


def _cmd_keygen(args) -> int:
    from .keys import Key

    key = Key.generate()
    key.save(args.keyfile, overwrite=args.force)
    print(f"wrote key {key.id} to {args.keyfile} (mode 0600; keep it secret)")
    return 0


def _payload_arg(text: str) -> int:
    """--payload: a 64-bit unsigned int, decimal or 0x-hex."""
    try:
        value = int(text, 0)
    except ValueError:
        value = -1
    if not 0 <= value < 1 << 64:
        raise argparse.ArgumentTypeError(f"expected a 64-bit unsigned integer (decimal, or hex as 0x...), got {text!r}")
    return value


def _load_key(path, args=None):
    import warnings

    from .keys import Key

    allow = bool(getattr(args, "allow_insecure_key", False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        key = Key.load(path, allow_insecure=allow)
    for w in caught:
        print(f"synthmark: warning: {w.message}", file=sys.stderr)
    return key


def _allow_insecure_option(p) -> None:
    p.add_argument("--allow-insecure-key", dest="allow_insecure_key", action="store_true",
                   help="load key files that group or others can access (warns; refused otherwise, as ssh does)")


def _cmd_label(args) -> int:
    import warnings

    from .pipeline import label_file

    from .policy import get_policy

    # the host's policy first (user_ref, consent for face/voice edits): refused before any work
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        args.user_ref, _ = get_policy().check_job(user_ref=args.user_ref, edits=args.edits,
                                                  consent_ref=args.consent_ref, recorded=not args.no_audit)
    for w in caught:
        print(f"synthmark: warning: {w.message}", file=sys.stderr)
    key = _load_key(args.key, args)
    from ._progress import CompileNotice, ProgressBar, StatusLine

    line = StatusLine(sys.stderr)
    bar = ProgressBar("labeling", line, enabled=not args.quiet)
    notice = CompileNotice(line) if not args.quiet else contextlib.nullcontext()
    options = {}
    for name in ("video_codec", "crf", "video_bitrate", "preset", "audio_codec", "audio_bitrate", "payload",
                 "propagator", "propagate_id", "user_ref", "edits", "consent_ref", "max_pixels", "max_seconds"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    log = None
    if not args.no_audit:
        from .audit import AuditLog, default_store_url

        audit_key = _load_key(args.audit_key, args) if args.audit_key else None
        log = AuditLog(args.audit or default_store_url(), key=audit_key)  # also reconciles (see audit reconcile)
        if log.last_reconcile is not None and log.last_reconcile.failed:
            print(f"synthmark: note: {log.last_reconcile.summary()} (outputs left unpublished by an earlier crash)",
                  file=sys.stderr)
    try:
        with warnings.catch_warnings(), notice:
            warnings.simplefilter("ignore", RuntimeWarning)  # the report lists what was not applied
            report = label_file(args.input, args.output, key=key, producer=args.producer,
                                content_id=args.content_id, label=args.label, progress=bar, audit=log,
                                overwrite=args.force, **options)
    finally:
        bar.close()
        if log is not None:
            log.close()
    if not args.quiet:
        print(report.summary())
    return 0


def _cmd_inspect(args) -> int:
    import json

    from .pipeline import inspect_file

    key = _load_key(args.key, args) if args.key else None
    options = {} if args.max_pixels is None else {"max_pixels": args.max_pixels}
    report = inspect_file(args.file, key=key, max_seconds=args.max_seconds, **options)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.summary())
    return 0


def _cmd_demo(args) -> int:
    import tempfile
    import warnings
    from pathlib import Path

    from ._progress import CompileNotice, StatusLine
    from .keys import Key
    from .pipeline import inspect_file, label_file
    from .samples import make_clip

    line = StatusLine(sys.stdout)  # the steps and the compile notice share stdout
    print = line.println  # noqa: A001 - every line of the demo goes through the status line
    with tempfile.TemporaryDirectory(prefix="synthmark-demo-") as tmp, CompileNotice(line):
        out_dir = Path(args.keep) if args.keep else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        src, dst = out_dir / "sample.mp4", out_dir / "sample.labeled.mp4"
        print(f"1. making a {args.seconds:g} s sample clip (640x360 H.264 + AAC speech-like audio): {src}")
        # 640x360: the sample is smooth, generated-like content, and at 320x240 it carries too little of
        # the content-bound mark to be read after two lossy encodes (label_file's and the re-upload's)
        make_clip(src, seconds=args.seconds, width=640, height=360)
        key = Key.generate()
        print(f"2. labeling it with a fresh key {key.id} as producer DemoProvider, content id demo-0001")
        from .audit import AuditLog

        with warnings.catch_warnings(), AuditLog(out_dir / "demo-audit.db") as log:
            warnings.simplefilter("ignore", RuntimeWarning)
            report = label_file(src, dst, key=key, producer="DemoProvider", content_id="demo-0001", audit=log,
                                user_ref="demo-user",
                                overwrite=True)  # its own sample files (--keep DIR may hold an earlier run's)
        print(report.summary())
        print("3. inspecting the labeled file with the key")
        print(inspect_file(dst, key=key).summary())
        print("4. inspecting the unlabeled original")
        print(inspect_file(src, key=key).summary())
        from .samples import reencode_without_metadata

        stripped = out_dir / "sample.reuploaded.mp4"
        print("5. a re-upload: plain re-encode (H.264 CRF 23) that drops all metadata, inspected with the key")
        reencode_without_metadata(dst, stripped)
        print(inspect_file(stripped, key=key).summary())
        if args.keep:
            print(f"files kept in {out_dir}")
    return 0
# ---- synthmark audit ... (audit log: verify, purge, export, show)

def _audit_open(args, *, read_only: bool, **options):
    from .audit import AuditLog, default_store_url

    key = _load_key(args.key, args) if getattr(args, "key", None) else None
    url = args.store or default_store_url()
    return AuditLog(url, key=key, read_only=read_only, **options)


def _cmd_audit_verify(args) -> int:
    checkpoints = None
    if args.checkpoint:
        from .audit import load_checkpoints

        checkpoints = [cp for path in args.checkpoint for cp in load_checkpoints(path)]
    with _audit_open(args, read_only=True) as log:
        result = log.verify(checkpoints=checkpoints)
        pending = log.pending()
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.ok and pending:
        print(f"note: {len(pending)} record(s) whose output publication is not confirmed (in flight, or left by a "
              "crash: run 'synthmark audit reconcile')")
    return 0 if result.ok else 1


def _cmd_audit_checkpoint(args) -> int:
    with _audit_open(args, read_only=True) as log:
        cp = log.checkpoint(witness=args.to)
    if args.to is None:
        print(cp.to_json())
    else:
        print(f"checkpoint seq {cp.seq} (head {cp.head_hash}) appended to {args.to}", file=sys.stderr)
    return 0


def _cmd_audit_reconcile(args) -> int:
    with _audit_open(args, read_only=False, reconcile=False) as log:
        result = log.reconcile(all_hosts=args.all_hosts, grace_seconds=args.grace, remove_temp=not args.keep_temp)
    for rec in result.failed:
        d = rec.data
        print(f"failed: event {d['supersedes']} ({d.get('output_path')}): {d.get('reason')}; recorded as event "
              f"{rec.event_id} (seq {rec.seq})")
    print(result.summary())
    return 0


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
    audit = sub.add_parser("audit", help="audit log: verify, purge, export, show, reconcile")
    asub = audit.add_subparsers(dest="audit_command", required=True)
    store_help = "audit store URL (sqlite:///file.db, postgresql://...; default $SYNTHMARK_AUDIT or ./synthmark-audit.db)"

    p = asub.add_parser("verify", help="walk the hash chain; exit 1 when it is broken")
    p.add_argument("--key", help="key file to check the records' MACs (signed logs)")
    p.add_argument("--checkpoint", action="append", metavar="FILE",
                   help="checkpoints kept by a witness (JSON lines, see AuditLog(witness=...)): the log must still "
                        "hold each one's record with its hash; repeatable")
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

    p = asub.add_parser("reconcile", help="settle records whose output publication was interrupted (crash): "
                        "append a 'failed' record for each output that is not at its path with its hash")
    p.add_argument("--key", help="key file of a signed log")
    p.add_argument("--all-hosts", dest="all_hosts", action="store_true",
                   help="also settle records of other hosts (outputs on a shared file system)")
    p.add_argument("--grace", type=float, default=300.0, metavar="SECONDS",
                   help="with --all-hosts: only records older than this (default 300)")
    p.add_argument("--keep-temp", dest="keep_temp", action="store_true", help="keep leftover temporary outputs")
    p.set_defaults(func=_cmd_audit_reconcile)
    p_reconcile = p

    p = asub.add_parser("show", help="print one record")
    p.add_argument("event_id")
    p.set_defaults(func=_cmd_audit_show)
    p_show = p

    p = asub.add_parser("checkpoint", help="a checkpoint of the log's head (seq, hash, time; MAC'd with --key on a "
                        "signed log) for a witness: printed, or appended to --to FILE (on other storage)")
    p.add_argument("--key", help="key file of a signed log (the checkpoint carries its MAC)")
    p.add_argument("--to", metavar="FILE", help="append the checkpoint to this JSON-lines file (fsynced)")
    p.set_defaults(func=_cmd_audit_checkpoint)
    p_checkpoint = p
    for p in (p_verify, p_purge, p_export, p_reconcile, p_show, p_checkpoint):
        p.add_argument("--store", default=None, help=store_help)
    for p in (p_verify, p_purge, p_reconcile, p_checkpoint):
        _allow_insecure_option(p)


def _cmd_warmup(args) -> int:
    from .warmup import warm_up

    try:
        rates = [int(r) for r in args.rates.split(",")] if args.rates else None
    except ValueError:
        from .errors import InvalidArgumentError

        raise InvalidArgumentError(f"--rates: expected comma-separated sample rates in Hz, got {args.rates!r}") from None
    from ._progress import CompileNotice, StatusLine

    total = 0.0
    line = StatusLine(sys.stdout)

    def show(name: str, seconds: float) -> None:
        nonlocal total
        total += seconds
        line.println(f"{name:16s} {seconds:6.2f} s")

    with CompileNotice(line):
        warm_up(rates, progress=show) if rates else warm_up(progress=show)
    line.println(f"{'total':16s} {total:6.2f} s (the next processes load these kernels from the cache)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthmark", description=__doc__)
    parser.add_argument("--version", action="version", version=f"synthmark {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("keygen", help="create a new secret key file")
    p.add_argument("keyfile")
    p.add_argument("--force", action="store_true", help="overwrite an existing key file")
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser("label", help="label a media file (visible/audible label, watermark, AIGC metadata)")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--key", required=True, help="key file made by 'synthmark keygen'")
    p.add_argument("--producer", required=True, help="ContentProducer: provider name or TC260 code")
    p.add_argument("--content-id", required=True, dest="content_id", help="ProduceID: the content's unique id")
    p.add_argument("--label", default="1", choices=("1", "2", "3"), help="AIGC Label (default 1, AI-generated)")
    p.add_argument("--propagator", help="ContentPropagator (default: the producer)")
    p.add_argument("--propagate-id", dest="propagate_id", help="PropagateID (default: the content id)")
    p.add_argument("--payload", type=_payload_arg, help="64-bit watermark payload (default: from the content id)")
    p.add_argument("--video-codec", dest="video_codec", help="default libx264 (libvpx-vp9 for WebM)")
    p.add_argument("--crf", type=int, help="constant quality of the video encoder (default 18)")
    p.add_argument("--video-bitrate", dest="video_bitrate", type=int, help="video bits/s (replaces --crf)")
    p.add_argument("--preset", help="x264/x265 preset (default veryfast)")
    p.add_argument("--audio-codec", dest="audio_codec", help="default aac (libopus for WebM)")
    p.add_argument("--audio-bitrate", dest="audio_bitrate", type=int, help="audio bits/s")
    p.add_argument("--user-ref", dest="user_ref",
                   help="verified user id/pseudonym for the audit log (required when auditing, unless the host's "
                        "policy allows unattributed records: SYNTHMARK_REQUIRE_USER_REF=0)")
    p.add_argument("--edits", type=lambda v: [e for e in v.split(",") if e.strip()], metavar="KINDS",
                   help="what of a real person the content edits, comma-separated (e.g. face,voice); face and voice "
                        "need --consent-ref (SYNTHMARK_REQUIRE_CONSENT_FOR)")
    p.add_argument("--consent-ref", dest="consent_ref", help="reference of the edited person's consent")
    p.add_argument("--audit", metavar="URL", help="audit store (default: $SYNTHMARK_AUDIT or ./synthmark-audit.db)")
    p.add_argument("--audit-key", dest="audit_key", metavar="KEYFILE", help="key that signs the audit log")
    p.add_argument("--no-audit", dest="no_audit", action="store_true", help="do not write the audit log")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--max-pixels", dest="max_pixels", type=int, metavar="N",
                   help="refuse frames over N pixels (default 150000000: protects against decompression bombs)")
    p.add_argument("--max-seconds", dest="max_seconds", type=float, metavar="S",
                   help="refuse media longer than S seconds (default 14400)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    _allow_insecure_option(p)
    p.set_defaults(func=_cmd_label)

    p = sub.add_parser("inspect", help="read a file's AIGC record and detect the watermark")
    p.add_argument("file")
    p.add_argument("--key", help="key file: detect the watermark and verify ReservedCode1")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--max-seconds", dest="max_seconds", type=float, default=60.0, help="seconds analysed (default 60)")
    p.add_argument("--max-pixels", dest="max_pixels", type=int, metavar="N",
                   help="refuse frames over N pixels (default 150000000: protects against decompression bombs)")
    _allow_insecure_option(p)
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("demo", help="make a sample clip, label it, inspect it, print a summary")
    # 10 s: longer than the audio mark's 7.04 s period, so the demo reads the audio payload as well
    p.add_argument("--seconds", type=float, default=10.0, help="length of the sample clip (default 10)")
    p.add_argument("--keep", metavar="DIR", help="keep the sample files in DIR")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("warmup", help="compile and cache the watermark kernels now (a deploy step)")
    p.add_argument("--rates", help="comma-separated audio sample rates (default: all supported)")
    p.set_defaults(func=_cmd_warmup)
    _add_audit_parser(sub)

    return parser


class _Terminated(BaseException):
    """SIGTERM/SIGHUP as an exception, so a job unwinds as it does on Ctrl-C: the temporary output is
    removed, an audit record already written is withdrawn (the default action kills without cleanup)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, _frame):
    raise _Terminated(signum)


@contextlib.contextmanager
def _termination_unwinds():
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    saved = {s: signal.signal(s, _raise_terminated) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _termination_unwinds():
            return args.func(args)
    except _Terminated as exc:
        print(f"synthmark: terminated ({signal.Signals(exc.signum).name})", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:
        # the reader went away (``synthmark audit export | head``): not an error of ours. Exit like a command
        # killed by SIGPIPE, and point stdout at /dev/null so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 128 + 13
    except SynthmarkError as exc:
        print(f"synthmark: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"synthmark: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("synthmark: interrupted", file=sys.stderr)
        return 130
