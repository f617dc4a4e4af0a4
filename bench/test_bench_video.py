"""Video watermark speed, side by side in one run (pytest-benchmark groups), every benchmark asserts its result.

    PYTHONPATH=src python -m pytest bench/test_bench_video.py --benchmark-columns=min,median,mean,rounds
The peer (invisible-watermark's dwtDct, `pip install ".[bench]"`, torch==2.13.0 first) runs in the same
group on the same frame; the ratio of medians is the figure to quote.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import synthmark as sm  # noqa: E402
from tests import media  # noqa: E402

KEY = sm.Key.from_bytes(b"bench-key-0123456789abcdef012345")
PAYLOAD = 0x0123_4567_89AB_CDEF
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "4k": (3840, 2160)}


def natural_frame(size: str) -> np.ndarray:
    w, h = SIZES[size]
    return media.pan_zoom_clip("coffee", w, h, 1)[0]


@pytest.mark.parametrize("size", list(SIZES))
def test_embed_luma_plane_in_place(benchmark, size):
    benchmark.group = f"embed-{size}"
    y = np.round(media.luma(natural_frame(size))).astype(np.uint8)
    marker = sm.VideoWatermarker(KEY, PAYLOAD)
    marker.embed(y.copy())  # pattern built and kernels compiled outside the timing
    target = y.copy()
    benchmark(marker.embed, target)
    assert sm.detect_frames([marker.embed(y.copy())], key=KEY).payload == PAYLOAD


@pytest.mark.parametrize("size", list(SIZES))
def test_embed_rgb_in_place(benchmark, size):
    benchmark.group = f"embed-{size}"
    rgb = natural_frame(size)
    marker = sm.VideoWatermarker(KEY, PAYLOAD)
    marker.embed(rgb.copy())
    target = rgb.copy()
    benchmark(marker.embed, target)
    assert sm.detect_frames([marker.embed(rgb.copy())], key=KEY).payload == PAYLOAD


def peer_encoder_and_frame(size: str):
    """The peer module, its dwtDct encoder set to our payload, and the same natural frame in BGR."""
    imwatermark = pytest.importorskip("imwatermark", reason="peer not installed: pip install '.[bench]'")
    encoder = imwatermark.WatermarkEncoder()
    encoder.set_watermark("bytes", PAYLOAD.to_bytes(8, "big"))
    return imwatermark, encoder, np.ascontiguousarray(natural_frame(size)[..., ::-1])


@pytest.mark.parametrize("size", ["1080p"])
def test_peer_invisible_watermark_dwtdct_embed(benchmark, size):
    benchmark.group = f"embed-{size}"
    _, encoder, bgr = peer_encoder_and_frame(size)
    marked = benchmark(encoder.encode, bgr, "dwtDct")
    assert marked.shape == bgr.shape


@pytest.mark.parametrize("size", list(SIZES))
def test_detect_per_frame_amortised(benchmark, size):
    """Per-frame detection cost for a 2-second 30 fps clip: 60 x add() + one result(), divided by 60."""
    benchmark.group = f"detect-{size}"
    frame = sm.VideoWatermarker(KEY, PAYLOAD).embed(natural_frame(size))

    def detect_clip():
        detector = sm.VideoDetector(KEY)
        for _ in range(60):
            detector.add(frame)
        return detector.result()

    det = benchmark.pedantic(detect_clip, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["ms_per_frame"] = benchmark.stats.stats.median * 1000 / 60
    assert det.payload == PAYLOAD


@pytest.mark.parametrize("size", ["1080p"])
def test_detect_unmarked_still(benchmark, size):
    """One unmarked still: the detector finds no strong sync on the plain hypothesis and searches every
    geometry (scale sweeps, aspect changes, rotations, mirror): the cost a platform pays per unmarked upload."""
    benchmark.group = f"detect-{size}"
    frame = natural_frame(size)
    det = benchmark.pedantic(sm.detect_frames, args=(frame,), kwargs={"key": KEY}, rounds=3, iterations=1,
                             warmup_rounds=1)
    assert not det.found


@pytest.mark.parametrize("size", ["1080p"])
def test_detect_add_only(benchmark, size):
    benchmark.group = f"detect-{size}"
    frame = natural_frame(size)
    detector = sm.VideoDetector(KEY)
    benchmark(detector.add, frame)
    assert detector.frames >= 1


@pytest.mark.parametrize("size", ["1080p"])
def test_peer_invisible_watermark_dwtdct_detect(benchmark, size):
    benchmark.group = f"detect-{size}"
    imwatermark, encoder, bgr = peer_encoder_and_frame(size)
    marked = encoder.encode(bgr, "dwtDct")
    decoder = imwatermark.WatermarkDecoder("bytes", 64)
    out = benchmark(decoder.decode, marked, "dwtDct")
    assert len(out) == 8


@pytest.mark.parametrize("threads", [1, 2])
def test_embed_threads_scale(benchmark, threads):
    """Eight 1080p luma planes marked by 1 or 2 threads: the kernel releases the GIL, so 2 threads on
    2 cores should take about half as long (compare the two rows of this group)."""
    import threading

    benchmark.group = "embed-1080p-threads"
    y = np.round(media.luma(natural_frame("1080p"))).astype(np.uint8)
    marker = sm.VideoWatermarker(KEY, PAYLOAD)
    planes = [y.copy() for _ in range(8)]
    marker.embed(planes[0])

    def run():
        chunks = [planes[i::threads] for i in range(threads)]
        workers = [threading.Thread(target=lambda c=c: [marker.embed(p) for p in c]) for c in chunks]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    benchmark(run)
    assert sm.detect_frames([planes[3]], key=KEY).payload == PAYLOAD


@pytest.mark.parametrize("list_size", [1, 1024])
def test_detect_unmarked_clip_list_gate(benchmark, monkeypatch, list_size):
    """Unmarked 720p clip (24 frames, x264 CRF 23) detected with decode() only (LIST_SIZE = 1) and with the
    CRC-aided list (1024): the list is walked only past the held-out gate, so unmarked video pays nothing
    (compare the two rows of this group; both assert no list walk)."""
    from synthmark.watermark import video as video_wm

    benchmark.group = "detect-unmarked-720p-list"
    monkeypatch.setattr(video_wm, "LIST_SIZE", list_size)
    frames = media.transcode(media.pan_zoom_clip("coffee", 1280, 720, 24, seed=3), crf=23)

    def detect_clip():
        detector = sm.VideoDetector(KEY)
        for frame in frames:
            detector.add(frame)
        return detector.result()

    det = benchmark.pedantic(detect_clip, rounds=5, iterations=1, warmup_rounds=1)
    assert not det.found and det.details["list_walks"] == 0


@pytest.mark.parametrize("list_size", [1, 1024])
def test_detect_noisy_still_list_walk(benchmark, monkeypatch, list_size):
    """A marked 640x360 still under noise sigma 40 where decode() fails the CRC and the list gives the
    payload at rank 695 (tests/test_watermark_video.py): the price of a walk on top of a whole detection."""
    from synthmark.watermark import video as video_wm

    benchmark.group = "detect-noisy-still-list"
    monkeypatch.setattr(video_wm, "LIST_SIZE", list_size)
    key, payload = sm.Key.from_bytes(bytes(range(32))), 0x1234_5678_9ABC_DEF0  # the test's key and payload
    base = media.pan_zoom_clip("coffee", 640, 360, 1)[0]
    marked = sm.VideoWatermarker(key, payload).embed(base.copy())
    noisy = np.clip(np.round(marked + np.random.default_rng(3).normal(0, 40, marked.shape)), 0, 255).astype(np.uint8)
    det = benchmark(sm.detect_frames, noisy, key=key)
    assert det.found and det.payload == (None if list_size == 1 else payload)
    assert det.details["list_walks"] == (0 if list_size == 1 else 1)
