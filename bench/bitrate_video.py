"""Bit-rate cost of the video watermark: encoded size of marked vs unmarked clips, same encoder settings.

The mark is noise-like detail the encoder has to spend bits on; the file pipeline (label_file) pays for
it in encoder CPU. Pan/zoom clips from the test photographs, libx264 through PyAV.

    PYTHONPATH=src python bench/bitrate_video.py                      # 640x360 and 1080p, CRF 18 veryfast
    PYTHONPATH=src python bench/bitrate_video.py --sizes 640x360 --crf 23 --preset medium
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))  # this tree's synthmark, not a stale installed copy

import synthmark as sm  # noqa: E402
from tests import media  # noqa: E402


def encoded(frames, crf: int, preset: str) -> tuple[int, float]:
    """(bytes, encoder CPU seconds) of frames through libx264 (yuv420p, 30 fps, mp4 in memory)."""
    h, w = frames[0].shape[:2]
    buf = io.BytesIO()
    t = time.process_time()
    with av.open(buf, "w", format="mp4") as oc:
        stream = oc.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p")):
                oc.mux(packet)
        for packet in stream.encode():
            oc.mux(packet)
    return buf.tell(), time.process_time() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="640x360,1920x1080")
    parser.add_argument("--photos", default=",".join(media.PHOTOS))
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--preset", default="veryfast")
    args = parser.parse_args()
    key = sm.Key.from_bytes(b"bitrate-report-key-0123456789abc")
    print(f"libx264 CRF {args.crf} preset {args.preset}, {args.frames} frames at 30 fps")
    print("| size | clip | unmarked kB | marked kB | size ratio | encode CPU ratio |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        width, height = map(int, size.split("x"))
        ratios = []
        for i, photo in enumerate(args.photos.split(",")):
            clip = media.pan_zoom_clip(photo, width, height, args.frames, seed=i)
            marked = list(sm.watermark_frames(clip, key=key, payload=0x1234_5678_9ABC_DEF0))
            plain_bytes, plain_cpu = encoded(clip, args.crf, args.preset)
            marked_bytes, marked_cpu = encoded(marked, args.crf, args.preset)
            ratios.append(marked_bytes / plain_bytes)
            print(f"| {size} | {photo} | {plain_bytes / 1000:.0f} | {marked_bytes / 1000:.0f} | "
                  f"{marked_bytes / plain_bytes:.2f}x | {marked_cpu / plain_cpu:.2f}x |", flush=True)
        print(f"| {size} | geometric mean | | | {float(np.exp(np.mean(np.log(ratios)))):.2f}x | |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
