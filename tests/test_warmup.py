"""warm_up / `synthmark warmup`: every code path runs once; bad rates are refused."""

from __future__ import annotations

import pytest

import synthmark as sm
from synthmark.cli import main
from synthmark.errors import InvalidArgumentError


def test_warm_up_runs_each_step_and_reports_it():
    seen = []
    timings = sm.warm_up([16000, 44100], progress=lambda name, s: seen.append(name))
    assert list(timings) == ["video", "audio 16000 Hz", "audio 44100 Hz"] == seen
    assert all(s >= 0.0 for s in timings.values())


def test_warm_up_refuses_unsupported_rates():
    with pytest.raises(InvalidArgumentError, match="11025"):
        sm.warm_up([11025])
    for bad in (44100.5, "48000", True):
        with pytest.raises(TypeError, match="rates"):
            sm.warm_up([bad])


def test_cli_warmup(capsys):
    assert main(["warmup", "--rates", "48000"]) == 0
    out = capsys.readouterr().out
    assert "audio 48000 Hz" in out and "total" in out
    assert main(["warmup", "--rates", "12345"]) == 2
    assert "12345" in capsys.readouterr().err
    assert main(["warmup", "--rates", "48k"]) == 2  # not a traceback
    assert "48k" in capsys.readouterr().err


def _signatures():
    from numba.core.registry import CPUDispatcher

    from synthmark.watermark import _audio_kernels, _dct_kernels, _video_kernels

    return {(mod.__name__, name): len(obj.signatures) for mod in (_audio_kernels, _video_kernels, _dct_kernels)
            for name, obj in vars(mod).items() if isinstance(obj, CPUDispatcher)}


def test_after_warm_up_common_inputs_compile_nothing():
    """Read-only arrays (np.frombuffer of decoded bytes), int16 or float32, mono or stereo: each is a
    different Numba type; warm_up must have compiled them all so that no request pays for it."""
    import numpy as np

    sm.warm_up([48000])
    before = _signatures()
    key = sm.Key(b"warm-up-test-key-0123456789abcde")
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.int16):
        for shape in ((60000,), (60000, 2)):
            x = 0.1 * rng.standard_normal(shape)
            x = (x * 32767).astype(np.int16) if dtype == np.int16 else x.astype(np.float32)
            for writable in (True, False):
                x.setflags(write=writable)
                marked = sm.watermark_audio(x, 48000, key=key, payload=1)
                wm = sm.AudioWatermarker(key, 1, 48000, 1 if x.ndim == 1 else 2)
                wm.process(x[:20000])
                wm.flush()
                marked.setflags(write=writable)
                sm.detect_audio(marked, 48000, key=key)
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    frame.setflags(write=False)
    sm.detect_frames([frame, np.ascontiguousarray(frame[:, :, 0])], key=key)
    assert _signatures() == before
