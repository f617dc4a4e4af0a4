"""Long clips after a high-CRF encode: payload from all frames, from the arrays, and from frame 0 alone.

Run: PYTHONPATH=src python bench/long_clip_video.py [--width 1280 --height 720 --frames 200 --crf 35]
Each photo of tests/data becomes a pan/zoom clip, marked through the public API, encoded with libx264
(preset medium) and decoded. "av frames" feeds the decoded av.VideoFrames (the detector knows which
were intra-coded, as inspect_file does); "arrays" feeds the same pictures as RGB arrays (no frame types).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthmark as sm  # noqa: E402
from tests import media  # noqa: E402

PAYLOAD = 0x0123_4567_89AB_CDEF


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--crf", type=int, default=35)
    ap.add_argument("--photos", default=",".join(media.PHOTOS), help="comma-separated names from tests/data")
    ap.add_argument("--seeds", type=int, default=1, help="clips (pan/zoom paths and keys) per photo")
    args = ap.parse_args()
    print(f"{args.width}x{args.height}, {args.frames} frames, libx264 CRF {args.crf} preset medium")
    print("| photo | seed | intra frames | av frames: exact (z) | arrays: exact (z) |")
    print("|---|---|---|---|---|")
    clips = [(p, s) for p in args.photos.split(",") for s in range(args.seeds)]
    for photo, seed in clips:
        key = sm.Key.generate()
        clip = media.pan_zoom_clip(photo, args.width, args.height, args.frames, seed=seed)
        data = media.encode(sm.watermark_frames(clip, key=key, payload=PAYLOAD), crf=args.crf)
        with av.open(data) as container:
            frames = list(container.decode(video=0))
        on_frames = sm.detect_frames(frames, key=key)
        on_arrays = sm.detect_frames((f.to_ndarray(format="rgb24") for f in frames), key=key)
        print(f"| {photo} | {seed} | {on_frames.details.get('intra_frames', 0)} | {on_frames.payload == PAYLOAD} ({on_frames.score:.1f}) "
              f"| {on_arrays.payload == PAYLOAD} ({on_arrays.score:.1f}) |", flush=True)


if __name__ == "__main__":
    main()
