"""Audible labels: the rhythm prompt "short-long-short-short" (Morse "AI": · − · ·) or a voice clip, placed at
the start/middle/end of audio, inserted (the content shifts) or overlaid (mixed in). Mixing runs in _core.

Timing: element and gap durations are measured between half-amplitude points; each tone has raised-cosine
fades of `fade` seconds centred on those points, so nothing clicks. Defaults: 800 Hz, dot 120 ms, dash 360 ms,
gaps 120 ms (labeling-rules.md section 2; no official values exist, so all are configurable).

Level: the prompt's RMS (over its sounding part) is set to the programme's gated RMS (100 ms blocks above
-60 dBFS) times ``level_db``, but never below ``min_level_dbfs`` RMS (silent or very quiet programmes) and
never with a peak above ``max_peak_dbfs``. This is an RMS loudness, not LUFS.

Clipping protection: where the prompt is mixed, samples pass a soft-knee limiter (knee 0.9, ceiling
32767/32768 full scale; see cpp/include/synthmark/audio_mix.hpp). It is continuous and monotonic and never
exceeds the ceiling, so float output never clips and int16 output never wraps. Audio outside the prompt's
span is left exactly as it was (overlay) or copied unchanged (insert).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import _core
from .._cache import BoundedCache
from ..errors import InvalidArgumentError, InvalidTypeError

MORSE_AI = ("dot", "dash", "dot", "dot")
PLACEMENTS = ("start", "middle", "end")
CEILING = 32767.0 / 32768.0
KNEE = 0.9
_GATE_DBFS = -60.0


def _db(v: float) -> float:
    return 10.0 ** (v / 20.0)


def _positive(value, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise InvalidArgumentError(f"{name}: expected a positive number of seconds, got {value!r}")
    return v


def gated_rms(x: np.ndarray, sample_rate: int, block: float = 0.1, gate_dbfs: float = _GATE_DBFS) -> float:
    """RMS over 100 ms blocks louder than the gate (all channels pooled); 0.0 if every block is below it."""
    x = x.reshape(x.shape[0], -1).astype(np.float64, copy=False)
    n = max(1, int(round(block * sample_rate)))
    nblocks = max(1, x.shape[0] // n)
    used = x[: nblocks * n] if x.shape[0] >= n else x
    ms = np.mean(np.square(used).reshape(nblocks, -1), axis=1)
    keep = ms > _db(gate_dbfs) ** 2
    return float(math.sqrt(ms[keep].mean())) if keep.any() else 0.0


class AudibleLabel:
    """An audible label for audio and for per-turn streaming.

    >>> AudibleLabel().apply(samples, 48000)                 # rhythm prompt inserted before the content
    >>> AudibleLabel(mode="overlay", placement=["start", "end"]).apply(samples, 44100)
    """

    def __init__(
        self,
        kind: str = "rhythm",
        placement="start",
        mode: str = "insert",
        voice_clip: np.ndarray | None = None,
        voice_rate: int | None = None,
        frequency: float = 800.0,
        dot: float = 0.12,
        dash: float = 0.36,
        gap: float = 0.12,
        level_db: float = 0.0,
        fade: float = 0.01,
        *,
        min_level_dbfs: float = -20.0,
        max_peak_dbfs: float = -3.0,
        extend: bool = False,
    ) -> None:
        if kind not in ("rhythm", "voice"):
            raise InvalidArgumentError(f"kind: expected 'rhythm' or 'voice', got {kind!r}")
        if mode not in ("insert", "overlay"):
            raise InvalidArgumentError(f"mode: expected 'insert' or 'overlay', got {mode!r}")
        places = [placement] if isinstance(placement, str) else list(placement)
        if not places or any(p not in PLACEMENTS for p in places) or len(set(places)) != len(places):
            raise InvalidArgumentError(f"placement: expected one or more distinct of {PLACEMENTS}, got {placement!r}")
        self.kind, self.mode = kind, mode
        # overlay on a clip too short for the whole prompt: raise (False) or pad the end with silence (True)
        self.extend = bool(extend)
        self.placements = sorted(places, key=PLACEMENTS.index)
        self.frequency = _positive(frequency, "frequency")
        self.dot, self.dash, self.gap = _positive(dot, "dot"), _positive(dash, "dash"), _positive(gap, "gap")
        if self.dash <= self.dot:
            raise InvalidArgumentError(f"dash: must be longer than dot ({dash!r} <= {dot!r})")
        self.fade = float(fade)
        if not (0.0 <= self.fade <= min(self.dot, self.gap)):
            raise InvalidArgumentError(f"fade: expected 0 <= fade <= min(dot, gap), got {fade!r}")
        for name, v in (("level_db", level_db), ("min_level_dbfs", min_level_dbfs), ("max_peak_dbfs", max_peak_dbfs)):
            if not math.isfinite(float(v)):
                raise InvalidArgumentError(f"{name}: expected a finite number, got {v!r}")
        if not float(max_peak_dbfs) <= 0.0 or float(min_level_dbfs) >= float(max_peak_dbfs):
            raise InvalidArgumentError("max_peak_dbfs must be <= 0 and above min_level_dbfs")
        self.level_db = float(level_db)
        self.min_level_dbfs = float(min_level_dbfs)
        self.max_peak_dbfs = float(max_peak_dbfs)
        self.voice_clip = None
        self.voice_rate = None
        if kind == "voice":
            if voice_clip is None or voice_rate is None:
                raise InvalidArgumentError("voice_clip and voice_rate are required for kind='voice'")
            clip = _check_samples(voice_clip, "voice_clip")
            self.voice_rate = _check_rate(voice_rate, "voice_rate")
            mono = clip.astype(np.float64).reshape(clip.shape[0], -1).mean(axis=1)
            if clip.dtype == np.int16:
                mono /= 32768.0
            if gated_rms(mono, self.voice_rate) == 0.0:
                raise InvalidArgumentError("voice_clip: the clip is silent")
            self.voice_clip = mono
        elif voice_clip is not None:
            raise InvalidArgumentError("voice_clip: only used with kind='voice'")

    def __repr__(self) -> str:
        return f"AudibleLabel(kind={self.kind!r}, placement={self.placements!r}, mode={self.mode!r})"

    # -- the prompt --------------------------------------------------------------------------------
    def pattern(self) -> list[tuple[float, float]]:
        """(start, duration) in seconds of each tone element, at half amplitude, relative to the pattern start."""
        out, t = [], 0.0
        for i, el in enumerate(MORSE_AI):
            d = self.dot if el == "dot" else self.dash
            out.append((t, d))
            t += d + (self.gap if i < len(MORSE_AI) - 1 else 0.0)
        return out

    def _unit_prompt(self, sample_rate: int) -> np.ndarray:
        """Mono float32 prompt with RMS 1 over its sounding part (no level applied)."""
        return _unit_prompt_cached(self, sample_rate)

    def _build_unit(self, sample_rate: int) -> np.ndarray:
        if self.kind == "voice":
            frac = Fraction(sample_rate, self.voice_rate).limit_denominator(1000)
            from scipy.signal import resample_poly

            y = self.voice_clip if frac == 1 else resample_poly(self.voice_clip, frac.numerator, frac.denominator)
            nf = int(round(self.fade * sample_rate))
            if nf and y.size > 2 * nf:
                ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(nf) + 0.5) / nf)
                y = y.copy()
                y[:nf] *= ramp
                y[-nf:] *= ramp[::-1]
            rms = gated_rms(y, sample_rate)
            return (y / rms).astype(np.float32)
        if self.frequency >= sample_rate / 2:
            raise InvalidArgumentError(f"frequency: {self.frequency} Hz is not below Nyquist at {sample_rate} Hz")
        half = self.fade / 2
        pattern = self.pattern()
        total = pattern[-1][0] + pattern[-1][1] + self.fade
        n = int(math.ceil(total * sample_rate))
        t = (np.arange(n) + 0.5) / sample_rate - half  # time relative to the first half-amplitude point
        env = np.zeros(n)
        for start, dur in pattern:
            a, b = start - half, start + dur + half  # tone support including fades
            if self.fade > 0:
                rise = np.clip((t - a) / self.fade, 0.0, 1.0)
                fall = np.clip((b - t) / self.fade, 0.0, 1.0)
                e = np.minimum(0.5 - 0.5 * np.cos(np.pi * rise), 0.5 - 0.5 * np.cos(np.pi * fall))
            else:
                e = ((t >= start) & (t < start + dur)).astype(float)
            env = np.maximum(env, e)
        tone = np.sin(2 * np.pi * self.frequency * t) * env * math.sqrt(2.0)  # RMS 1 while sounding
        return tone.astype(np.float32)

    def _gain(self, unit: np.ndarray, programme_rms: float) -> float:
        target = max(programme_rms * _db(self.level_db), _db(self.min_level_dbfs))
        peak = float(np.max(np.abs(unit))) or 1.0
        return min(target, _db(self.max_peak_dbfs) / peak)

    def prompt(self, sample_rate: int, channels: int | None = None, dtype=np.float32, level_dbfs: float = -20.0):
        """The prompt to emit at the start of each turn of a streaming session, followed by `gap` seconds of
        silence (then the turn's own audio). Level is absolute (RMS dBFS) since the turn's loudness is not
        known yet. Returns (n,) or (n, channels) samples of `dtype` (float32 or int16)."""
        sample_rate = _check_rate(sample_rate, "sample_rate")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.int16):
            raise InvalidTypeError(f"dtype: expected float32 or int16, got {dtype}")
        unit = self._unit_prompt(sample_rate)
        gain = min(_db(float(level_dbfs)), _db(self.max_peak_dbfs) / (float(np.max(np.abs(unit))) or 1.0))
        mono = np.zeros(unit.size + int(round(self.gap * sample_rate)), dtype=np.float32)
        mono[: unit.size] = unit * np.float32(gain)
        out = mono if channels is None else np.repeat(mono[:, None], _check_channels(channels), axis=1)
        return _from_float(out, dtype)

    # -- apply -------------------------------------------------------------------------------------
    def apply(self, samples: np.ndarray, sample_rate: int, *, channels_first: bool | None = None) -> np.ndarray:
        """A new array: `samples` carrying the prompt, in the same dtype (float32 or int16) and layout.

        Layouts: (n,), (n, channels) or planar (channels, n) as PyAV decodes it. With ``channels_first=None``
        a 2-D array's smaller axis is its channel axis (equal sizes are ambiguous: pass it explicitly).
        """
        x = _check_samples(samples, "samples", channels_first)
        sample_rate = _check_rate(sample_rate, "sample_rate")
        planar = _is_planar(x, channels_first)
        work = _to_float(x.T if planar else x)
        work2d = work.reshape(work.shape[0], -1)
        unit = self._unit_prompt(sample_rate)
        gain = self._gain(unit, gated_rms(work2d, sample_rate))
        n, p = work2d.shape[0], unit.size
        pad = int(round(self.gap * sample_rate))
        if self.mode == "overlay":
            need = p * len(self.placements) + pad * (len(self.placements) - 1)
            if need > n and not self.extend:
                raise InvalidArgumentError(
                    f"samples: {n / sample_rate:.3f} s is too short to overlay {len(self.placements)} prompt(s) of "
                    f"{p / sample_rate:.3f} s; use mode='insert' or extend=True"
                )
            if need > n:  # extend=True: trailing silence so every prompt sounds in full
                work2d = np.concatenate([work2d, np.zeros((need - n, work2d.shape[1]), np.float32)])
                n = need
            offsets = {"start": 0, "middle": (n - p) // 2, "end": n - p}
            out2d = np.ascontiguousarray(work2d)
            for place in self.placements:
                _core.mix_prompt(out2d, unit, offsets[place], gain, True, CEILING, KNEE)
        else:
            cut = {"start": 0, "middle": n // 2, "end": n}
            seg = p + pad  # prompt plus a gap of silence towards the content
            out2d = np.zeros((n + seg * len(self.placements), work2d.shape[1]), dtype=np.float32)
            src = dst = 0
            for place in self.placements:
                c = cut[place]
                out2d[dst : dst + c - src] = work2d[src:c]
                dst += c - src
                src = c
                offset = dst + (pad if place == "end" else 0 if place == "start" else pad // 2)
                _core.mix_prompt(out2d, unit, offset, gain, True, CEILING, KNEE)
                dst += seg
            out2d[dst:] = work2d[src:]
        out = (out2d.T if planar else out2d) if x.ndim == 2 else out2d[:, 0]
        return _from_float(out, x.dtype)


#: rendered prompts kept per label (rates), oldest dropped first: label_file shares one default label
#: across calls and threads, and inputs may come at any rate
PROMPT_CACHE_RATES = 8


def _unit_prompt_cached(label: AudibleLabel, sample_rate: int) -> np.ndarray:
    cache = label.__dict__.get("_unit_cache")
    if cache is None:
        cache = label.__dict__.setdefault("_unit_cache", BoundedCache(PROMPT_CACHE_RATES))

    def build():
        unit = label._build_unit(sample_rate)
        unit.setflags(write=False)
        return unit

    return cache.get_or_build(sample_rate, build)


def _check_rate(rate, name: str) -> int:
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise InvalidTypeError(f"{name}: expected an int sample rate in Hz, got {type(rate).__name__}")
    if not 1000 <= int(rate) <= 768000:
        raise InvalidArgumentError(f"{name}: expected 1000..768000 Hz, got {rate}")
    return int(rate)


def _check_channels(channels) -> int:
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or not 1 <= channels <= 64:
        raise InvalidArgumentError(f"channels: expected an int in 1..64, got {channels!r}")
    return int(channels)


def _is_planar(x: np.ndarray, channels_first: bool | None) -> bool:
    if x.ndim != 2:
        return False
    if channels_first is None:
        if x.shape[0] == x.shape[1]:
            raise InvalidArgumentError(f"samples: shape {x.shape} is ambiguous; pass channels_first=True or False")
        return x.shape[0] < x.shape[1]
    return bool(channels_first)


def _check_samples(x, name: str, channels_first: bool | None = False) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise InvalidTypeError(f"{name}: expected a numpy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.int16):
        raise InvalidTypeError(f"{name}: expected float32 or int16 samples, got {x.dtype}")
    if x.ndim not in (1, 2) or x.size == 0:
        raise InvalidArgumentError(f"{name}: expected (n,), (n, channels) or (channels, n) samples with n > 0, got shape {x.shape}")
    if x.ndim == 2 and not 1 <= x.shape[0 if _is_planar(x, channels_first) else 1] <= 64:
        raise InvalidArgumentError(f"{name}: expected 1..64 channels, got shape {x.shape}")
    if x.dtype == np.float32 and not np.isfinite(x).all():
        raise InvalidArgumentError(f"{name}: contains NaN or infinite samples")
    return x


def _to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.int16:
        return x.astype(np.float32) * np.float32(1.0 / 32768.0)
    return x.astype(np.float32, copy=True)


def _from_float(y: np.ndarray, dtype) -> np.ndarray:
    if np.dtype(dtype) == np.int16:
        return np.clip(np.rint(y * 32768.0), -32768, 32767).astype(np.int16)
    return np.ascontiguousarray(y, dtype=np.float32)
