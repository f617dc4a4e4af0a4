"""Keyed, imperceptible, codec-robust audio watermark carrying a 64-bit payload.

How it works (details in ``_audio_kernels``):

* The mark lives in 312-3437 Hz, computed at an internal rate of 16 kHz, so it survives 8 kHz
  telephony, 16 kHz resampling and MP3/AAC/Opus. The input is never resampled: each channel is
  analysed at 16 kHz, the mark (a time-varying gain of +/- a few percent per band and frame, i.e.
  shaped by the signal's own spectrum: nothing is added to digital silence) is computed there,
  interpolated back to the input rate and added.
* Each projection of NP tiles (band x frame) carries one bit by spread-transform dither modulation on
  log-energies, which rejects host interference. Plain or improved spread spectrum (Malvar-Florencio
  ISS) cannot carry 64 bits in 10 s at 35 dB SNR here: measured, the host's own projection has a
  spread of 1.6-1.7 (speech, music) against a mark rms of 0.25, and ISS can cancel at most ~15% of it
  within that distortion. The projection change is split over its tiles at least added energy (quiet
  tiles move more, loud ones less), so the lattice step is large (robust to noise and codecs) at
  SNR >= 35 dB. A level control then holds the mark's energy over about the last second at least
  LEVEL_BUDGET_DB below the signal's (the lattice step is set for it): where a group's (64 ms) moves would
  exceed that budget, all of them move only part of the way to their lattice points (distortion
  compensation; a scaled move's energy is not exactly a^2 of it, so the running energy may pass the
  budget by up to ~0.15 dB, measured on music, which the next groups absorb), so the
  SNR is about the same on speech and music (35.8 / 36.4 dB) instead of leaving music and mixes
  1-2 dB quieter than needed (measured, same windows: speech+music presence from 3 s through Opus
  32 kbit/s 55/60 -> 59/60, AAC 64 kbit/s 58 -> 60; music + 20 dB noise 45 -> 48; speech within
  noise: Opus 17 -> 18, AAC 64 kbit/s 47 -> 47), and no content goes below 35 dB (before: 34.7 dB on
  some speech clips, 32.0 dB on the built-in sample's voice).
  Detection reads each projection as the soft value -cos(2 pi (p - d) / step) (the
  lattice's first harmonic) weighted by the projection's energy above a per-band noise floor
  estimated from the window and by its frame's level relative to the window's loud frames (frames
  ~13 dB below the 90th-percentile frame level get half weight: measured, through codecs and added
  noise they carry almost nothing). Bits are a keyed interleave of the 64-bit payload + CRC-32
  convolutional codeword
  (K=15, soft Viterbi, from ``synthmark._core``) and of keyed sync bits (half of the slots); the
  pattern repeats with a period of 220 frames (7.04 s) so any window at least that long holds every
  coded bit. When the Viterbi path fails its CRC and the sync test already points to a mark, the
  decoder walks the next best paths (CRC-aided list Viterbi, up to LIST_SIZE) and takes the first
  whose CRC checks: the CRC then corrects as well as detects (measured: speech through Opus 32 kbit/s,
  exact payload from 10 s windows 44/60 -> 57/60). Every CRC check made enters the false-alarm
  bound (2^-32 per check).
* Detection searches the frame phase (coarse 8 ms, then refined by +/-4, 2, 1, 0.5 ms) and the position in the period
  with 40% of the sync bits (SEARCH set). The other 60% (TEST set) are never looked at during the
  search; at the chosen offset  z = sum(x_i s_i) / sqrt(sum x_i^2)  where s_i are the keyed signs.
  Under H0 (unmarked audio, other key) this is a Rademacher sum: mean 0, variance 1, sub-Gaussian,
  so ``false_alarm = norm.sf(z)`` (times the number of speed hypotheses tried) is calibrated; the
  default threshold 1e-6 gives < 0.04 expected false alarms per 10,000 windows even with the speed
  search. If not found at speed 1, replay speeds 0.98..1.02 (resampled: time and pitch scaled) and
  tempos 0.98..1.02 (pitch kept, e.g. FFmpeg atempo: the frames are read every tempo * H samples
  instead; the mark's band energies survive the overlap-add of a time-stretcher) are searched on a
  0.25% grid, then refined around the first hit.
* Limit, measured on speech through libopus 32 kbit/s (SILK/hybrid): the codec passes the host's
  projections almost unchanged (regression 0.999) and keeps 0.7-0.8 of the mark's, but adds
  log-energy noise of 0.2-0.27 rms per projection against a decision margin of step/4 (0.22 at the
  former step 0.88, without level control). So a
  lattice rescaled by an estimated contraction does not help (the host is not contracted), and
  125/250/500 Hz bands or 1024/2048-sample frames give about the same noise per unit of
  time-frequency area; the row needs more mark energy (SNR) or more area. Tried and not taken:
  bands up to 4.4/5.4 kHz (speech through Opus: payload from 10 s 21/24 instead of 16/24, but music
  SNR 35.3/33.0 dB and music + 20 dB noise payload 10/24), one-frame projections (+7% z at -0.5 dB
  SNR on speech: a larger step does the same), a second embedding pass (+15% at -1.5 dB),
  distortion compensation everywhere (alpha 0.5-0.8 at the same SNR: speech through Opus payload
  from 10 s 11/16 -> 3-12/16; its noise is not Gaussian: most projections are clean), a floor on
  the split's tile cost (moves change from quiet to loud tiles: +7% z for -4 dB SNR), more sync
  slots (60% with 75% held out: speech Opus presence from 3 s 17/60 -> 28-31/60 but payload from
  10 s 57/60 -> 39/60), a tile floor 20 dB (not 13 dB) below the frame mean (real TTS speech, whose
  formant valleys are deep: clean payload from 10 s 21/24 -> 24/24, presence from 3 s 12/24 -> 21/24;
  but music through 20 dB white noise: payload 100% -> 0%, as its quiet tiles then carry the mark).
  Presence from 3 s on speech through Opus 32k / AAC 64k stays ~30% / ~80%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.fft
from scipy.special import ndtr  # P(N(0,1) >= z) = ndtr(-z); scipy.stats and scipy.signal cost ~2 s to import

# scipy.signal is imported where it is used (resampling, filter design), not with synthmark
from numpy.lib.stride_tricks import sliding_window_view

from .. import _checks
from .._cache import BoundedCache
from ..detection import Detection
from ..errors import FrameTooSmallError, InvalidArgumentError, InvalidTypeError
from ..keys import Key, cache_tag
from . import _audio_kernels as K

FS_INT = 16000
SUPPORTED_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
GF = 2  # frames per group
NP = 6  # tiles per projection (even: signs are balanced, so gain changes cancel)
PP = (GF * K.N_BANDS) // NP  # projections per group
TEST_SHARE = 0.6  # share of the sync bits held out for the presence test (the rest drive the search)
SYNC_FRACTION = 0.50  # share of the slots that carry keyed sync bits (presence from 3 s needs many)
RATE_INVERSE = 4  # convolutional code rate 1/4
CONSTRAINT_LENGTH = 15
STEP = 1.1  # STDM lattice step (natural-log energy units)
# level control: the mark's energy over about the last second stays LEVEL_BUDGET_DB below the signal's, by
# the embedder's own estimate from band and frame energies (to within ~0.15 dB: scaling a group's log-gain
# moves by a scales their energy by about, not exactly, a^2); the output SNR measured over non-silent
# 50 ms blocks is about 2.3 dB higher: speech 35.7 dB (min 35.4), music 36.4, speech+music 36.4
LEVEL_BUDGET_DB = 33.4
LEVEL_DECAY = 0.9375  # per 64 ms group: a memory of about 1 s
ONSET_RISE = 10.0  # largest energy rise from a frame's first to second half that is marked at full strength
KAPPA = 0.85  # about the share of a frame's gain change that the analysis window of that frame sees
DEFAULT_THRESHOLD = 1e-6
LIST_SIZE = 1024  # CRC-aided list decoding: paths tried (best first) when the Viterbi path fails its CRC
LIST_MIN_Z = 3.0  # the list is walked only above this sync z (reached by 0.13% of unmarked hypotheses; with
# search_speed, the best 3 of the 33 speed and tempo hypotheses are decoded: at most ~4% of unmarked windows walk)
SPEED_STEP = 0.0025
MAX_SPEED_DEV = 0.03
SPEEDS = tuple(1.0 + SPEED_STEP * i for i in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8))
MIN_DETECT_SECONDS = 1.0
COARSE_STEP = 128  # coarse frame-phase step of the search (samples at 16 kHz); refined down to FINE_STEP
FINE_STEP = 8
_WINDOW = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(K.N) / K.N))  # periodic sqrt-Hann


def _core():
    from .. import _core

    return _core


_PAYLOAD_CODE: list = []


def _payload_code():
    if not _PAYLOAD_CODE:  # immutable; built once (a race only builds it twice)
        _PAYLOAD_CODE.append(_core().PayloadCode(payload_bits=64, crc_bits=32, constraint_length=CONSTRAINT_LENGTH,
                                                 rate_inverse=RATE_INVERSE))
    return _PAYLOAD_CODE[0]


@dataclass(frozen=True, repr=False)
class _Layout:
    pg: int
    tile_of: np.ndarray
    usign: np.ndarray
    dither: np.ndarray
    role: np.ndarray
    sync_sign: np.ndarray
    sync_bits: np.ndarray
    sync_search: np.ndarray
    sync_test: np.ndarray
    n_coded: int
    search_j: np.ndarray  # (PG, M) projections of each group in the SEARCH sync set, -1 padded
    search_s: np.ndarray  # (PG, M) their sync indices

    def __repr__(self) -> str:  # the arrays are key material (they place and sign the mark): never shown
        return f"_Layout(pg={self.pg}, n_coded={self.n_coded})"

    @property
    def period_frames(self) -> int:
        return self.pg * GF

    @property
    def period_seconds(self) -> float:
        return self.pg * GF * K.H / FS_INT


_LAYOUTS = BoundedCache(32)  # (cache_tag(key), n_coded) -> _Layout (immutable)


def _layout(key: Key, n_coded: int) -> _Layout:
    """The keyed layout of ``key`` (cached per key secret digest, not per public id: see cache_tag)."""
    return _LAYOUTS.get_or_build((cache_tag(key), n_coded), lambda: _make_layout(key, n_coded))


def _make_layout(key: Key, n_coded: int) -> _Layout:
    streams = _core().KeyedStreams(key.secret_bytes())
    slots_needed = math.ceil(n_coded / (1.0 - SYNC_FRACTION))
    pg = math.ceil(slots_needed / PP)
    n_slots = pg * PP
    n_sync = n_slots - n_coded
    ntile = GF * K.N_BANDS
    u = np.empty(pg * ntile, np.float32)
    streams.fill_uniform("audio/tiles", u)
    tile_of = np.argsort(u.reshape(pg, ntile), axis=1, kind="stable")[:, : PP * NP].astype(np.int64)
    half = np.empty(pg * PP * (NP // 2), np.float32)
    streams.fill_signs("audio/spread", half)
    half = half.reshape(pg, PP, NP // 2).astype(np.float64)
    usign = np.concatenate([half, -half], axis=2).reshape(pg, PP * NP)
    dither = np.empty(n_slots, np.float32)
    streams.fill_uniform("audio/dither", dither)
    dither = (dither.astype(np.float64) * STEP).reshape(pg, PP)
    order = np.asarray(streams.permutation("audio/roles", n_slots), dtype=np.int64)
    role = np.empty(n_slots, np.int64)
    idx = np.arange(n_slots)
    role[order] = np.where(idx < n_coded, idx, -1 - (idx - n_coded))
    sync_sign = np.empty(n_sync, np.float32)
    streams.fill_signs("audio/sync", sync_sign)
    sync_sign = sync_sign.astype(np.float64)
    sel = np.empty(n_sync, np.float32)
    streams.fill_uniform("audio/sync-split", sel)
    test = np.zeros(n_sync, np.bool_)
    test[np.argsort(sel, kind="stable")[: int(round(n_sync * TEST_SHARE))]] = True
    role = role.reshape(pg, PP)
    srch = (role < 0) & ~test[np.maximum(-1 - role, 0)]
    M = max(1, int(srch.sum(axis=1).max()))
    search_j = np.full((pg, M), -1, np.int64)
    search_s = np.zeros((pg, M), np.int64)
    for g in range(pg):
        js = np.flatnonzero(srch[g])
        search_j[g, : len(js)] = js
        search_s[g, : len(js)] = -1 - role[g, js]
    return _Layout(pg, tile_of, usign, dither, role, sync_sign, (sync_sign > 0).astype(np.int64), ~test, test,
                   n_coded, search_j, search_s)


# ------------------------------------------------------------------------------------------------
# resampling filters (fs <-> 16 kHz); the mark only occupies <= 3.5 kHz so the filters are short
# ------------------------------------------------------------------------------------------------
_FILTERS: dict = {}


def _filter(fs: int):
    if fs not in _FILTERS:
        g = math.gcd(fs, FS_INT)
        up, down = FS_INT // g, fs // g  # fs -> FS_INT
        if up == down == 1:
            _FILTERS[fs] = (1, 1, np.ones(1))
            return _FILTERS[fs]
        fs_hi = fs * up
        passband = min((K.BIN_LO + K.N_BANDS * K.BAND_W) * FS_INT / K.N + 160.0, 0.45 * min(fs, FS_INT))
        stop = min(fs, FS_INT) - passband
        from scipy.signal import firwin, kaiserord

        numtaps, beta = kaiserord(60.0, (stop - passband) / (fs_hi / 2))
        numtaps |= 1
        h = firwin(numtaps, (passband + stop) / 2, window=("kaiser", beta), fs=fs_hi)
        _FILTERS[fs] = (up, down, h.astype(np.float64))
    return _FILTERS[fs]


# ------------------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------------------
def _check_rate(sample_rate) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise InvalidTypeError(f"sample_rate: expected an int, got {type(sample_rate).__name__}")
    if int(sample_rate) not in SUPPORTED_RATES:
        raise InvalidArgumentError(f"sample_rate: expected one of {SUPPORTED_RATES}, got {sample_rate}")
    return int(sample_rate)


def _check_key(key) -> Key:
    if not isinstance(key, Key):
        raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
    return key


def _from_av(frame):
    """av.AudioFrame -> (samples (n, ch) array, rate, rebuild callable)."""
    import av

    fmt = frame.format.name
    if fmt not in ("s16", "s16p", "flt", "fltp"):
        raise InvalidTypeError(f"samples: av.AudioFrame format must be s16, s16p, flt or fltp, got {fmt}")
    arr = frame.to_ndarray()
    ch = len(frame.layout.channels)
    arr = arr.T.copy() if frame.format.is_planar else arr.reshape(-1, ch)
    layout = frame.layout.name

    def rebuild(out):
        data = out.T if frame.format.is_planar else out.reshape(1, -1)
        new = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout=layout)
        new.sample_rate = frame.sample_rate
        new.pts = frame.pts
        if frame.time_base is not None:
            new.time_base = frame.time_base
        return new

    return arr, frame.sample_rate, rebuild


def _check_samples(samples, name="samples") -> np.ndarray:
    arr = _checks.check_array(samples, name, dtypes=(np.float32, np.int16), ndims=(1, 2))
    if arr.shape[0] == 0 or (arr.ndim == 2 and arr.shape[1] == 0):
        raise InvalidArgumentError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[1] > 8:
        raise InvalidArgumentError(f"{name}: expected (n,) or (n, channels) with channels <= 8, got {arr.shape}")
    if not _all_finite(arr):
        raise InvalidArgumentError(f"{name}: contains NaN or infinite samples")
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    if arr.dtype != np.float32:
        return True
    if arr.flags.c_contiguous:
        return bool(K.finite_f32_bits(arr.reshape(-1).view(np.uint32)))
    return bool(np.isfinite(arr).all())


def _raw2d(arr: np.ndarray) -> np.ndarray:
    """(n,) or (n, C) -> (n, C) view."""
    return arr.reshape(arr.shape[0], 1 if arr.ndim == 1 else arr.shape[1])


class _Buf:
    """(C, cap) float64 working buffer holding absolute samples [base, end) of a stream; samples
    before ``lo`` may be dropped when room is needed (the live part moves to the front)."""

    __slots__ = ("a", "base", "end", "lo")

    def __init__(self, channels: int, cap: int):
        self.a = np.empty((channels, max(cap, 64)))
        self.base = self.end = self.lo = 0

    def reserve(self, end: int) -> None:
        """Make room for absolute samples up to ``end``."""
        if end - self.base <= self.a.shape[1]:
            return
        keep = max(self.lo, self.base)
        live = self.a[:, keep - self.base: self.end - self.base]
        if end - keep > self.a.shape[1]:
            new = np.empty((self.a.shape[0], max(end - keep, 2 * self.a.shape[1])))
            new[:, : live.shape[1]] = live
            self.a = new
        else:
            self.a[:, : live.shape[1]] = live.copy()
        self.base = keep


ONESHOT_BLOCK = 1 << 16  # input samples per block fed to the engine by watermark_audio
_GROUPS_PER_PASS = 32  # groups whose frames go through one batched FFT (cache-sized working arrays)
_INTERP_BLOCK = 3072  # output samples per block of the fused interpolation + output pass


class _Engine:
    """Streaming embedder. Input: (n, C) float32 or int16 chunks (the caller's samples, read in
    place); output: the marked samples, written in one pass (input + mark interpolated to fs)."""

    def __init__(self, layout: _Layout, bits: np.ndarray, fs: int, channels: int, dtype=np.float32,
                 expected: int = 0):
        self.lay = layout
        self.bits = bits.astype(np.int64)
        self.fs = fs
        self.C = channels
        self.set_dtype(dtype)
        up, down, h = _filter(fs)
        self.u1, self.d1 = up, down  # fs -> 16 kHz
        self.u2, self.d2 = down, up  # 16 kHz -> fs
        self.h1, self.h2 = h * up, h * down
        self.hp1, self.hp2 = K.polyphase(self.h1, up), K.polyphase(self.h2, down)
        self.c = (len(h) - 1) // 2
        hop_s = Fraction(fs, FS_INT)
        lat = Fraction(self.c, self.u1) + Fraction(self.c, self.u2) + (1 + (2 * GF - 1) * K.H + K.N) * hop_s
        self.latency = math.ceil(lat) + 2
        self.x_base = 0  # self.xr (set_dtype): raw input, absolute [x_base, n_in)
        self.n_in = 0
        # internal-rate buffers sized for `expected` input samples (plus the flush) when known
        cap = (expected + self.flush_pad()) * FS_INT // fs + 4 * K.N if expected else 1 << 15
        self.sig = _Buf(channels, cap)  # 16 kHz input
        self.mark = _Buf(channels, cap)  # 16 kHz mark accumulator
        self.n_int = 0
        self.level = np.zeros(2)  # running (signal, mark) energies of the level control
        self.g_next = 0
        self.n_out = 0
        self.limit = None  # set by flush: total output samples
        self._xc = np.empty(0)
        self._tmp = np.empty(0)
        # separate kernels so that each rate compiles only the resampler it runs
        split = self.u1 == 1 and 2 <= self.d1 <= 8
        self._decimate = K.decimate_raw if split else K.decimate_raw_generic
        self._itmp = np.empty((channels, max(_INTERP_BLOCK, 64 * self.u2)))
        self._itmp2 = np.empty(-(-self._itmp.shape[1] // self.u2))

    def set_dtype(self, dtype) -> None:
        """Sample type of the chunks (float32 or int16); only before the first chunk. Clears the raw input."""
        self.dtype = np.dtype(dtype)
        self.scale = 1.0 / 32768.0 if self.dtype == np.int16 else 1.0
        self.xr = np.zeros((0, self.C), self.dtype)

    def flush_pad(self) -> int:
        return self.latency + 2 * (GF * K.H + K.N) * self.fs // FS_INT + 16

    def _groups(self, g0: int, g1: int) -> None:
        """Mark of groups g0 .. g1 - 1 (their frames are complete): batched FFTs of the frames, tile
        gains, onset guard, batched IFFTs, overlap-add into the mark accumulator."""
        C = self.C
        lay = self.lay
        f0, f1 = g0 * GF, g1 * GF
        mk = self.mark
        end = f1 * K.H + K.H  # frame f1 - 1 ends at (f1 + 1) * H
        if end > mk.end:
            mk.reserve(end)
            mk.a[:, mk.end - mk.base: end - mk.base] = 0.0
            mk.end = end
        F = f1 - f0
        frames = np.empty((C, F, K.N))
        e1 = np.empty(F)
        e2 = np.empty(F)
        K.window_frames(self.sig.a, f0 * K.H - self.sig.base, _WINDOW, frames, e1, e2)
        spec = scipy.fft.rfft(frames, axis=2, workers=1, overwrite_x=True)
        gains = np.empty((F, K.N_BANDS))
        K.group_gains(spec[:, :, K.BIN_LO: K.BIN_LO + K.NB], g0 % lay.pg, GF, NP, lay.tile_of,
                      lay.usign, lay.dither, lay.role, self.bits, lay.sync_bits, STEP, KAPPA, e1 + e2,
                      10.0 ** (-LEVEL_BUDGET_DB / 10.0), LEVEL_DECAY, self.level, gains)
        # onset guard: a frame's mark spreads over its whole window, so where the second half is
        # much louder than the first (an onset) the mark is scaled down to stay ONSET_RISE below
        # the first half's level (no pre-echo into the quiet part before the onset); then the gains
        # are applied in place (zero outside the band, scaled band bins)
        K.onset_apply(spec, gains, e1, e2, ONSET_RISE)
        m = scipy.fft.irfft(spec, K.N, axis=2, workers=1, overwrite_x=True)
        K.overlap_add(m, _WINDOW, mk.a, f0 * K.H - mk.base)

    def process(self, raw: np.ndarray, out: np.ndarray | None = None, o: int = 0, src: np.ndarray | None = None):
        """raw: (n, C) samples of ``dtype``. Writes the marked samples that are now final to
        out[o: o + count] (a new (count, C) array when out is None); returns (out, count).
        src: a C-contiguous array holding the whole stream from sample 0, of which raw is the next
        rows (the one-shot path): the history is then read from it in place, nothing is copied."""
        C = self.C
        n = raw.shape[0]
        if src is not None:
            xr = src[self.x_base: self.n_in + n]
        elif self.xr.shape[0]:
            xr = np.concatenate([self.xr, raw])
        else:
            xr = np.ascontiguousarray(raw)
        self.n_in += n
        # 1. fs -> 16 kHz: internal sample m needs input up to (m*d1 + c)//u1
        n_int = (self.n_in * self.u1 - 1 - self.c) // self.d1 + 1
        if n_int > self.n_int:
            cnt = n_int - self.n_int
            sig = self.sig
            sig.reserve(n_int)
            span = cnt * self.d1 // self.u1 + self.hp1.shape[1] + 2 * self.d1 + 8
            if self._xc.shape[0] < span:
                self._xc = np.empty(span)
            if self._tmp.shape[0] < cnt // self.u1 + 2:
                self._tmp = np.empty(cnt // self.u1 + 2)
            self._decimate(xr, self.x_base, self.scale, self.hp1, self.u1, self.d1, self.c, self.n_int, cnt,
                           sig.a, self.n_int - sig.base, self._xc, self._tmp)
            sig.end = self.n_int = n_int
        # 2. groups whose frames are complete, a few dozen per batched FFT
        span = (GF - 1) * K.H + K.N
        g_end = (self.n_int - span) // (GF * K.H) + 1 if self.n_int >= span else 0
        for g0 in range(self.g_next, g_end, _GROUPS_PER_PASS):
            self._groups(g0, min(g0 + _GROUPS_PER_PASS, g_end))
        self.g_next = max(self.g_next, g_end)
        final_int = self.g_next * GF * K.H
        # 3. output with constant latency: input + mark interpolated 16 kHz -> fs, in one pass
        n_mfs = (final_int * self.u2 - 1 - self.c) // self.d2 + 1 if final_int > 0 else 0
        target = self.n_in - self.latency if self.limit is None else self.limit
        target = max(self.n_out, min(target, self.limit if self.limit is not None else target))
        assert n_mfs >= target, "latency bound violated"
        count = target - self.n_out
        if out is None:
            out, o = np.empty((count, C), self.dtype), 0
        if count:
            fast = self.d2 == 1 and self.u2 <= 8
            if self.dtype == np.int16:
                kern = K.interp_add_i16 if fast else K.interp_add_generic_i16
            else:
                kern = K.interp_add_f32 if fast else K.interp_add_generic_f32
            kern(xr, self.x_base, self.scale, self.mark.a, self.mark.base, self.hp2, self.u2, self.d2, self.c,
                 self.n_out, count, out, o, self._itmp, self._itmp2)
        self.n_out = target
        # 4. history still needed (a copy: the caller may reuse its chunk buffer)
        keep_x = min(self.n_out, (self.n_int * self.d1 + self.c) // self.u1 - self.hp1.shape[1] + 1)
        keep_x = max(keep_x, self.x_base)
        self.xr = xr[keep_x - self.x_base:] if src is not None else xr[keep_x - self.x_base:].copy()
        self.x_base = keep_x
        self.sig.lo = max(self.sig.base, self.g_next * GF * K.H)
        keep_m = (self.n_out * self.d2 + self.c) // self.u2 - self.hp2.shape[1] + 1
        self.mark.lo = max(self.mark.base, min(keep_m, final_int))
        return out, count

    def flush(self, out: np.ndarray | None = None, o: int = 0):
        self.limit = self.n_in
        return self.process(np.zeros((self.flush_pad(), self.C), self.dtype), out, o)


_CODED = BoundedCache(256)  # payload -> coded bits (read-only)


def _coded_bits(payload: int) -> np.ndarray:
    def encode():
        bits = np.asarray(_payload_code().encode(payload), dtype=np.int64)
        bits.flags.writeable = False
        return bits

    return _CODED.get_or_build(payload, encode)


# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------
class AudioWatermarker:
    """Streaming audio watermarker: ``process(chunk)`` returns marked audio, ``flush()`` the rest.

    Chunks may have any length (including 0) and must all have the dtype of the first chunk
    (float32 or int16) and shape (n,) or (n, channels). The output is delayed by a constant
    ``latency`` samples (about 0.16 s at every supported rate: two 32 ms analysis hops, a 64 ms
    frame, plus the resampling filters): after ``process`` has received T samples in total it has
    returned exactly max(0, T - latency). ``flush()`` returns the remaining samples. The
    concatenated output is bit-identical to ``watermark_audio`` of the concatenated input.
    """

    def __init__(self, key: Key, payload: int, sample_rate: int, channels: int = 1):
        _check_key(key)
        payload = _checks.check_payload(payload)
        fs = _check_rate(sample_rate)
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or not 1 <= channels <= 8:
            raise InvalidArgumentError(f"channels: expected an int in [1, 8], got {channels!r}")
        bits = _coded_bits(payload)
        self._engine = _Engine(_layout(key, len(bits)), bits, fs, int(channels))
        self.sample_rate = fs
        self.channels = int(channels)
        self.latency = self._engine.latency
        self._like = None
        self._done = False

    def _take(self, chunk):
        rebuild = None
        if not isinstance(chunk, np.ndarray) and type(chunk).__name__ == "AudioFrame":
            chunk, rate, rebuild = _from_av(chunk)
            if rate != self.sample_rate:
                raise InvalidArgumentError(f"chunk: sample rate {rate} != {self.sample_rate}")
        arr = _checks.check_array(chunk, "chunk", dtypes=(np.float32, np.int16), ndims=(1, 2))
        ch = 1 if arr.ndim == 1 else arr.shape[1]
        if ch != self.channels:
            raise InvalidArgumentError(f"chunk: expected {self.channels} channel(s), got shape {arr.shape}")
        if self._like is None:
            self._like = arr[:0]
        elif arr.dtype != self._like.dtype or arr.ndim != self._like.ndim:
            raise InvalidTypeError(f"chunk: expected {self._like.dtype} {self._like.ndim}-D like the first chunk, "
                                   f"got {arr.dtype} {arr.ndim}-D")
        if not _all_finite(arr):
            raise InvalidArgumentError("chunk: contains NaN or infinite samples")
        return arr, rebuild

    def process(self, chunk):
        """Mark one chunk; returns the marked samples that are ready (same dtype, fewer rows)."""
        if self._done:
            raise InvalidArgumentError("process: the watermarker was flushed; create a new one")
        arr, rebuild = self._take(chunk)
        if self._engine.n_in == 0:
            self._engine.set_dtype(arr.dtype)
        out, _ = self._engine.process(_raw2d(arr))
        out = out.reshape((-1,) + self._like.shape[1:])
        return rebuild(out) if rebuild is not None else out

    def flush(self):
        """Return the last ``latency`` samples (marked). The watermarker cannot be used afterwards."""
        if self._done:
            raise InvalidArgumentError("flush: already flushed")
        self._done = True
        like = self._like if self._like is not None else np.zeros((0,) if self.channels == 1 else (0, self.channels),
                                                                 np.float32)
        out, _ = self._engine.flush()
        return out.reshape((-1,) + like.shape[1:])


def watermark_audio(samples, sample_rate: int | None = None, *, key: Key, payload: int):
    """Embed ``payload`` (64-bit int) under ``key``; returns audio of the same shape and dtype.

    ``samples``: float32 (full scale +/-1) or int16, shape (n,) or (n, channels); or an
    ``av.AudioFrame`` (s16/s16p/flt/fltp), in which case a new AudioFrame is returned.
    """
    _check_key(key)
    payload = _checks.check_payload(payload)
    rebuild = None
    if not isinstance(samples, np.ndarray) and type(samples).__name__ == "AudioFrame":
        samples, rate, rebuild = _from_av(samples)
        sample_rate = rate if sample_rate is None else sample_rate
    fs = _check_rate(sample_rate)
    arr = _check_samples(samples)
    if arr.shape[0] < K.N * fs // FS_INT:
        raise FrameTooSmallError(f"samples: need at least {K.N * fs // FS_INT} samples (64 ms) to carry a mark, "
                                 f"got {arr.shape[0]}")
    bits = _coded_bits(payload)
    ch = 1 if arr.ndim == 1 else arr.shape[1]
    n = arr.shape[0]
    eng = _Engine(_layout(key, len(bits)), bits, fs, ch, arr.dtype, expected=min(n, ONESHOT_BLOCK))
    # the streaming engine (its output does not depend on the chunking) fed in blocks read in place,
    # writing into one output array: the working buffers stay cache-sized whatever the length
    out = np.empty((n, ch), arr.dtype)
    raw = np.ascontiguousarray(_raw2d(arr))
    k = 0
    for i in range(0, n, ONESHOT_BLOCK):
        k += eng.process(raw[i: i + ONESHOT_BLOCK], out, k, src=raw)[1]
    eng.flush(out, k)
    out = out.reshape(arr.shape)
    return rebuild(out) if rebuild is not None else out


# ------------------------------------------------------------------------------------------------
# detection
# ------------------------------------------------------------------------------------------------
def _to_internal(arr: np.ndarray, fs: int) -> np.ndarray:
    """Channel mean at 16 kHz, with the embedder's resampling filter."""
    if arr.ndim == 2:  # the same sum and division as arr.mean(axis=1, dtype=float64), one pass
        x = np.empty(arr.shape[0])
        K.channel_mean(arr, x)
    else:
        x = arr.astype(np.float64)
    if arr.dtype == np.int16:
        x *= 1.0 / 32768.0
    up, down, h = _filter(fs)
    if up == down == 1:
        return x
    from scipy.signal import resample_poly

    return resample_poly(x, up, down, window=h)


def _logE_at(x: np.ndarray, start: int, step: int, count: int, warp: float = 1.0) -> np.ndarray:
    """Log tile energies of the frames starting at start + round(i*step*warp), i < count (in cache-sized
    batches of _LOGE_BATCH frames: each frame's FFT and energies do not depend on the batching)."""
    out = np.empty((count, K.N_BANDS))
    frames = np.empty((min(count, _LOGE_BATCH), K.N))
    for i in range(0, count, _LOGE_BATCH):
        fr = frames[: min(_LOGE_BATCH, count - i)]
        if warp == 1.0:
            K.frames_windowed(x, start + i * step, step, _WINDOW, fr)
        else:
            K.frames_warped(x, start, i, step * warp, _WINDOW, fr)
        K.band_logE(scipy.fft.rfft(fr, axis=1, workers=1), out[i: i + fr.shape[0]])
    return out


_LOGE_BATCH = 256


def _floor_logE(x: np.ndarray) -> float:
    return K.SILENT + 1.0


NF_PERCENTILE = 10.0  # noise floor of a band = this percentile of its log energy over the window
NF_WEIGHT = 3.0  # soft value *= exp(-NF_WEIGHT * mean_q(noise_floor / E_q)) over the projection's tiles
LEVEL_PERCENTILE = 90.0  # reference frame level of a window: this percentile of its frame levels
LEVEL_KNEE = 3.0  # frames this far (natural log of energy, ~13 dB) below the reference get half weight
LEVEL_SLOPE = 1.0


def _noise_floor(logE: np.ndarray):
    """(per-band log noise floor, reference frame level) of a window. The noise floor of a band is
    a low percentile of its log energy over the non-silent frames (additive noise and codec noise
    fill the quiet frames); the reference level a high percentile of the frames' log mean band energy."""
    live = logE[:, 0] > K.SILENT + 1.0
    if live.sum() < 4:
        return np.full(K.N_BANDS, -50.0), 0.0
    return (np.percentile(logE[live], NF_PERCENTILE, axis=0),
            float(np.percentile(_frame_level(logE[live]), LEVEL_PERCENTILE)))


def _frame_level(logE: np.ndarray) -> np.ndarray:
    """Log mean band energy of each frame (floored log energies; silent frames stay very low)."""
    m = logE.max(axis=1)
    return m + np.log(np.mean(np.exp(logE - m[:, None]), axis=1))


def _weights(logE: np.ndarray, floors) -> np.ndarray:
    """Per-tile terms of the soft-value weights, exp(-NF_WEIGHT * mean over a projection's tiles):
    the noise-to-energy ratio exp(noise floor - logE), plus a per-frame term that gives frames well
    below the window's reference level little weight (measured: through codecs and added noise
    their soft values carry almost nothing): weight factor 1 / (1 + exp(-(level - ref + KNEE) / SLOPE))."""
    nf, ref = floors
    wt = np.exp(np.minimum(nf[None, :] - logE, 50.0))
    rel = np.maximum(_frame_level(logE) - ref, -200.0)
    wt += (np.logaddexp(0.0, -(rel + LEVEL_KNEE) / LEVEL_SLOPE) / NF_WEIGHT)[:, None]
    return wt


def _frame_count(span: int, hop: int, warp: float) -> int:
    """Frames of a hop (stretched by warp) whose N samples fit in span samples."""
    if span < 0:
        return 0
    return span // hop + 1 if warp == 1.0 else int(span / (hop * warp)) + 1


def _search(x: np.ndarray, lay: _Layout, warp: float = 1.0):
    """Best (search score, phase, k, fine logE, its weights) over frame phases and period positions:
    every period position at a coarse phase step, then a coarse-to-fine phase refinement
    (+/-32, +/-16, +/-8 samples) around the best, with the neighbouring period positions. warp != 1:
    the frames are read every warp * H samples (a tempo change: time scaled, spectrum kept)."""
    L = len(x)
    floor = _floor_logE(x)
    PF = lay.period_frames
    num = np.empty(PF)
    den = np.empty(PF)
    all_k = np.arange(PF, dtype=np.int64)
    best = (-np.inf, 0, 0)
    rows_per_hop = K.H // COARSE_STEP
    n_starts = _frame_count(L - K.N, COARSE_STEP, warp)
    logE = _logE_at(x, 0, COARSE_STEP, n_starts, warp)
    nf = _noise_floor(logE)
    wt = _weights(logE, nf)
    for i in range(rows_per_hop):
        nfr = (n_starts - 1 - i) // rows_per_hop + 1
        K.sync_scores(logE, wt, i, rows_per_hop, nfr, GF, NP, lay.tile_of, lay.usign, lay.dither, lay.search_j,
                      lay.search_s, lay.sync_sign, STEP, floor, NF_WEIGHT, all_k, num, den)
        sc = num / np.sqrt(np.maximum(den, 1e-12))
        k = int(np.argmax(sc))
        if sc[k] > best[0]:
            best = (sc[k], i * COARSE_STEP, k)
    _, phase0, k0 = best

    def score(d):
        ph, kk = phase0 + d, k0
        if ph < 0:
            ph, kk = ph + K.H, (k0 + 1) % PF
        elif ph >= K.H:
            ph, kk = ph - K.H, (k0 - 1) % PF
        nfr = _frame_count(L - K.N - ph, K.H, warp)
        if nfr < GF:
            return (-np.inf, ph, kk, None, None)
        lg = _logE_at(x, ph, K.H, nfr, warp)
        w = _weights(lg, nf)
        ks = np.array([(kk + o) % PF for o in (-1, 0, 1)], dtype=np.int64)
        K.sync_scores(lg, w, 0, 1, nfr, GF, NP, lay.tile_of, lay.usign, lay.dither, lay.search_j, lay.search_s,
                      lay.sync_sign, STEP, floor, NF_WEIGHT, ks, num, den)
        sc = num[:3] / np.sqrt(np.maximum(den[:3], 1e-12))
        j = int(np.argmax(sc))
        return (sc[j], ph, int(ks[j]), lg, w)

    best = score(0)
    best_d = 0
    step = COARSE_STEP // 2
    while step >= FINE_STEP:
        d0 = best_d
        for d in (d0 - step, d0 + step):
            cand = score(d)
            if cand[0] > best[0]:
                best, best_d = cand, d
        step //= 2
    return best


def _decode_at(lay: _Layout, k: int, logE: np.ndarray, wt: np.ndarray, floor: float):
    nfr = logE.shape[0]
    acc = np.zeros(lay.n_coded)
    cnt = np.zeros(lay.n_coded, np.int64)
    sync_x = np.zeros(len(lay.sync_sign))
    K.soft_projections(logE, wt, nfr, k, GF, NP, lay.tile_of, lay.usign, lay.dither, lay.role, STEP,
                       floor, NF_WEIGHT, lay.n_coded, len(sync_x), acc, cnt, sync_x)
    t = lay.sync_test
    den = float(np.sum(sync_x[t] ** 2))
    z = float(np.sum(sync_x[t] * lay.sync_sign[t]) / math.sqrt(den)) if den > 0 else 0.0
    return z, acc, cnt


def detect_audio(samples, sample_rate: int | None = None, *, key: Key,
                 threshold: float = DEFAULT_THRESHOLD, search_speed: bool = True) -> Detection:
    """Look for ``key``'s watermark in any excerpt (any start offset) of marked audio.

    Returns Detection(found, payload, false_alarm, score, details) with details
    ``offset_seconds`` (where the first whole analysis frame of the pattern starts in the excerpt,
    modulo the period), ``speed`` (replay speed: time and pitch), ``tempo`` (time only, pitch kept),
    ``z``, ``coverage`` (share of coded bits seen) and ``list_rank``
    (None without a payload; else the rank of the accepted path in the decoder's list, 0 = the
    Viterbi path).
    """
    _check_key(key)
    if not isinstance(samples, np.ndarray) and type(samples).__name__ == "AudioFrame":
        samples, rate, _ = _from_av(samples)
        sample_rate = rate if sample_rate is None else sample_rate
    fs = _check_rate(sample_rate)
    arr = _check_samples(samples)
    if not (isinstance(threshold, float) and 0.0 < threshold < 1.0):
        raise InvalidArgumentError(f"threshold: expected a float in (0, 1), got {threshold!r}")
    if arr.shape[0] < MIN_DETECT_SECONDS * fs:
        raise FrameTooSmallError(f"samples: need at least {MIN_DETECT_SECONDS:g} s to detect a mark, "
                                 f"got {arr.shape[0] / fs:.3f} s")
    code = _payload_code()
    lay = _layout(key, code.coded_bits)
    x0 = _to_internal(arr, fs)
    # hypotheses (kind, factor): "speed" resamples (replay speed: time and pitch scaled), "tempo" reads
    # the frames every factor * H samples (a pitch-keeping tempo change, e.g. atempo: time scaled only)
    hyps = [("speed", 1.0)]
    if search_speed:
        for f in SPEEDS:
            hyps += [("speed", f), ("tempo", 1.0 / f)]

    def attempt(hyp):
        kind, f = hyp
        if kind == "tempo":
            x, warp = x0, f
        elif f == 1.0:
            x, warp = x0, 1.0
        else:
            fr = Fraction(f).limit_denominator(800)
            from scipy.signal import resample_poly

            x, warp = resample_poly(x0, fr.numerator, fr.denominator), 1.0
        _, phase, k, lg, wt = _search(x, lay, warp)
        if lg is None:
            return (0.0, hyp, phase, k, np.zeros(lay.n_coded), np.zeros(lay.n_coded, np.int64))
        z, acc, cnt = _decode_at(lay, k, lg, wt, _floor_logE(x))
        return (z, hyp, phase, k, acc, cnt)

    def dev(hyp):  # deviation from normal play
        return hyp[1] - 1.0 if hyp[0] == "speed" else 1.0 / hyp[1] - 1.0

    def at(kind, d):
        return (kind, 1.0 + d) if kind == "speed" else (kind, 1.0 / (1.0 + d))

    cands = []
    for hyp in hyps:
        cands.append(attempt(hyp))
        if ndtr(-cands[-1][0]) * len(cands) < threshold:
            if hyp[1] != 1.0:
                # found on the grid (detectable up to ~0.5% off): climb outwards while the score
                # improves, then try half a grid step either side of the best
                best = cands[-1]
                kind = hyp[0]
                step = SPEED_STEP if dev(hyp) > 0.0 else -SPEED_STEP
                while abs(dev(best[1]) + step) <= MAX_SPEED_DEV:
                    nxt = attempt(at(kind, dev(best[1]) + step))
                    cands.append(nxt)
                    if nxt[0] <= best[0]:
                        break
                    best = nxt
                cands += [attempt(at(kind, dev(best[1]) - SPEED_STEP / 2)),
                          attempt(at(kind, dev(best[1]) + SPEED_STEP / 2))]
            break
    n_tried = len(cands)  # every hypothesis tried counts (Bonferroni)
    cands.sort(key=lambda c: -c[0])
    z, hyp, phase, k, acc, cnt = cands[0]
    fa = min(1.0, float(ndtr(-z)) * n_tried)
    payload = None
    score = 0.0
    coverage = float(np.mean(cnt > 0))
    n_checks = 0  # CRC checks made (every listed path is one): the CRC false-pass union bound
    list_rank = None
    for c in cands[:3]:  # the payload from the best-scoring hypotheses whose CRC checks
        if float(np.mean(c[5] > 0)) <= 0.5 or c[0] <= 0.0:
            continue
        # walk the list only where the sync test already points to a mark: unmarked audio stays fast
        max_list = LIST_SIZE if c[0] >= LIST_MIN_Z else 1
        crc_ok, value, sc, rank = code.decode_list(c[4].astype(np.float32), max_list)
        n_checks += rank + 1 if crc_ok else max_list
        if crc_ok:
            z, hyp, phase, k, acc, cnt = c
            payload, score, list_rank = int(value), sc, rank
            coverage = float(np.mean(cnt > 0))
            fa_crc = min(1.0, 2.0 ** -32 * max(n_tried, n_checks))
            fa = min(1.0, 2.0 * min(fa, fa_crc))
            break
    found = fa < threshold
    # where, in the excerpt, period frame 0 starts (first occurrence at or after the excerpt start)
    start_frame = (-k) % lay.period_frames
    if hyp[0] == "speed":
        speed, tempo = hyp[1], 1.0
        offset = (phase + start_frame * K.H) / FS_INT / speed
    else:
        speed, tempo = 1.0, 1.0 / hyp[1]
        offset = (phase + round(start_frame * K.H * hyp[1])) / FS_INT
    return Detection(found=found, payload=payload if found else None, false_alarm=fa, score=float(score),
                     details={"offset_seconds": offset, "speed": speed, "tempo": tempo, "z": z, "coverage": coverage,
                              "list_rank": list_rank if found else None})
