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


class _ProgressBar:
    """A one-line text progress bar on stderr (only drawn on a terminal)."""

    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled, self.shown = label, enabled, False

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        width = 30
        done = int(round(fraction * width))
        sys.stderr.write(f"\r{self.label} [{'#' * done}{'.' * (width - done)}] {fraction * 100:5.1f}%")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _load_key(path):
    from .keys import Key

    return Key.load(path)


def _cmd_label(args) -> int:
    import warnings

    from .pipeline import label_file

    key = _load_key(args.key)
    bar = _ProgressBar("labeling", sys.stderr.isatty() and not args.quiet)
    options = {}
    for name in ("video_codec", "crf", "video_bitrate", "preset", "audio_codec", "audio_bitrate", "payload",
                 "propagator", "propagate_id", "user_ref"):
        value = getattr(args, name)
        if value is not None:
            options[name] = value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the report lists what was not applied
            report = label_file(args.input, args.output, key=key, producer=args.producer,
                                content_id=args.content_id, label=args.label, progress=bar, **options)
    finally:
        bar.close()
    if not args.quiet:
        print(report.summary())
    return 0


def _cmd_inspect(args) -> int:
    import json

    from .pipeline import inspect_file

    key = _load_key(args.key) if args.key else None
    report = inspect_file(args.file, key=key, max_seconds=args.max_seconds)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.summary())
    return 0


def _cmd_demo(args) -> int:
    import tempfile
    import warnings
    from pathlib import Path

    from .keys import Key
    from .pipeline import inspect_file, label_file
    from .samples import make_clip

    with tempfile.TemporaryDirectory(prefix="synthmark-demo-") as tmp:
        out_dir = Path(args.keep) if args.keep else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        src, dst = out_dir / "sample.mp4", out_dir / "sample.labeled.mp4"
        print(f"1. making a {args.seconds:g} s sample clip (320x240 H.264 + AAC speech-like audio): {src}")
        make_clip(src, seconds=args.seconds)
        key = Key.generate()
        print(f"2. labeling it with a fresh key {key.id} as producer DemoProvider, content id demo-0001")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            report = label_file(src, dst, key=key, producer="DemoProvider", content_id="demo-0001")
        print(report.summary())
        print("3. inspecting the labeled file with the key")
        print(inspect_file(dst, key=key).summary())
        print("4. inspecting the unlabeled original")
        print(inspect_file(src, key=key).summary())
        if args.keep:
            print(f"files kept in {out_dir}")
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
    p.add_argument("--payload", type=lambda v: int(v, 0), help="64-bit watermark payload (default: from the content id)")
    p.add_argument("--video-codec", dest="video_codec", help="default libx264 (libvpx-vp9 for WebM)")
    p.add_argument("--crf", type=int, help="constant quality of the video encoder (default 18)")
    p.add_argument("--video-bitrate", dest="video_bitrate", type=int, help="video bits/s (replaces --crf)")
    p.add_argument("--preset", help="x264/x265 preset (default veryfast)")
    p.add_argument("--audio-codec", dest="audio_codec", help="default aac (libopus for WebM)")
    p.add_argument("--audio-bitrate", dest="audio_bitrate", type=int, help="audio bits/s")
    p.add_argument("--user-ref", dest="user_ref", help="verified user id/pseudonym for the audit log")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=_cmd_label)

    p = sub.add_parser("inspect", help="read a file's AIGC record and detect the watermark")
    p.add_argument("file")
    p.add_argument("--key", help="key file: detect the watermark and verify ReservedCode1")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--max-seconds", dest="max_seconds", type=float, default=60.0, help="seconds analysed (default 60)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("demo", help="make a sample clip, label it, inspect it, print a summary")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--keep", metavar="DIR", help="keep the sample files in DIR")
    p.set_defaults(func=_cmd_demo)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SynthmarkError as exc:
        print(f"synthmark: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"synthmark: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("synthmark: interrupted", file=sys.stderr)
        return 130
