"""Where the watermark's bits go in H.264: I-frame vs P-frame sizes, marked vs unmarked.

Run: PYTHONPATH=src python bench/pframe_cost.py [--source photo]
Encodes the built-in sample's frames (640x360, 100 frames, x264 CRF 18 veryfast) as they are, marked,
and as a still scene (frame 0 repeated), and prints the mean packet size per frame type and the
encoder's CPU time (process CPU, all threads; median of 3). ``--source photo`` uses a pan/zoom clip
over a photograph (tests/data, sub-pixel motion, as in bench/robustness_video.py) instead.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
from pathlib import Path

import av
import numpy as np

import synthmark as sm
from synthmark import samples

W, H, N = 640, 360, 100


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def frame_sizes(frames: list[np.ndarray]) -> tuple[float, float, float, float]:
    """(mean I-frame KiB, mean P-frame KiB, total KiB, encoder CPU ms (median of 3))."""
    cpus = []
    for _ in range(3):
        c = _cpu()
        result = _frame_sizes(frames)
        cpus.append(_cpu() - c)
    return result + (1000 * float(np.median(cpus)),)


def _frame_sizes(frames: list[np.ndarray]) -> tuple[float, float, float]:
    sizes = []
    with av.open(io.BytesIO(), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"crf": "18", "preset": "veryfast"}
        for f in frames:
            sizes += [(p.is_keyframe, p.size) for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24"))]
        sizes += [(p.is_keyframe, p.size) for p in s.encode(None)]
    i_sizes = [z for k, z in sizes if k]
    p_sizes = [z for k, z in sizes if not k]
    return np.mean(i_sizes) / 1024, np.mean(p_sizes) / 1024, sum(i_sizes + p_sizes) / 1024


def marked(frames, key):
    wm = sm.VideoWatermarker(key, 0x1234)
    out = [f.copy() for f in frames]
    for f in out:
        wm.embed(f)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", choices=("sample", "photo"), default="sample")
    ap.add_argument("--photo", default="coffee")
    args = ap.parse_args()
    key = sm.Key.from_bytes(b"bench-key-0123456789abcdefghijkl")
    if args.source == "sample":
        gen = samples.SceneGenerator(W, H, 7)
        moving = [gen.frame(i, 25) for i in range(N)]
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests import media

        moving = [np.ascontiguousarray(f) for f in media.pan_zoom_clip(args.photo, W, H, N, seed=0)]
    still = [moving[0]] * N
    rows = [("moving, unmarked", moving), ("moving, marked", marked(moving, key)),
            ("still, unmarked", still), ("still, marked", marked(still, key))]
    print(f"| {args.source} {W}x{H}, {N} frames, x264 CRF 18 | I-frame KiB | mean P-frame KiB | total KiB | encode CPU ms |"
          "\n|---|---|---|---|---|")
    for name, frames in rows:
        i_kib, p_kib, total, cpu_ms = frame_sizes(frames)
        print(f"| {name} | {i_kib:.1f} | {p_kib:.2f} | {total:.0f} | {cpu_ms:.0f} |")


if __name__ == "__main__":
    main()
