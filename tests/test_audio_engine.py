"""Audio embedding engine plumbing: the one-shot path reads the caller's samples in place and the
streaming path keeps its own copy of the history; memory layouts and block boundaries must not
change a single output sample."""

from __future__ import annotations

import numpy as np
import pytest

import synthmark as sm
from synthmark.errors import InvalidArgumentError
from synthmark.watermark import _audio_kernels as K
from synthmark.watermark import audio as A

from .audio_signals import music_like, speech_like

KEY = sm.Key(b"audio-engine-test-key-0123456789")
PAYLOAD = 0x0FED_CBA9_8765_4321


def _stereo(seconds, fs):
    return np.stack([music_like(seconds, fs, seed=21), speech_like(seconds, fs, seed=22)], axis=1)


def test_layouts_and_views_give_the_same_output():
    x = _stereo(2.5, 48000)
    ref = sm.watermark_audio(x, 48000, key=KEY, payload=PAYLOAD)
    assert ref.flags.c_contiguous and ref.dtype == np.float32
    # Fortran order, a column-sliced view of a wider array, a reversed-channel view reversed back
    wide = np.concatenate([x, x[:, :1]], axis=1)
    for arr in (np.asfortranarray(x), wide[:, :2], x[:, ::-1][:, ::-1]):
        assert np.array_equal(sm.watermark_audio(arr, 48000, key=KEY, payload=PAYLOAD), ref)
    # the input is never written to
    before = x.copy()
    sm.watermark_audio(x, 48000, key=KEY, payload=PAYLOAD)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("fs", [48000, 44100])
def test_streaming_with_a_reused_chunk_buffer(fs):
    """A server that refills one buffer per chunk: the engine must have copied what it keeps."""
    x = (_stereo(2.0, fs) * 20000).astype(np.int16)
    ref = sm.watermark_audio(x, fs, key=KEY, payload=PAYLOAD)
    wm = sm.AudioWatermarker(KEY, PAYLOAD, fs, 2)
    buf = np.empty((1500, 2), np.int16)
    outs = []
    for i in range(0, len(x), len(buf)):
        n = min(len(buf), len(x) - i)
        buf[:n] = x[i:i + n]
        outs.append(wm.process(buf[:n]))
        buf[:] = 12345  # the caller scribbles over its buffer before the next chunk
    outs.append(wm.flush())
    assert np.array_equal(np.concatenate(outs), ref)


def test_one_shot_block_boundaries_do_not_matter(monkeypatch):
    x = _stereo(3.0, 48000)
    ref = sm.watermark_audio(x, 48000, key=KEY, payload=PAYLOAD)
    for block in (4096, 50_000, 1 << 20):
        monkeypatch.setattr(A, "ONESHOT_BLOCK", block)
        assert np.array_equal(sm.watermark_audio(x, 48000, key=KEY, payload=PAYLOAD), ref)


def test_channel_mean_matches_numpy():
    rng = np.random.default_rng(3)
    for C in (2, 3, 8):
        for arr in ((rng.standard_normal((5001, C)) * 0.3).astype(np.float32),
                    rng.integers(-32768, 32767, (5001, C)).astype(np.int16)):
            out = np.empty(len(arr))
            K.channel_mean(arr, out)
            assert np.array_equal(out, arr.mean(axis=1, dtype=np.float64))


def test_non_finite_samples_are_rejected_wherever_they_are():
    x = _stereo(0.5, 48000)
    for pos in ((0, 0), (len(x) - 1, 1), (12_345, 1)):
        for bad in (np.nan, np.inf, -np.inf):
            y = x.copy()
            y[pos] = bad
            for arr in (y, np.asfortranarray(y)):  # the fast check (C order) and numpy's
                with pytest.raises(InvalidArgumentError):
                    sm.watermark_audio(arr, 48000, key=KEY, payload=PAYLOAD)
