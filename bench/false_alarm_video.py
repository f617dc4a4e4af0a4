"""False alarms of the video/still detector on unmarked content and under a wrong key, and calibration.

Unmarked stills: random crops / rescales / flips of the five test photos at mixed sizes (256 px to
1024x1536). Unmarked windows: short pan/zoom clips (640x360, 854x480, 1280x720) over the photos.
Wrong key: the same kinds of items marked under key A (random payloads) and read with key B.
Counts found (must be 0) and any payload, and checks the calibration of ``false_alarm``: the share of
items with false_alarm below p should be about p (or below it: the union bound over the detector's
tests makes the figure conservative, never optimistic).

    PYTHONPATH=src python bench/false_alarm_video.py                   # 400 stills, 150 windows, 200+100 wrong key: ~3 min
    PYTHONPATH=src python bench/false_alarm_video.py --full            # 10,000 stills, 2,000 windows, 10,000 wrong key
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

KEY = sm.Key.from_bytes(b"false-alarm-key-A-0123456789abcd")
WRONG = sm.Key.from_bytes(b"false-alarm-key-B-0123456789abcd")
STILL_SIZES = ((256, 256), (384, 384), (512, 512), (768, 512), (512, 768), (1024, 1024), (1024, 1536))
WINDOW_SIZES = ((640, 360), (854, 480), (1280, 720))
LEVELS = (1e-1, 1e-2, 1e-3)


def stills(n: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        w, h = STILL_SIZES[rng.integers(len(STILL_SIZES))]
        yield A.random_item(rng, h, w)


def windows(n: int, frames: int, seed: int):
    rng = np.random.default_rng(seed)
    for i in range(n):
        w, h = WINDOW_SIZES[rng.integers(len(WINDOW_SIZES))]
        photo = media.PHOTOS[rng.integers(len(media.PHOTOS))]
        yield list(A.pan_zoom_frames(photo, w, h, frames, seed=seed * 100_003 + i))


class Tally:
    def __init__(self, name: str):
        self.name, self.n, self.found, self.payload = name, 0, 0, 0
        self.fa, self.z = [], []

    def add(self, det) -> None:
        self.n += 1
        self.found += det.found
        self.payload += det.payload is not None
        self.fa.append(det.false_alarm)
        self.z.append(det.score)

    def row(self) -> str:
        fa, z = np.asarray(self.fa), np.asarray(self.z)
        shares = " | ".join(f"{np.mean(fa < p):.4f}" for p in LEVELS)
        return (f"| {self.name} | {self.n:,} | {self.found} | {self.payload} | {shares} | {fa.min():.2g} | "
                f"{z.mean():.3f} | {z.std():.3f} | {z.max():.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="10,000 stills, 2,000 windows, 10,000 wrong-key items")
    parser.add_argument("--stills", type=int, default=None, help="unmarked stills (default 400; --full 10000)")
    parser.add_argument("--windows", type=int, default=None, help="unmarked clip windows (default 150; --full 2000)")
    parser.add_argument("--wrong-stills", type=int, default=None, help="wrong-key stills (default 200; --full 8000)")
    parser.add_argument("--wrong-windows", type=int, default=None, help="wrong-key windows (default 100; --full 2000)")
    parser.add_argument("--frames", type=int, default=8, help="frames per window")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "false_alarm_video"))
    args = parser.parse_args()
    full = args.full
    args.stills = args.stills if args.stills is not None else (10_000 if full else 400)
    args.windows = args.windows if args.windows is not None else (2_000 if full else 150)
    args.wrong_stills = args.wrong_stills if args.wrong_stills is not None else (8_000 if full else 200)
    args.wrong_windows = args.wrong_windows if args.wrong_windows is not None else (2_000 if full else 100)
    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed + 99)
    tallies = [Tally("unmarked stills"), Tally("unmarked windows"), Tally("wrong key, stills"),
               Tally("wrong key, windows")]
    for item in stills(args.stills, args.seed):
        tallies[0].add(sm.detect_frames(item, key=KEY))
    print(tallies[0].row(), flush=True)
    for win in windows(args.windows, args.frames, args.seed + 1):
        tallies[1].add(sm.detect_frames(win, key=KEY))
    print(tallies[1].row(), flush=True)
    for item in stills(args.wrong_stills, args.seed + 2):
        marked = sm.VideoWatermarker(KEY, A.random_payload(rng)).embed(item)
        tallies[2].add(sm.detect_frames(marked, key=WRONG))
    print(tallies[2].row(), flush=True)
    for win in windows(args.wrong_windows, args.frames, args.seed + 3):
        marked = list(sm.watermark_frames(win, key=KEY, payload=A.random_payload(rng)))
        tallies[3].add(sm.detect_frames(marked, key=WRONG))
    print(tallies[3].row(), flush=True)
    total = Tally("all")
    for t in tallies:
        total.n += t.n
        total.found += t.found
        total.payload += t.payload
        total.fa += t.fa
        total.z += t.z
    took = time.perf_counter() - t0
    command = "PYTHONPATH=src python bench/false_alarm_video.py " + " ".join(sys.argv[1:])
    lines = [
        "# False alarms of the video/still detector (unmarked and wrong key) and calibration",
        "",
        f"`{command.strip()}`",
        "",
        f"synthmark {sm.__version__}, commit {_commit()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"took {took:.0f} s.",
        "",
        "Stills: random crops / rescales / flips of the five photos in tests/data at "
        + ", ".join(f"{w}x{h}" for w, h in STILL_SIZES)
        + f". Windows: {args.frames}-frame pan/zoom clips over the photos at "
        + ", ".join(f"{w}x{h}" for w, h in WINDOW_SIZES)
        + ". Wrong key: the same kinds of items marked under key A (random payloads) and detected with key B. "
        "Default detector threshold (false_alarm < 1e-6). 'share < p' is the share of items whose reported "
        "false_alarm is below p: calibrated means about p; below p is conservative (the union bound over the "
        "detector's tests), above p would be optimistic. z is Detection.score (the held-out statistic, "
        "N(0, 1) on unmarked content).",
        "",
        "| items | n | found | any payload | " + " | ".join(f"share < {p:g}" for p in LEVELS)
        + " | min false_alarm | z mean | z sd | z max |",
        "|---|---|---|---|" + "---|" * len(LEVELS) + "---|---|---|---|",
        *(t.row() for t in tallies),
        total.row(),
        "",
    ]
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
