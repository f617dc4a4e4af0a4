"""Bit cost of the video mark over issue 12's matrix, and label_file end to end against a plain transcode.

1. Matrix: encoded size of marked over unmarked clips (same frames, same encoder settings: libx264
   preset medium, yuv420p, 30 fps, mp4 in memory) at CRF 18/23/28, for 1080p and 720p, pan/zoom and
   static-camera clips over the test photographs, without and with sensor noise (Gaussian, sigma
   --noise levels, fresh per frame, added before marking). Geometric mean over the photos per cell.
2. End to end: one 720p source file (a photo pan, encoded at CRF 12) through `sm.label_file(crf=, preset=)`
   against a plain PyAV decode + encode at the same settings; output bytes and CPU time (process +
   children) ratios. label_file always draws the visible label (there is no switch to turn it off: the
   label is mandatory), so the plain transcode is also run with the same VisibleLabel drawn, and with
   label + mark (what label_file's frame callback does), to separate the three costs.

    PYTHONPATH=src python bench/bitrate_matrix.py                  # 3 photos, 30 frames: ~5 min
    PYTHONPATH=src python bench/bitrate_matrix.py --full           # 5 photos, 60 frames, 5 s e2e clip
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))  # this tree's synthmark, not a stale installed copy

import synthmark as sm  # noqa: E402
from synthmark.io.video import writable_frame  # noqa: E402
from tests import attacks as A  # noqa: E402
from tests import media  # noqa: E402

KEY = sm.Key.from_bytes(b"bitrate-matrix-key-0123456789abc")
PAYLOAD = 0x1234_5678_9ABC_DEF0


def clip_frames(photo: str, width: int, height: int, frames: int, motion: str, noise: float, seed: int):
    """The clip as a list of RGB frames (rendered once, encoded for every CRF)."""
    if motion == "pan":
        base = A.pan_zoom_frames(photo, width, height, frames, seed=seed)
    else:  # static camera: one framing of the photo, held
        still = A.random_item(np.random.default_rng(seed), height, width, photos=(photo,))
        base = (still for _ in range(frames))
    rng = np.random.default_rng(1000 + seed)
    out = []
    for f in base:
        if noise > 0:
            f = np.clip(f + rng.standard_normal(f.shape, dtype=np.float32) * np.float32(noise) + 0.5, 0, 255)
            f = f.astype(np.uint8)  # +0.5 then truncation = rounding
        out.append(f)
    return out


def size_of(frames, crf: int) -> int:
    return media.encode(frames, "libx264", crf=crf).getbuffer().nbytes


def cpu() -> float:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def gmean(values) -> float:
    return float(np.exp(np.mean(np.log(values))))


def matrix(args, lines):
    crfs = [int(c) for c in args.crfs.split(",")]
    photos = args.photos.split(",")
    lines += [
        f"## Matrix: marked / unmarked size, libx264 preset medium, {args.frames} frames at 30 fps",
        "",
        f"Photos: {', '.join(photos)} (geometric mean over them per cell; per-clip range in brackets). "
        f"Noise: Gaussian sigma {args.noise:g} levels per RGB sample, fresh per frame, added before marking.",
        "",
        "| size | camera | noise | " + " | ".join(f"CRF {c}" for c in crfs) + " |",
        "|---|---|---|" + "---|" * len(crfs),
    ]
    all_ratios = {c: [] for c in crfs}
    for size in args.sizes.split(","):
        w, h = map(int, size.split("x"))
        for motion in args.motions.split(","):
            for noise in (0.0, args.noise):
                ratios = {c: [] for c in crfs}
                for i, photo in enumerate(photos):
                    clip = clip_frames(photo, w, h, args.frames, motion, noise, seed=i)
                    marked = list(sm.watermark_frames(clip, key=KEY, payload=PAYLOAD))
                    for c in crfs:
                        ratios[c].append(size_of(marked, c) / size_of(clip, c))
                    del clip, marked
                cells = []
                for c in crfs:
                    all_ratios[c] += ratios[c]
                    cells.append(f"{gmean(ratios[c]):.2f}x ({min(ratios[c]):.2f}-{max(ratios[c]):.2f})")
                lines.append(f"| {size} | {motion} | {'sigma ' + format(noise, 'g') if noise else 'none'} | "
                             + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    lines.append("| all | | | " + " | ".join(f"**{gmean(all_ratios[c]):.2f}x**" for c in crfs) + " |")
    lines.append("")


def plain_transcode(src: str, dst: str, crf: int, preset: str, frame_fn=None) -> int:
    """Decode + encode with PyAV directly (libx264, yuv420p, the source's rate and time base)."""
    with av.open(src) as inp, av.open(dst, "w", format="mp4") as out:
        iv = inp.streams.video[0]
        ov = out.add_stream("libx264", rate=iv.average_rate)
        ov.width, ov.height, ov.pix_fmt = iv.codec_context.width, iv.codec_context.height, "yuv420p"
        ov.time_base = iv.time_base
        ov.codec_context.time_base = iv.time_base
        ov.options = {"crf": str(crf), "preset": preset}
        n = 0
        for frame in inp.decode(iv):
            frame.pict_type = 0
            if frame_fn is not None:  # as label_file does: a copy, decoder frames are its references
                frame = frame_fn(writable_frame(frame))
            for p in ov.encode(frame):
                out.mux(p)
            n += 1
        for p in ov.encode(None):
            out.mux(p)
    return n


def end_to_end(args, lines):
    w, h = 1280, 720
    crf, preset = args.e2e_crf, "medium"
    tmp = Path(tempfile.mkdtemp(prefix="bitrate_matrix_"))
    src = tmp / "src.mp4"
    frames = int(args.e2e_seconds * 30)
    src.write_bytes(media.encode(A.pan_zoom_frames("coffee", w, h, frames, seed=7), "libx264", crf=12).getvalue())
    duration = frames / 30

    visible = sm.VisibleLabel()
    marker = sm.VideoWatermarker(KEY, PAYLOAD)

    def with_label(frame):
        visible.apply(frame, t=frame.time or 0.0, duration=duration)
        return frame

    def with_label_and_mark(frame):
        visible.apply(frame, t=frame.time or 0.0, duration=duration)
        marker.embed(frame)
        return frame

    def with_mark(frame):
        marker.embed(frame)
        return frame

    runs = {
        "plain PyAV transcode": lambda d: plain_transcode(str(src), d, crf, preset),
        "plain + visible label": lambda d: plain_transcode(str(src), d, crf, preset, with_label),
        "plain + mark": lambda d: plain_transcode(str(src), d, crf, preset, with_mark),
        "plain + visible label + mark": lambda d: plain_transcode(str(src), d, crf, preset, with_label_and_mark),
        "sm.label_file": lambda d: sm.label_file(src, d, key=KEY, producer="BenchCo", content_id="bench-e2e",
                                                 crf=crf, preset=preset),
    }
    # warm-up (JIT, codec init), then rounds interleaved; the minimum CPU time of the rounds is kept
    for name, run in runs.items():
        run(str(tmp / "warm.mp4"))
        (tmp / "warm.mp4").unlink()
    results = {name: [None, []] for name in runs}
    for r in range(args.rounds):
        for name, run in runs.items():
            dst = tmp / f"{r}-{name.replace(' ', '_').replace('+', '')}.mp4"
            t = cpu()
            run(str(dst))
            results[name][1].append(cpu() - t)
            results[name][0] = dst.stat().st_size
            dst.unlink()
    base_bytes, base_cpu = results["plain PyAV transcode"][0], min(results["plain PyAV transcode"][1])
    lines += [
        f"## End to end: label_file vs a plain PyAV transcode ({w}x{h}, {frames} frames at 30 fps, coffee "
        f"pan encoded at CRF 12 as the source; libx264 CRF {crf} preset {preset} on every side; "
        f"CPU = process + children user+sys, min of {args.rounds} interleaved rounds after a warm-up)",
        "",
        "| pipeline | output bytes | bytes ratio | CPU s | CPU ratio |",
        "|---|---|---|---|---|",
    ]
    for name, (nbytes, cpus) in results.items():
        lines.append(f"| {name} | {nbytes:,} | {nbytes / base_bytes:.2f}x | {min(cpus):.2f} | {min(cpus) / base_cpu:.2f}x |")
        print(lines[-1], flush=True)
    lines += ["", f"Source file: {src.stat().st_size:,} bytes.", ""]
    src.unlink()
    tmp.rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="5 photos, 60 frames, 5 s end-to-end clip, 3 rounds")
    parser.add_argument("--sizes", default="1920x1080,1280x720")
    parser.add_argument("--photos", default=None, help="default astronaut,rocket,grass (--full: all five)")
    parser.add_argument("--frames", type=int, default=None, help="default 30 (--full: 60)")
    parser.add_argument("--motions", default="pan,static")
    parser.add_argument("--crfs", default="18,23,28")
    parser.add_argument("--noise", type=float, default=2.0)
    parser.add_argument("--e2e-crf", type=int, default=23)
    parser.add_argument("--e2e-seconds", type=float, default=None, help="default 2 (--full: 5)")
    parser.add_argument("--rounds", type=int, default=None, help="default 2 (--full: 3)")
    parser.add_argument("--skip-matrix", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "bitrate_matrix"))
    args = parser.parse_args()
    args.photos = args.photos or (",".join(media.PHOTOS) if args.full else "astronaut,rocket,grass")
    args.frames = args.frames or (60 if args.full else 30)
    args.e2e_seconds = args.e2e_seconds or (5.0 if args.full else 2.0)
    args.rounds = args.rounds or (3 if args.full else 2)
    t0 = time.perf_counter()
    command = "PYTHONPATH=src python bench/bitrate_matrix.py " + " ".join(sys.argv[1:])
    lines = [
        "# Bit cost of the video mark (issue 12 matrix) and label_file end to end",
        "",
        f"`{command.strip()}`",
        "",
        f"synthmark {sm.__version__}, commit {_commit()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    if not args.skip_matrix:
        matrix(args, lines)
    if not args.skip_e2e:
        end_to_end(args, lines)
    took = time.perf_counter() - t0
    lines.append(f"Took {took:.0f} s.")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}.md ({took:.0f} s)")
    return 0


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
