"""Edge sizes of the fused embedding kernels: the shortest accepted input, single-sample chunks over
the stream start (the per-output head of the resamplers), 3 and 8 channels, full-scale int16 and
float32, strided mono views. Streaming must equal one-shot bit for bit, and every output sample must be
finite and in range. (Checked against the pre-rework engine with NUMBA_BOUNDSCHECK=1 when reviewed.)"""

from __future__ import annotations

import numpy as np
import pytest

import synthmark as sm

KEY = sm.Key(b"audio-edge-test-key-0123456789ab")
PAYLOAD = 0x1357_9BDF_2468_ACE0


def _signal(n, channels, dtype, seed):
    rng = np.random.default_rng(seed)
    x = 0.3 * rng.standard_normal((n, channels))
    x[::97] = 1.0
    x[1::89] = -1.0
    if dtype == np.int16:
        a = np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)
        a[::53] = 32767
        a[2::59] = -32768
        return a
    return x.astype(np.float32)


@pytest.mark.parametrize("fs,channels,dtype", [(22050, 3, np.int16), (48000, 3, np.float32), (24000, 8, np.int16),
                                                (44100, 1, np.float32)])
def test_single_sample_chunks_and_edge_lengths(fs, channels, dtype):
    n_min = 1024 * fs // 16000  # the shortest input watermark_audio accepts (64 ms)
    for n in (n_min, n_min + 1, fs // 2 + 13):
        x = _signal(n, channels, dtype, n)
        ref = sm.watermark_audio(x, fs, key=KEY, payload=PAYLOAD)
        assert ref.shape == x.shape and ref.dtype == x.dtype
        if dtype == np.float32:
            assert np.isfinite(ref).all() and np.abs(ref).max() < 1.5
        wm = sm.AudioWatermarker(KEY, PAYLOAD, fs, channels)
        head = min(n, 600)
        outs = [wm.process(x[i:i + 1]) for i in range(head)]  # one sample at a time over the start
        outs += [wm.process(x[i:i + 997]) for i in range(head, n, 997)]
        outs.append(wm.flush())
        assert np.array_equal(np.concatenate(outs), ref)


def test_too_short_for_one_shot_still_streams():
    fs = 48000
    x = _signal(7, 2, np.float32, 1)
    with pytest.raises(sm.errors.FrameTooSmallError):
        sm.watermark_audio(x, fs, key=KEY, payload=PAYLOAD)
    wm = sm.AudioWatermarker(KEY, PAYLOAD, fs, 2)
    out = np.concatenate([wm.process(x[:3]), wm.process(x[3:]), wm.flush()])
    assert out.shape == x.shape and np.isfinite(out).all()


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_strided_and_reversed_mono_views(dtype):
    fs = 16000
    wide = _signal(2 * fs, 2, dtype, 5)
    for view in (wide[:, 1], wide[::-1, 0], wide[::2, 0]):
        ref = sm.watermark_audio(np.ascontiguousarray(view), fs, key=KEY, payload=PAYLOAD)
        assert np.array_equal(sm.watermark_audio(view, fs, key=KEY, payload=PAYLOAD), ref)
