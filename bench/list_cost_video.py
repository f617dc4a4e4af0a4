"""Unmarked cost of the video detector's CRC-aided list decoding: list walks, findings and detect time with
LIST_SIZE 1 (decode() only) and 1024, the same inputs detected back to back (order alternating).

    NUMBA_NUM_THREADS=1 PYTHONPATH=src python bench/list_cost_video.py 2000

Inputs: N unmarked windows 96-200 px of the test photos with 50 random keys (the generator of
tests/test_watermark_video.py::test_negative_set_false_alarms_and_calibration), then 5 unmarked 720p clips
(24 frames, x264 CRF 23) and 5 marked clips (x264 CRF 35) read with another key. Figures:
bench/results/robustness_video_list.md.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))  # this tree's synthmark

import synthmark as sm  # noqa: E402
from synthmark.watermark import video as vw  # noqa: E402
from tests import media  # noqa: E402

rng = np.random.default_rng(2026)
keys = [sm.Key.from_bytes(rng.bytes(32)) for _ in range(50)]
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
sm.detect_frames(np.ascontiguousarray(media.photo(media.PHOTOS[0])[:150, :150]), key=keys[0])  # kernels loaded, untimed
stats = {1: [0, 0, 0.0, 0], 1024: [0, 0, 0.0, 0]}  # walks, found, time, decodes
for i in range(N):
    photo = media.photo(media.PHOTOS[i % len(media.PHOTOS)])
    h = int(rng.integers(96, 160)); w = int(rng.integers(96, 200))
    y, x = int(rng.integers(0, photo.shape[0] - h)), int(rng.integers(0, photo.shape[1] - w))
    window = np.ascontiguousarray(photo[y:y + h, x:x + w])
    order = (1, 1024) if i % 2 else (1024, 1)
    for L in order:
        vw.LIST_SIZE = L
        t = time.perf_counter()
        d = sm.detect_frames(window, key=keys[i % len(keys)])
        st = stats[L]
        st[2] += time.perf_counter() - t
        st[0] += d.details.get("list_walks", 0); st[1] += d.found; st[3] += d.details.get("decodes", 0)
print(f"{N} unmarked windows 96-200 px (test_negative_set_false_alarms_and_calibration's generator):")
for L, (walks, found, t, dec) in stats.items():
    print(f"  LIST_SIZE={L:5d}: list walks {walks}, decode() calls {dec}, found {found}, detect time {t:.2f} s total")
# Unmarked clips through x264 (the bench's unmarked row), 720p, 24 frames, plus marked clips read with another key.
key = sm.Key.from_bytes(b"robustness-report-key-0123456789")
other = sm.Key.from_bytes(b"another-key-0123456789abcdefghij")
cstats = {1: [0, 0, 0.0], 1024: [0, 0, 0.0]}
for j, photo in enumerate(media.PHOTOS):
    clip = media.pan_zoom_clip(photo, 1280, 720, 24, seed=j)
    inputs = [media.transcode(clip, crf=23),
              media.transcode(list(sm.watermark_frames(clip, key=key, payload=12345)), crf=35)]
    for frames in inputs:
        for L in ((1, 1024) if j % 2 else (1024, 1)):
            vw.LIST_SIZE = L
            t = time.perf_counter()
            d = sm.detect_frames(frames, key=other)
            cstats[L][2] += time.perf_counter() - t
            cstats[L][0] += d.details.get("list_walks", 0); cstats[L][1] += d.found
print(f"{len(media.PHOTOS)} unmarked 720p clips (x264 CRF 23) + {len(media.PHOTOS)} marked clips (CRF 35) read with another key:")
for L, (walks, found, t) in cstats.items():
    print(f"  LIST_SIZE={L:5d}: list walks {walks}, found {found}, detect time {t:.2f} s total")
