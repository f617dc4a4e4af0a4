"""Stills attack matrix and geometry (stills and 1080p clips) of issue 12, on the public API.

1. Stills at 512x512, 768x768, 1024x1024, 1024x1536 (W x H) and 2048x2048: random crops of the five
   test photos (30-100% of the side, flips) resized to the size (the photos are at most 640 px wide, so
   the large sizes are upscales: smooth content). Each is marked with a random payload, attacked
   (tests/attacks.py STILL_ATTACKS: rescale 0.5/0.75/0.9/1.5/2x + JPEG 85, 1080 px wide + JPEG 85, crop
   20% of the area + JPEG 85, JPEG 60, WebP q75, screenshot-like 0.8x + unsharp mask + PNG, resize to
   256x256) and read back with detect_frames. Exact-payload % per size x attack (found % in brackets).
2. Geometry (tests/attacks.py geometry_attacks: mirror, rotation +-1/+-3 deg with borders kept or
   cropped, 16:9 -> 4:3 squeeze, 10% one-axis stretch, letterbox into 9:16 and pillarbox into 21:9,
   keystone +-5%) on stills then JPEG 85, and on 1080p pan/zoom clips (frames marked, edited, then
   libx264 CRF 23 preset medium, whole clip detected).

    PYTHONPATH=src python bench/stills_matrix.py              # 5 stills per size, 2 clips x 20 frames: ~5 min
    PYTHONPATH=src python bench/stills_matrix.py --full       # 20 stills per size, 5 clips x 30 frames
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))  # this tree's synthmark, not a stale installed copy

import synthmark as sm  # noqa: E402
from tests import attacks as A  # noqa: E402
from tests import media  # noqa: E402

KEY = sm.Key.from_bytes(b"stills-matrix-key-0123456789abcd")


def mark(frame: np.ndarray, payload: int) -> np.ndarray:
    return sm.VideoWatermarker(KEY, payload).embed(frame.copy())


def cell(exact: int, found: int, n: int) -> str:
    return f"{100 * exact / n:.0f}% ({100 * found / n:.0f}%)"


def still_rows(args, sizes, attacks, seed_base):
    """{attack: {size: (exact, found, n)}} over args.stills marked stills per size."""
    out = {name: {} for name in attacks}
    for size in sizes:
        w, h = map(int, size.split("x"))
        rng = np.random.default_rng(seed_base + w * 7 + h)
        counts = {name: [0, 0] for name in attacks}
        for item in A.items(args.stills, h, w, seed=seed_base + w + 3 * h):
            payload = A.random_payload(rng)
            marked = mark(item, payload)
            for name, attack in attacks.items():
                det = sm.detect_frames(attack(marked), key=KEY)
                counts[name][0] += det.payload == payload
                counts[name][1] += det.found
        for name, (exact, found) in counts.items():
            out[name][size] = (exact, found, args.stills)
        print(size, {k: v[0] for k, v in counts.items()}, flush=True)
    return out


def clip_rows(args, attacks):
    """{attack: (exact, found, n)} over 1080p pan/zoom clips, edited per frame, then x264 CRF 23."""
    counts = {name: [0, 0] for name in attacks}
    photos = media.PHOTOS[: args.clips]
    rng = np.random.default_rng(77)
    for i, photo in enumerate(photos):
        payload = A.random_payload(rng)
        clip = list(sm.watermark_frames(A.pan_zoom_frames(photo, 1920, 1080, args.frames, seed=i), key=KEY,
                                        payload=payload))
        for name, attack in attacks.items():
            decoded = media.transcode([attack(f) for f in clip], "libx264", crf=23)
            det = sm.detect_frames(decoded, key=KEY)
            counts[name][0] += det.payload == payload
            counts[name][1] += det.found
        print(photo, {k: v[0] for k, v in counts.items()}, flush=True)
    return {name: (e, f, len(photos)) for name, (e, f) in counts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="20 stills per size, 5 clips x 30 frames")
    parser.add_argument("--sizes", default="512x512,768x768,1024x1024,1024x1536,2048x2048")
    parser.add_argument("--geo-sizes", default="512x512,1024x1024", help="still sizes for the geometry rows")
    parser.add_argument("--stills", type=int, default=None, help="stills per size (default 5; --full 20)")
    parser.add_argument("--clips", type=int, default=None, help="1080p clips, one per photo (default 2; --full 5)")
    parser.add_argument("--frames", type=int, default=None, help="frames per clip (default 20; --full 30)")
    parser.add_argument("--skip-stills", action="store_true")
    parser.add_argument("--skip-geometry", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "stills_matrix"))
    args = parser.parse_args()
    args.stills = args.stills or (20 if args.full else 5)
    args.clips = args.clips or (5 if args.full else 2)
    args.frames = args.frames or (30 if args.full else 20)
    t0 = time.perf_counter()
    command = "PYTHONPATH=src python bench/stills_matrix.py " + " ".join(sys.argv[1:])
    lines = [
        "# Stills attack matrix and geometry (issue 12)",
        "",
        f"`{command.strip()}`",
        "",
        f"synthmark {sm.__version__}, commit {_commit()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "Cells: exact 64-bit payload % (found % in brackets). Stills are random crops / flips of the five "
        "photos in tests/data resized to the size (sources are <= 640 px wide: 1024 px and larger are "
        "upscaled, smooth content), each marked with its own random payload at default strength.",
        "",
    ]
    if not args.skip_stills:
        sizes = args.sizes.split(",")
        rows = still_rows(args, sizes, A.STILL_ATTACKS, 0)
        lines += [
            f"## Stills: {args.stills} per size",
            "",
            "| attack | " + " | ".join(sizes) + " |",
            "|---|" + "---|" * len(sizes),
            *(f"| {name} | " + " | ".join(cell(*rows[name][s]) for s in sizes) + " |" for name in rows),
            "",
            "0.5x..2x: rescale (bicubic) then JPEG 85 (4:2:0); 1080w: resize to 1080 px wide; crop20%: a random "
            "window of 80% of the area; screenshot: 0.8x + unsharp mask (radius 2, 80%) + PNG; 256x256: resize "
            "to 256 x 256 (aspect not kept for 1024x1536).",
            "",
        ]
    if not args.skip_geometry:
        geo_sizes = args.geo_sizes.split(",")
        geo_still = {}
        for size in geo_sizes:
            w, h = map(int, size.split("x"))
            attacks = {name: (lambda f, g=g: A.jpeg(g(f), 85)) for name, g in A.geometry_attacks(w, h).items()}
            attacks = {"none (JPEG 85)": lambda f: A.jpeg(f, 85), **attacks}
            for name, sizes_cells in still_rows(args, [size], attacks, 500).items():
                geo_still.setdefault(name, {}).update(sizes_cells)
        clip_attacks = {"none (CRF 23)": lambda f: f, **A.geometry_attacks(1920, 1080)}
        geo_clip = clip_rows(args, clip_attacks)
        lines += [
            f"## Geometry: stills ({args.stills} per size) then JPEG 85; 1080p clips ({args.clips} pan/zoom "
            f"clips x {args.frames} frames) then libx264 CRF 23 preset medium",
            "",
            "| edit | " + " | ".join(f"still {s}" for s in geo_sizes) + " | 1080p clip |",
            "|---|" + "---|" * (len(geo_sizes) + 1),
        ]
        for name, clip_name in zip(geo_still, clip_attacks):
            lines.append(f"| {name} | " + " | ".join(cell(*geo_still[name][s]) for s in geo_sizes)
                         + f" | {cell(*geo_clip[clip_name])} |")
        lines += [
            "",
            "Rotation about the centre, bicubic: 'kept' = same frame size with black corners; 'cropped' = the "
            "largest centred window of the same aspect without border, scaled back to the frame size. Squeeze: "
            "the whole frame into 4:3 at the same height. Stretch: one axis x1.1 (frame grows). Letterbox: "
            "fit into a 9:16 frame as wide as the input is high; pillarbox: fit into a 21:9 frame of the same "
            "height. Keystone: one horizontal edge of the picture narrowed by 5% of the width (+: top, -: bottom; PIL QUAD).",
            "",
        ]
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
