"""Compile and cache every Numba kernel once, ahead of traffic (a deploy step).

The kernels are ``cache=True``: the first process after an install compiles them (about 10 s in all),
later processes load them from the on-disk cache in well under a second. ``warm_up`` runs each code
path on small generated inputs (video frames as RGB, luma planes and yuv420p frames; audio as float32
and int16 at each sample rate, since rates take different resampling kernels; writable and read-only
arrays, which Numba compiles separately) so that no request pays for the compilation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from .errors import InvalidArgumentError, InvalidTypeError
from .keys import Key
from .watermark.audio import SUPPORTED_RATES, AudioWatermarker, detect_audio, watermark_audio
from .watermark.video import VideoWatermarker, detect_frames

_KEY_BYTES = b"synthmark warm-up key, not used for content"[:32]
_PAYLOAD = 0x5EED_0000_0000_0001


def warm_up(rates: Iterable[int] = SUPPORTED_RATES, *, progress: Callable[[str, float], None] | None = None) -> dict[str, float]:
    """Run every watermark code path once; returns seconds per step (compilation or cache load).

    rates: audio sample rates to prepare (default: all supported ones)."""
    rates = list(rates)
    bad = [r for r in rates if isinstance(r, bool) or not isinstance(r, (int, np.integer))]
    if bad:  # no silent conversion (44100.5 -> 44100, "48000" -> 48000)
        raise InvalidTypeError(f"rates: expected ints, got {bad!r}")
    rates = [int(r) for r in rates]
    unsupported = [r for r in rates if r not in SUPPORTED_RATES]
    if unsupported:
        raise InvalidArgumentError(f"rates: unsupported {unsupported}; supported: {SUPPORTED_RATES}")
    key = Key.from_bytes(_KEY_BYTES)
    rng = np.random.default_rng(0)
    timings: dict[str, float] = {}

    def step(name: str, fn) -> None:
        start = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - start
        if progress is not None:
            progress(name, timings[name])

    rgb = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)

    def video():
        marker = VideoWatermarker(key, _PAYLOAD)
        marker.embed(rgb.copy())
        marker.embed(np.ascontiguousarray(rgb[:, :, 0]))
        import av

        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        marker.embed(frame)
        detect_frames([marker.embed(rgb.copy()), frame], key=key)
        read_only = [rgb.copy(), np.ascontiguousarray(rgb[:, :, 0])]  # e.g. np.frombuffer of decoded bytes
        for a in read_only:
            a.setflags(write=False)
        detect_frames(read_only, key=key)

    step("video", video)
    seconds = 3.0

    def samples(n: int, channels: int, dtype, writable: bool) -> np.ndarray:
        x = 0.1 * rng.standard_normal((n, channels) if channels > 1 else (n,))
        x = (x * 32767).astype(np.int16) if dtype == np.int16 else x.astype(np.float32)
        x.setflags(write=writable)  # read-only arrays (np.frombuffer of decoded bytes) are another Numba type
        return x

    for i, rate in enumerate(rates):
        def audio(rate=rate, first=i == 0):
            # the embed kernels depend on the rate (resampler), the sample type and writability
            for dtype in (np.float32, np.int16):
                for writable in (True, False):
                    signal = samples(int(seconds * rate), 2, dtype, writable)
                    marked = watermark_audio(signal, rate, key=key, payload=_PAYLOAD)
                    streaming = AudioWatermarker(key, _PAYLOAD, rate, 2)
                    streaming.process(signal[: rate // 2])
                    streaming.flush()
            detect_audio(marked, rate, key=key)
            if first:  # detection works at 16 kHz: its kernels depend on the input's type and layout only
                for dtype in (np.float32, np.int16):
                    for channels in (1, 2):
                        for writable in (True, False):
                            detect_audio(samples(int(1.2 * rate), channels, dtype, writable), rate, key=key)

        step(f"audio {rate} Hz", audio)
    return timings
