"""Audible labels: Morse "AI" timing by envelope detection, placement, insert/overlay, clipping, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import synthmark as sm
from synthmark import _core
from synthmark.errors import InvalidArgumentError, InvalidTypeError

SR = 16000


def envelope_runs(x: np.ndarray, sr: int, freq: float = 800.0):
    """(start, duration) in seconds of the tone bursts: band energy around `freq`, smoothed, half-max threshold."""
    x = x.astype(np.float64).reshape(x.shape[0], -1).mean(axis=1)
    t = np.arange(x.size) / sr
    # demodulate at the tone frequency and low-pass (5 ms moving average): the tone's amplitude envelope
    z = x * np.exp(-2j * np.pi * freq * t)
    k = int(0.005 * sr)
    env = np.abs(np.convolve(z, np.ones(k) / k, mode="same")) * 2
    on = env > 0.5 * env.max()
    edges = np.flatnonzero(np.diff(on.astype(np.int8)))
    if on[0]:
        edges = np.r_[-1, edges]
    if on[-1]:
        edges = np.r_[edges, on.size - 1]
    starts, stops = edges[0::2] + 1, edges[1::2] + 1
    return [(s / sr, (e - s) / sr) for s, e in zip(starts, stops)]


def test_rhythm_pattern_recovered_by_envelope_detection():
    label = sm.AudibleLabel()
    quiet = np.zeros(SR, np.float32)
    out = label.apply(quiet, SR)
    runs = envelope_runs(out, SR)
    assert len(runs) == 4
    durs = [d for _, d in runs]
    for got, want in zip(durs, [0.12, 0.36, 0.12, 0.12]):
        assert abs(got - want) < 0.01, durs
    gaps = [runs[i + 1][0] - (runs[i][0] + runs[i][1]) for i in range(3)]
    assert all(abs(g - 0.12) < 0.01 for g in gaps), gaps
    # insert: the content follows after the prompt and a gap, unchanged
    assert out.size > quiet.size and out.dtype == np.float32


def test_custom_timing_and_frequency():
    label = sm.AudibleLabel(frequency=1000, dot=0.08, dash=0.3, gap=0.1)
    out = label.prompt(SR)
    runs = envelope_runs(out, SR, freq=1000)
    assert [round(d, 2) for _, d in runs] == [0.08, 0.3, 0.08, 0.08]


def test_planar_channels_first_layout_is_kept():
    rng = np.random.default_rng(3)
    planar = (0.05 * rng.standard_normal((2, SR * 2))).astype(np.float32)
    out = sm.AudibleLabel().apply(planar, SR)
    ref = sm.AudibleLabel().apply(np.ascontiguousarray(planar.T), SR)
    assert out.shape == (2, ref.shape[0]) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, ref.T)
    over = sm.AudibleLabel(mode="overlay").apply(planar, SR, channels_first=True)
    assert over.shape == planar.shape
    with pytest.raises(InvalidArgumentError, match="ambiguous"):
        sm.AudibleLabel().apply(np.zeros((4, 4), np.float32), SR)


def test_no_clicks_fades():
    out = sm.AudibleLabel().prompt(48000)
    assert abs(out[0]) < 1e-3 and abs(out[-1]) < 1e-3
    assert np.abs(np.diff(out)).max() < 0.2 * np.abs(out).max()  # no step larger than a sine step at 800 Hz


@pytest.mark.parametrize("placement", ["start", "middle", "end", ["start", "end"], ["start", "middle", "end"]])
def test_placements_insert_keep_content_and_layout(placement):
    rng = np.random.default_rng(1)
    content = (0.05 * rng.standard_normal((SR * 3, 2))).astype(np.float32)
    out = sm.AudibleLabel(placement=placement).apply(content, SR)
    places = [placement] if isinstance(placement, str) else placement
    prompt_len = sm.AudibleLabel().prompt(SR).size  # prompt + gap
    assert out.shape == (content.shape[0] + len(places) * prompt_len, 2)
    if places == ["start"]:
        np.testing.assert_array_equal(out[prompt_len:], content)
    if places == ["end"]:
        np.testing.assert_array_equal(out[: content.shape[0]], content)
    # the prompt's 800 Hz tone dominates where it was placed
    runs = envelope_runs(out, SR)
    assert len([r for r in runs if r[1] > 0.1]) >= 4 * len(places)


def test_overlay_mixes_in_place_of_time_and_keeps_length():
    t = np.arange(SR * 2) / SR
    music = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = sm.AudibleLabel(mode="overlay", placement="end").apply(music, SR)
    assert out.shape == music.shape
    p = sm.AudibleLabel()._unit_prompt(SR).size
    np.testing.assert_array_equal(out[: SR * 2 - p], music[: SR * 2 - p])
    runs = envelope_runs(out, SR)
    assert len(runs) == 4 and runs[-1][0] + runs[-1][1] > 1.9


def test_level_follows_programme_loudness():
    t = np.arange(SR * 2) / SR
    for amp in (0.02, 0.2):
        music = (amp * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
        out = sm.AudibleLabel(level_db=0.0).apply(music, SR)
        prompt = out[: out.size - music.size]
        sounding = prompt[np.abs(prompt) > 0]
        rms_prompt = np.sqrt(np.mean(prompt[: int(0.12 * SR)] ** 2))
        assert sounding.size
        want = max(amp / np.sqrt(2), 10 ** (-20 / 20))
        assert abs(20 * np.log10(rms_prompt / want)) < 1.0


def test_int16_clipping_protection_and_dtype_layout():
    n = SR * 2
    loud = np.empty((n, 2), np.int16)
    loud[:, 0], loud[:, 1] = 32000, -32000  # near full scale: any prompt peak would overflow
    out = sm.AudibleLabel(mode="overlay", level_db=6.0).apply(loud, SR)
    assert out.dtype == np.int16 and out.shape == loud.shape
    # no wrap-around: the positive channel never turns negative and vice versa; the limiter holds the ceiling
    assert (out[:, 0] > 0).all() and (out[:, 1] < 0).all()
    assert out[:, 0].max() >= 32000 and out[:, 1].min() <= -32000
    # the prompt is there (values changed where it sounds)
    assert (out != loud).any()
    mono = sm.AudibleLabel().apply(np.zeros(SR, np.int16), SR)
    assert mono.ndim == 1 and mono.dtype == np.int16 and np.abs(mono).max() > 1000


def test_float_overlay_never_exceeds_ceiling():
    x = np.full(2 * SR, 0.99, np.float32)
    out = sm.AudibleLabel(mode="overlay", level_db=10).apply(x, SR)
    assert out.max() <= 32767 / 32768 + 1e-7 and out.min() >= -1.0


def test_voice_prompt_is_resampled():
    vr = 22050
    t = np.arange(int(0.5 * vr)) / vr
    clip = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    label = sm.AudibleLabel(kind="voice", voice_clip=clip, voice_rate=vr)
    out = label.apply(np.zeros(SR, np.float32), 48000)
    p = label._unit_prompt(48000)
    assert abs(p.size - 24000) <= 2
    spec = np.abs(np.fft.rfft(p))
    assert abs(np.argmax(spec) * 48000 / p.size - 440) < 3
    assert out.size == SR + p.size + int(0.12 * 48000)


def test_streaming_turn_prompt():
    label = sm.AudibleLabel()
    p = label.prompt(24000, channels=2, dtype=np.int16)
    assert p.dtype == np.int16 and p.ndim == 2 and p.shape[1] == 2
    runs = envelope_runs(p, 24000)
    assert len(runs) == 4
    rms = np.sqrt(np.mean((p[: int(0.12 * 24000), 0] / 32768.0) ** 2))
    assert abs(20 * np.log10(rms) + 20) < 1.0  # default -20 dBFS RMS


def test_bad_input():
    label = sm.AudibleLabel()
    bad = np.zeros(SR, np.float32)
    bad[5] = np.nan
    with pytest.raises(InvalidArgumentError, match="NaN"):
        label.apply(bad, SR)
    bad[5] = np.inf
    with pytest.raises(InvalidArgumentError, match="NaN"):
        label.apply(bad, SR)
    with pytest.raises(InvalidTypeError, match="float32 or int16"):
        label.apply(np.zeros(SR, np.float64), SR)
    with pytest.raises(InvalidTypeError):
        label.apply(np.zeros(SR, np.float32), 16000.0)
    with pytest.raises(InvalidArgumentError, match="too short"):
        sm.AudibleLabel(mode="overlay").apply(np.zeros(100, np.float32), SR)
    padded = sm.AudibleLabel(mode="overlay", extend=True).apply(np.zeros(100, np.float32), SR)
    assert padded.size == sm.AudibleLabel()._unit_prompt(SR).size and len(envelope_runs(padded, SR)) == 4
    with pytest.raises(InvalidArgumentError, match="Nyquist"):
        sm.AudibleLabel(frequency=5000).apply(np.zeros(SR, np.float32), 8000)
    with pytest.raises(InvalidArgumentError, match="placement"):
        sm.AudibleLabel(placement="beginning")
    with pytest.raises(InvalidArgumentError, match="voice_clip"):
        sm.AudibleLabel(kind="voice")
    with pytest.raises(InvalidArgumentError, match="silent"):
        sm.AudibleLabel(kind="voice", voice_clip=np.zeros(1000, np.float32), voice_rate=8000)
    with pytest.raises(InvalidArgumentError, match="shape"):
        label.apply(np.zeros((0,), np.float32), SR)


def test_core_mix_layouts_and_errors():
    prompt = np.ones(10, np.float32)
    a = np.zeros((2, 50), np.float32)  # (channels, n)
    assert _core.mix_prompt(a, prompt, 45, 0.5, False) == 5
    assert (a[:, 45:] == 0.5).all() and not a[:, :45].any()
    b = np.zeros((50, 2), np.float32)
    assert _core.mix_prompt(b, prompt, -5, 0.5, True) == 5
    assert (b[:5] == 0.5).all() and not b[5:].any()
    with pytest.raises(TypeError, match="float32"):
        _core.mix_prompt(np.zeros(10, np.float64), prompt, 0, 1.0)
    ro = np.zeros(10, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _core.mix_prompt(ro, prompt, 0, 1.0)
    with pytest.raises(ValueError, match="knee"):
        _core.mix_prompt(np.zeros(10, np.float32), prompt, 0, 1.0, True, 0.5, 0.9)
