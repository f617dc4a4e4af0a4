"""Audio watermark speed (issue 3): synthmark (Numba kernels) vs the same algorithm in plain
NumPy/SciPy, on 10 s of 48 kHz stereo, one core, same run. Every benchmark asserts its result.

    PYTHONPATH=src NUMBA_NUM_THREADS=1 python -m pytest -q bench/test_bench_audio.py --benchmark-columns=min,median
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthmark as sm  # noqa: E402
from tests.audio_signals import music_like, speech_like  # noqa: E402
import audio_numpy_reference as ref  # noqa: E402

FS = 48000
SECONDS = 10.0
KEY = sm.Key(b"bench-audio-key-0123456789abcdef")
PAYLOAD = 0x0123_4567_89AB_CDEF


@pytest.fixture(scope="module")
def clip():
    x = np.stack([music_like(SECONDS, FS, seed=1), speech_like(SECONDS, FS, seed=2)], axis=1)
    return x, sm.watermark_audio(x, FS, key=KEY, payload=PAYLOAD)


@pytest.mark.benchmark(group="audio-embed-10s-48k-stereo")
def test_embed_synthmark(benchmark, clip):
    y = benchmark(sm.watermark_audio, clip[0], FS, key=KEY, payload=PAYLOAD)
    assert np.array_equal(y, clip[1])
    benchmark.extra_info["x_realtime"] = SECONDS / benchmark.stats.stats.min


@pytest.mark.benchmark(group="audio-embed-10s-48k-stereo")
def test_embed_numpy_reference(benchmark, clip):
    y = benchmark(ref.embed, clip[0], FS, KEY, PAYLOAD)
    assert y.shape == clip[0].shape
    assert sm.detect_audio(y, FS, key=KEY, search_speed=False).payload == PAYLOAD
    benchmark.extra_info["x_realtime"] = SECONDS / benchmark.stats.stats.min


@pytest.mark.benchmark(group="audio-detect-10s-48k-stereo")
def test_detect_synthmark(benchmark, clip):
    det = benchmark(sm.detect_audio, clip[1], FS, key=KEY)
    assert det.found and det.payload == PAYLOAD
    benchmark.extra_info["x_realtime"] = SECONDS / benchmark.stats.stats.min


@pytest.mark.benchmark(group="audio-detect-10s-48k-stereo")
def test_detect_numpy_reference(benchmark, clip):
    z, payload = benchmark(ref.detect, clip[1], FS, KEY)
    assert payload == PAYLOAD and z > 6
    benchmark.extra_info["x_realtime"] = SECONDS / benchmark.stats.stats.min
