"""Keyed, blind video and image watermark (64-bit payload), DCT domain, on luma.

Layout. A tile of 128 x 128 canonical pixels holds 16 x 16 blocks of 8 x 8; ten low-to-mid frequency
DCT coefficients per block carry 2816 chips. A keyed permutation gives every chip a role: 5/8 carry
the coded payload (CRC-32 + K=15 rate-1/4 convolutional code, soft Viterbi in the C++ core), 3/16
are sync chips used to search for scale and position ("search" set), and 3/16 are held-out sync
chips used only for the final presence test ("test" set). Signs come from keyed streams.

Geometry. The tile repeats over the whole frame from its top-left corner, with one canonical pixel =
min(H, W) / 360 frame pixels (at least 1): a frame rescaled as a whole keeps the same canonical grid,
so the detector reads the scale from the frame size; crops are found from the tile period
(autocorrelation) and the tile phase (FFT correlation with the search chips).

Embedding. The pattern (inverse DCT of the chips, tiled and resampled to the frame) is computed once
per key, payload and frame size; per frame only a perceptual mask (block activity) scales it before it
is added to luma in place. The pattern is static, so nothing flickers.

Detection. Frames are summed (any number, any order, any frame rate: drops and rate changes do not
matter). Once per clip: resample to the canonical grid, whiten, fold onto one tile, find the phase,
read chips by forward DCT, decode. The presence statistic is the held-out chips' normalised
correlation z = sum(x_i s_i) / sqrt(sum x_i^2): with keyed random signs s_i independent of the search,
under "no mark of this key" it is a Rademacher sum (mean 0, variance 1), so
``false_alarm = P(N(0,1) >= z)`` is calibrated whatever the content.
After a high-CRF encode the mark survives mostly in intra-coded frames; when the mean of all frames
does not give the payload, frames are re-weighted by their own sync evidence, and the intra frames the
decoder reports (av.VideoFrame.key_frame / pict_type I, or ``keyframe=`` for arrays) are read on their
own; each extra held-out test counts in the union bound of ``false_alarm``.

List decoding. Where every plain Viterbi decode fails its CRC but the held-out test already says a mark
is likely there (z_test >= LIST_MIN_Z), the payload decoder walks the code's next most likely paths in exact
decreasing-correlation order and takes the first whose CRC-32 checks (``PayloadCode.decode_list``, up to
LIST_SIZE paths; on BPSK/AWGN this moves the code's 90 % exact-payload point by 0.84 dB at L = 1024).
Unmarked content reaches that gate with probability ~1e-3 per mean, as it reaches any decode today, so it
costs (almost) no list walks. Every CRC check counts: a wrong word passes one with probability ~2^-32, so
the CRC part of ``false_alarm`` is 2^-32 x (all CRC checks made: one per decode(), rank or LIST_SIZE - 1
more per list walk). The same count bounds the chance that a marked clip gets a wrong payload: at most
2^-32 x crc_checks (~2.4e-7 for one fruitless walk). ``details`` reports ``list_rank`` (the accepted
path's rank in the list, 0 = decode()'s own path, None without a payload, as detect_audio does),
``list_walks`` and ``crc_checks``. LIST_SIZE = 1024 because two walks of 4096 paths would put a
CRC-only detection's bound (8192 x 2^-32 = 1.9e-6) above the default 1e-6 threshold; on four hard 1080p
grass clips (bench/results/robustness_video_list.md) 4096 gave one more payload, at rank 4082.
Measured, paired on the same attacked 1080p clips: nothing changes at strength 1.0 (no walk); at 0.85,
x264 CRF 35 gives 20/20 exact payloads instead of 19/20; most misses left are sync misses (z < 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy import fft as sfft
from scipy import ndimage
from scipy.special import ndtr

from .. import _core
from .._cache import BoundedCache
from .._checks import check_iterable, check_payload, check_probability
from ..detection import Detection
from ..errors import FrameTooSmallError, InvalidArgumentError, InvalidTypeError
from ..keys import Key, cache_tag
from . import _dct_kernels as dk
from . import _video_kernels as vk
from ._frames import PixelView, pixel_view

# min(H, W) / CANONICAL_SIDE frame pixels per canonical pixel: 3 at 1080p, so the carriers (1/16 to 3/16
# cycles per canonical pixel) stay below what H.264 removes even after a downscale to 480p.
CANONICAL_SIDE = 360.0
# Frames with fewer than 2 x CANONICAL_SIDE lines are marked at a lower spatial frequency than their size
# gives: up to MIN_EMBED_SCALE frame px per canonical px, as long as TILES_ON_SHORT_SIDE tiles still fit
# on the short side (and never under 1). 640x360 gets 2.0 instead of 1.0 (the encoder spends far fewer
# bits on the mark: x264 CRF 18 output 2.5x -> 2.0x the unmarked size on three clips), 320x240 keeps a
# readable 1.34 (a 256-px tile would not fit its 240 lines).
MIN_EMBED_SCALE = 2.0
TILES_ON_SHORT_SIDE = 1.4
MIN_FRAME_SIDE = 96  # smaller frames cannot hold enough of a tile to be read back
DEFAULT_FALSE_ALARM = 1e-6  # detection threshold on the calibrated false-alarm probability
# Search statistics (max over positions and scales, not calibrated; they only steer the search): above
# STRONG the frame-size scale is taken as right; above PROMISING the scale is refined.
STRONG_SEARCH_Z = 8.0
# Below 0.4 frame px per canonical px the carriers pass Nyquist: such a frame cannot hold a readable mark.
MIN_SCALE = 0.4
PROMISING_SEARCH_Z = 5.0
# CRC-aided list decoding (see the module docstring): at most LIST_SIZE paths per walk (1 = decode() only),
# walked only where every decode() failed and z_test >= LIST_MIN_Z (P(N(0,1) >= 3.09) = 1e-3 on unmarked
# content, the gate any decode of a plain mean already has), at most twice per mean (_detect_mean).
LIST_SIZE = 1024
LIST_MIN_Z = 3.09
N_DATA = dk.CHIPS_PER_TILE * 5 // 8
N_SEARCH = dk.CHIPS_PER_TILE * 3 // 16
N_TEST = dk.CHIPS_PER_TILE - N_DATA - N_SEARCH
# Mask: gain in luma levels = clamp(FLOOR + SLOPE * mean |gradient|, FLOOR, CEIL) x strength.
MASK_FLOOR = 1.0
MASK_SLOPE = 0.70
MASK_CEIL = 5.0
# Budget on the added RMS per frame (luma levels): 1.95 gives PSNR ~42.3 dB with rounding, whatever the
# texture (target >= 42 dB; 1.8 gave ~42.9 dB).
MAX_RMS = 1.95
# Gaussian low-pass (sigma, canonical pixels) of the tile before it is rendered; 0 (the default) disables
# it. An experiment knob (bench/robustness_video.py --blur, bench/pframe_cost.py --blurs): the jumps
# between neighbouring 8 x 8 blocks put a quarter of the pattern's energy above the carrier band, and a
# static pattern under moving content costs the encoder more the higher its frequency. Measured
# (2026-11-23): sigma 0.9 cuts label_file's output on the built-in sample by 12% but only 1% on a photo
# pan, and after label_file's CRF 18 encode + 480p/CRF 28 one photo clip of ten lost its payload
# (z 3.6-15.5 vs 4.2-16.9 without); sigma 1.2 lost payloads even without the CRF 18 step. Not worth it.
PATTERN_BLUR = 0.0

_PAYLOAD_CODE = _core.PayloadCode(64, 32, 15, 4)
_BASIS = dk.dct_basis()


def _check_key(key) -> Key:
    if not isinstance(key, Key):
        raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
    return key


def embed_scale(height: int, width: int) -> float:
    """Frame pixels per canonical pixel used when embedding into a height x width frame."""
    short = min(height, width)
    return max(short / CANONICAL_SIDE, 1.0, min(MIN_EMBED_SCALE, short / (TILES_ON_SHORT_SIDE * dk.TILE)))


class _Layout:
    """The keyed chip layout of one key (roles, signs, sync templates). Immutable, shared by threads."""

    _cache = BoundedCache(32)  # cache_tag(key) -> _Layout

    def __init__(self, key: Key):
        streams = _core.KeyedStreams(key.secret_bytes())
        perm = streams.permutation("video/v1/chip-roles", dk.CHIPS_PER_TILE).astype(np.int64)
        self.data_pos = perm[:N_DATA]
        self.search_pos = perm[N_DATA : N_DATA + N_SEARCH]
        self.test_pos = perm[N_DATA + N_SEARCH :]
        signs = np.empty(dk.CHIPS_PER_TILE, dtype=np.float32)
        streams.fill_signs("video/v1/chip-signs", signs)
        self.signs = signs.astype(np.float64)
        self.coded_index = np.arange(N_DATA) % _PAYLOAD_CODE.coded_bits
        search_chips = np.zeros(dk.CHIPS_PER_TILE)
        search_chips[self.search_pos] = self.signs[self.search_pos]
        template = np.empty((dk.TILE, dk.TILE))
        dk.synthesize_tile(search_chips, _BASIS, template)
        self.search_template_fft = np.conj(sfft.rfft2(template))

    @classmethod
    def for_key(cls, key: Key) -> "_Layout":
        return cls._cache.get_or_build(cache_tag(key), lambda: cls(key))  # not key.id: see cache_tag

    def chips(self, payload: int) -> np.ndarray:
        coded = _PAYLOAD_CODE.encode(payload).astype(np.float64) * 2.0 - 1.0
        chips = self.signs.copy()  # sync chips are their signs
        chips[self.data_pos] = self.signs[self.data_pos] * coded[self.coded_index]
        return chips

    def tile(self, payload: int) -> np.ndarray:
        tile = np.empty((dk.TILE, dk.TILE))
        dk.synthesize_tile(self.chips(payload), _BASIS, tile)
        if PATTERN_BLUR > 0:  # periodic: the tile repeats over the frame
            f = sfft.fftfreq(dk.TILE)
            gain = np.exp(-2.0 * np.pi**2 * PATTERN_BLUR**2 * (f[:, None] ** 2 + f[None, : dk.TILE // 2 + 1] ** 2))
            tile = sfft.irfft2(sfft.rfft2(tile) * gain, s=tile.shape)
        tile /= np.sqrt(np.mean(tile**2))  # unit RMS: the mask gain is the added RMS in luma levels
        return tile


class VideoWatermarker:
    """Embeds one key's watermark with one payload into frames, in place.

    ``embed(frame)`` accepts an H x W uint8 luma plane, an H x W x 3/4 uint8 RGB/BGR/RGBA array
    (``pixel_format`` says which; default RGB), or an ``av.VideoFrame`` (yuv420p, nv12, ... work on
    the Y plane; rgb24/bgr24 on the packed plane), with any row padding, without copying. Thread-safe:
    one instance may mark several streams from several threads (the GIL is released in the kernel).
    """

    def __init__(self, key: Key, payload: int, *, strength: float = 1.0):
        self.key_id = _check_key(key).id
        self.payload = check_payload(payload)
        if not (isinstance(strength, (int, float)) and 0.0 < float(strength) <= 4.0):
            raise InvalidArgumentError(f"strength: expected a number in (0, 4], got {strength!r}")
        self.strength = float(strength)
        self._key_tag = cache_tag(key)  # shared-pattern cache key (never shown: not in repr)
        self._tile = _Layout.for_key(key).tile(self.payload)
        self._blur = PATTERN_BLUR  # the tile's low-pass (benches change the module value between markers)
        self._patterns: dict = {}

    # Rendered patterns shared by the instances of one process (label_file makes a new marker per
    # file; rendering costs ~6 ms at 640x360, ~50 ms at 1080p): (cache_tag(key), payload, blur, scale, height,
    # width, channels) -> pattern (never written to). A few entries: a service rarely uses many keys and sizes at once.
    _shared = BoundedCache(4)

    def _pattern(self, height: int, width: int, channels: int) -> np.ndarray:
        """The rendered pattern for this frame size, one int8 per byte of a row (colour bytes repeat it)."""
        pattern = self._patterns.get((height, width, channels))
        if pattern is None:
            shared_key = (self._key_tag, self.payload, self._blur, embed_scale(height, width), height, width, channels)
            pattern = VideoWatermarker._shared.get_or_build(shared_key, lambda: self._render(height, width, channels))
            if len(self._patterns) >= 8:  # a stream rarely changes size; bound the memory
                self._patterns.clear()
            self._patterns[(height, width, channels)] = pattern
        return pattern

    def _render(self, height: int, width: int, channels: int) -> np.ndarray:
        pattern = np.empty(height * width, dtype=np.int8)
        f = embed_scale(height, width)
        vk.render_pattern(self._tile, f, f, height, width, pattern)
        # Resampling smooths the tile: rescale so the rendered pattern has unit RMS (the mask
        # gains and the RMS budget are then the real added RMS in luma levels).
        rms = float(np.sqrt(np.mean(np.square(pattern, dtype=np.float32)))) / vk.PATTERN_SCALE
        if rms > 0:
            vk.render_pattern(self._tile / rms, f, f, height, width, pattern)
        if channels > 1:  # packed pixels: R, G, B get the delta, a fourth (alpha) byte none
            packed = np.zeros((height * width, channels), dtype=np.int8)
            packed[:, :3] = pattern[:, None]
            pattern = packed.reshape(-1)
        return pattern

    def embed(self, frame, *, pixel_format: str | None = None):
        """Mark ``frame`` in place and return it."""
        view = pixel_view(frame, pixel_format=pixel_format, writable=True)
        if min(view.height, view.width) < MIN_FRAME_SIDE:
            raise FrameTooSmallError(
                f"frame: {view.width}x{view.height} is too small to carry the watermark (minimum side {MIN_FRAME_SIDE} px)"
            )
        vk.embed_plane(
            view.flat, view.height, view.width, view.stride, view.channels,
            self._pattern(view.height, view.width, view.channels), MASK_FLOOR, MASK_SLOPE, MASK_CEIL, self.strength,
            MAX_RMS * self.strength,
        )
        return frame

    def __repr__(self) -> str:
        return f"VideoWatermarker(key_id={self.key_id!r}, payload=0x{self.payload:016x}, strength={self.strength})"


# Frames kept one by one (binned, uint16 fixed point) for the re-weighting fallback: 30 MB at 1080p (binned
# to 640x360), 52 MB at 854x480. Beyond MAX_SLOTS frames, neighbouring slots merge (2, 4, ... frames each).
MAX_SLOTS = 64
# A payload whose CRC-32 verifies is a detection too: unmarked content passes one CRC check with
# probability ~2^-32 (the decoded word of noise is a random word), far below any sane threshold. Each
# decode() is one check, a list walk up to LIST_SIZE more: the bound multiplies by all checks made.
CRC_FALSE_ALARM = 2.0**-32


@dataclass
class _Accumulator:
    """Frames of one size, binned by ``k`` (about one canonical pixel per binned pixel): their sum, and
    the frames themselves in slots (slot i = mean of counts[i] <= seg consecutive frames; at most
    MAX_SLOTS, in one preallocated uint16 pool: one large allocation gets huge pages, and a fresh
    0.5 MB array per frame cost ~0.5 ms in page faults)."""

    total: np.ndarray
    k: int
    line: np.ndarray
    frames: int = 0
    seg: int = 1
    pool: np.ndarray | None = None
    counts: list = field(default_factory=list)
    intra: np.ndarray | None = None  # sum of the intra-coded frames (decoder-reported), binned like total
    intra_frames: int = 0
    scratch: np.ndarray | None = None

    def next_slot(self) -> tuple[np.ndarray, int]:
        """The slot the next frame goes into, and how many frames it already holds."""
        if self.pool is None:
            self.pool = np.empty((MAX_SLOTS,) + self.total.shape, np.uint16)
        if self.counts and self.counts[-1] < self.seg:
            return self.pool[len(self.counts) - 1], self.counts[-1]
        if len(self.counts) == MAX_SLOTS:  # merge neighbours in place: twice the frames per slot from now on
            counts = []
            for j in range(MAX_SLOTS // 2):
                a, b = self.counts[2 * j], self.counts[2 * j + 1]
                mean = (self.pool[2 * j].astype(np.float32) * np.float32(a)
                        + self.pool[2 * j + 1].astype(np.float32) * np.float32(b)) / np.float32(a + b)
                self.pool[j] = np.round(mean)
                counts.append(a + b)
            self.counts, self.seg = counts, self.seg * 2
            if self.counts[-1] < self.seg:
                return self.pool[len(self.counts) - 1], self.counts[-1]
        self.counts.append(0)  # the kernel overwrites a slot that holds no frame yet
        return self.pool[len(self.counts) - 1], 0

    def add_intra(self, view: PixelView) -> None:
        """Also sum an intra-coded frame on its own: after a high-CRF encode the mark lives mostly in
        them, and a long clip's mean (or its merged slots) dilutes the few there are."""
        if self.intra is None:
            self.intra = np.zeros_like(self.total)
            self.scratch = np.empty(self.total.shape, np.uint16)
        w0, w1, w2 = view.weights
        vk.bin_luma(view.flat, view.height, view.width, view.stride, view.channels, w0, w1, w2, self.k,
                    self.intra, self.scratch, 0, self.line)
        self.intra_frames += 1

    def slot_means(self) -> list[np.ndarray]:
        return [self.pool[i].astype(np.float32) / np.float32(vk.SLOT_SCALE) for i in range(len(self.counts))]


class VideoDetector:
    """Accumulates frames of one stream (or stills of one size) and reads the watermark of one key.

    ``add(frame)`` costs one pass over the frame; ``result()`` does the search once over everything
    added so far (call it as often as you like). Frames may come at any rate, with drops, in any order.
    """

    def __init__(self, key: Key, *, false_alarm_threshold: float = DEFAULT_FALSE_ALARM):
        self._layout = _Layout.for_key(_check_key(key))
        self.key_id = key.id
        self.false_alarm_threshold = check_probability(false_alarm_threshold, "false_alarm_threshold")
        self._groups: dict[tuple[int, int], _Accumulator] = {}

    def add(self, frame, *, pixel_format: str | None = None, keyframe: bool | None = None) -> None:
        """keyframe: whether the frame was intra-coded; by default what the decoder says for an
        av.VideoFrame, False for arrays."""
        view = pixel_view(frame, pixel_format=pixel_format, writable=False)
        if keyframe is None:
            keyframe = _decoded_as_intra(frame)
        if min(view.height, view.width) < MIN_FRAME_SIDE:
            raise FrameTooSmallError(
                f"frame: {view.width}x{view.height} is too small to read the watermark (minimum side {MIN_FRAME_SIDE} px)"
            )
        group = self._groups.get((view.height, view.width))
        if group is None:
            # Bin large frames to about the canonical size: the carriers live well below the binned
            # Nyquist, and everything after this pass gets k^2 times cheaper.
            k = max(1, int(min(view.height, view.width) / CANONICAL_SIDE))
            group = _Accumulator(np.zeros((view.height // k, view.width // k), np.float32), k,
                                 np.empty(2 * view.width, np.float32))
            self._groups[(view.height, view.width)] = group
        slot, held = group.next_slot()
        w0, w1, w2 = view.weights
        vk.bin_luma(view.flat, view.height, view.width, view.stride, view.channels, w0, w1, w2, group.k,
                    group.total, slot, held, group.line)
        group.counts[-1] += 1
        group.frames += 1
        if keyframe:
            group.add_intra(view)

    @property
    def frames(self) -> int:
        return sum(g.frames for g in self._groups.values())

    def result(self) -> Detection:
        if not self._groups:
            return Detection(False, None, 1.0, 0.0, {"frames": 0})
        best, tests = None, 0
        counts = dict.fromkeys(_COUNTS, 0)
        for (h, w), group in self._groups.items():
            means = [(group.total / np.float32(group.frames), group.slot_means)]
            if 0 < group.intra_frames < group.frames:
                means.append((group.intra / np.float32(group.intra_frames), None))
            for mean, slots in means:  # the intra frames alone only when all frames did not give the payload
                outcome = _detect_mean(mean, group.k, min(h, w) / CANONICAL_SIDE, _candidate_scales(h, w),
                                       self._layout, slots, LIST_SIZE)
                outcome.update(frames=group.frames, intra_frames=group.intra_frames, intra_only=slots is None)
                tests += 1
                for name in _COUNTS:
                    counts[name] += outcome[name]
                if best is None or (outcome["crc_ok"], outcome["z_test"]) > (best["crc_ok"], best["z_test"]):
                    best = outcome
                if outcome["crc_ok"]:
                    break
        # One held-out test per mean looked at (frame sizes, intra frames): the union bound keeps the
        # probability honest. A verified CRC is evidence too: each CRC check of a wrong word passes with
        # probability ~2^-32, and every check made (decode() calls and every path of every list walk,
        # over all means) enters the bound.
        best.update(counts)
        false_alarm = min(1.0, float(ndtr(-best["z_test"])) * tests)
        if best["crc_ok"]:
            false_alarm = min(false_alarm, CRC_FALSE_ALARM * counts["crc_checks"])
        found = false_alarm < self.false_alarm_threshold
        payload = best["payload"] if (found and best["crc_ok"]) else None
        return Detection(found, payload, false_alarm, float(best["z_test"]), best)


def _decoded_as_intra(frame) -> bool:
    """Whether a decoded av.VideoFrame was intra-coded (PyAV: key_frame, pict_type 1 = I)."""
    if isinstance(frame, np.ndarray):
        return False
    try:
        return bool(frame.key_frame) or int(frame.pict_type) == 1
    except (AttributeError, TypeError, ValueError):
        return False


def _whiten(image: np.ndarray, scale: float) -> np.ndarray:
    """Remove the content's low frequencies and equalise local energy (weights each region by 1/noise).

    Filter sizes follow the expected canonical pixel size (``scale`` frame px): a 3-px box high-pass and
    an 11-px energy window, in canonical pixels. Measured on grass after x264 CRF 35 and 480p + CRF 28
    (the hardest content): +1 to +2 z over the former 5-px double box and 17-px window, and +0.5 to +1
    on the other photographs."""
    s = max(scale, 0.6)
    box = max(3, int(round(3 * s)) | 1)
    residual = image - ndimage.uniform_filter(image, box, mode="reflect")
    local_power = ndimage.uniform_filter(residual * residual, max(5, int(round(11 * s)) | 1), mode="reflect")
    white = residual / np.sqrt(local_power + 0.01)
    if scale > 1.3:  # area pre-filter so the later decimation does not alias texture into the carrier band
        white = ndimage.uniform_filter(white, int(round(scale)), mode="reflect")
    return white


def _coefficient_weights(chips: np.ndarray, layout: _Layout) -> np.ndarray:
    """Per-chip weights mu_c / sigma_c^2 of each carrier coefficient c (matched-filter combining).

    Encoders and scalers remove high carriers first; the search chips (known signs) show how much of
    each survived. Measured on the search set only, so the held-out test stays calibrated."""
    coef_of_chip = np.arange(dk.CHIPS_PER_TILE) % dk.CHIPS_PER_BLOCK
    signed = chips[layout.search_pos] * layout.signs[layout.search_pos]
    coef = coef_of_chip[layout.search_pos]
    weights = np.zeros(dk.CHIPS_PER_BLOCK)
    for c in range(dk.CHIPS_PER_BLOCK):
        x = signed[coef == c]
        var = float(np.var(x)) if x.size > 1 else 0.0
        weights[c] = max(float(np.mean(x)), 0.0) / var if var > 0 else 0.0
    if not np.any(weights > 0):
        weights[:] = 1.0
    return weights[coef_of_chip]


def _z(values: np.ndarray, signs: np.ndarray) -> float:
    energy = float(np.dot(values, values))
    return float(np.dot(values, signs) / np.sqrt(energy)) if energy > 0 else 0.0


def _canonical_tile(white: np.ndarray, fy: float, fx: float, offset) -> np.ndarray:
    """The whitened image resampled onto the canonical grid at (fy, fx) + offset and folded onto one tile."""
    canonical = np.empty((int(white.shape[0] / fy), int(white.shape[1] / fx)), np.float32)
    vk.resample(white, fy, fx, offset[0], offset[1], canonical)
    folded = np.zeros((dk.TILE, dk.TILE))
    counts = np.zeros((dk.TILE, dk.TILE))
    vk.fold(canonical, dk.TILE, folded, counts)
    return folded / np.sqrt(np.maximum(counts, 1.0))  # sum / sqrt(n): every tile position on the same noise scale


def _read_at_scale(white: np.ndarray, fy: float, fx: float, layout: _Layout, offset=(0.0, 0.0)) -> dict:
    """Resample the whitened frame mean onto the canonical grid at (fy, fx), fold it onto one tile, find
    the tile phase by FFT correlation with the search chips and read every chip there."""
    h, w = white.shape
    if min(int(h / fy), int(w / fx)) < 16:
        return {"z_search": -np.inf}
    tile = _canonical_tile(white, fy, fx, offset)
    corr = sfft.irfft2(sfft.rfft2(tile) * layout.search_template_fft, s=tile.shape)
    chips = np.empty(dk.CHIPS_PER_TILE)
    best = {"z_search": -np.inf}
    for flat_index in np.argpartition(corr, -3, axis=None)[-3:]:
        sy, sx = np.unravel_index(flat_index, corr.shape)
        dk.extract_chips(tile, _BASIS, int(sy), int(sx), chips)
        z_search = _z(chips[layout.search_pos], layout.signs[layout.search_pos])
        if z_search > best["z_search"]:
            best = {"z_search": z_search, "shift": (int(sy), int(sx)), "chips": chips.copy(), "scale": (fy, fx),
                    "offset": offset}
    return best


def _tile_periods(white: np.ndarray, min_period: float) -> list[tuple[float, float]]:
    """Candidate tile periods (pixels of ``white``, per axis) from the autocorrelation of the whitened image.

    A tiled pattern makes the autocorrelation peak at multiples of its period on both axes; content
    decorrelates within a few pixels once whitened. Needed after a crop, where the frame size no longer
    tells the scale."""
    h, w = white.shape
    n = min(h, w) // 2
    lo = int(min_period)
    if n <= lo + 2:
        return []
    centred = white - white.mean()
    spectrum = sfft.rfft2(centred, s=(2 * h, 2 * w))  # zero-padded: linear, not cyclic, correlation
    auto = sfft.irfft2(spectrum * np.conj(spectrum), s=(2 * h, 2 * w))
    lags = np.arange(n)
    # Normalise by the overlap so long lags are not penalised, then add both axes (isotropic scale).
    profile = auto[:n, 0] / ((h - lags) / h) + auto[0, :n] / ((w - lags) / w)
    peaks = profile - ndimage.median_filter(profile, 9, mode="nearest")
    candidates = []
    for d in np.argsort(peaks[lo:])[::-1][:3] + lo:
        if 0 < d < n - 1:
            a, b, c = peaks[d - 1], peaks[d], peaks[d + 1]
            denom = a - 2 * b + c
            period = d + (0.5 * (a - c) / denom if denom < 0 else 0.0)  # parabolic sub-pixel peak
            candidates.append((period, period))
    return candidates


# Work counters of a detection, summed over every decode attempt and mean (reported in Detection.details).
_COUNTS = ("decodes", "crc_checks", "list_walks")


def _finish(best: dict, layout: _Layout, force_decode: bool = False) -> dict:
    """Presence test on the held-out chips and payload decoding (decode()) at the chosen alignment.

    Decodes only when the held-out z says the mark may be there (or force_decode). A failed CRC keeps
    the soft values under "soft" for a later list walk (_walk_list; _detect_mean removes the key)."""
    chips = best["chips"] * _coefficient_weights(best["chips"], layout)
    z_test = _z(chips[layout.test_pos], layout.signs[layout.test_pos])
    soft = np.zeros(_PAYLOAD_CODE.coded_bits)
    np.add.at(soft, layout.coded_index, chips[layout.data_pos] * layout.signs[layout.data_pos])
    crc_ok, payload, decodes, extra = False, None, 0, {}
    if force_decode or ndtr(-z_test) < 1e-3:  # decode only what may be marked: Viterbi is the costliest step for small frames
        soft32 = soft.astype(np.float32)
        crc_ok, payload, _ = _PAYLOAD_CODE.decode(soft32)
        decodes = 1
        if not crc_ok:
            extra["soft"] = soft32
    return {
        **extra,
        "decodes": decodes,
        "crc_checks": decodes,  # one CRC check per decode()
        "list_walks": 0,
        "list_rank": 0 if crc_ok else None,
        "z_test": z_test,
        "z_search": float(best["z_search"]),
        "shift": best["shift"],
        "offset": best["offset"],
        "crc_ok": bool(crc_ok),
        "payload": int(payload) if crc_ok else None,
    }


def _walk_list(outcome: dict, max_list: int) -> tuple[bool, int, int, int] | None:
    """CRC-aided list walk over the soft values of an outcome whose decode() failed its CRC, when its
    held-out z passes LIST_MIN_Z: (crc_ok, payload, rank, CRC checks made), or None (not walked).

    decode_list repeats decode() (~0.5 ms) on the same soft values before the walk and counts that path's
    check in its rank (rank + 1 checks in all, max_list when none passed); the caller already counted
    it, so the walk adds rank, or max_list - 1, new CRC checks (distinct paths: never the same word twice)."""
    if "soft" not in outcome or max_list <= 1 or outcome["z_test"] < LIST_MIN_Z:
        return None
    crc_ok, payload, _, rank = _PAYLOAD_CODE.decode_list(outcome["soft"], max_list)
    return bool(crc_ok), int(payload), int(rank), (rank if crc_ok else max_list - 1)


def _chips_at(white: np.ndarray, best: dict) -> np.ndarray:
    """The chips of a whitened image read at an alignment found by _read_at_scale."""
    (fy, fx), (sy, sx) = best["scale"], best["shift"]
    chips = np.empty(dk.CHIPS_PER_TILE)
    dk.extract_chips(_canonical_tile(white, fy, fx, best["offset"]), _BASIS, sy, sx, chips)
    return chips


def _reweighted(slots: list, scale: float, best: dict, layout: _Layout) -> np.ndarray | None:
    """Chips of the frames combined with per-frame weights mu_f / sigma_f^2 instead of a plain mean.

    After a high-CRF encode the mark lives mostly in the intra-coded frames: predicted frames drag the
    intra frame's mark along with the motion and code little of the residual, so a plain mean dilutes
    it (measured on grass at CRF 35: frame 0 alone decodes, the 60-frame mean does not). The weights
    are measured on the known sync chips (search and test: the held-out z of the result is therefore
    not reported; only a verified CRC counts from this path)."""
    known = np.concatenate([layout.search_pos, layout.test_pos])
    total, any_weight = np.zeros(dk.CHIPS_PER_TILE), False
    for slot in slots:
        chips = _chips_at(_whiten(slot, scale), best)
        x = chips[known] * layout.signs[known]
        mu, var = float(np.mean(x)), float(np.var(x))
        weight = max(mu - np.sqrt(var / x.size), 0.0) / var if var > 0 else 0.0  # one standard error shrink
        if weight > 0:
            total += weight * chips
            any_weight = True
    return total if any_weight else None


def _candidate_scales(height: int, width: int) -> list[float]:
    """Scales (frame px per canonical px) to try first for a frame of this size, most likely first: the
    embedder's own scale, the frame-size scale (a large frame rescaled as a whole), and a small frame
    rescaled as a whole (a 360-line source, or one where the tile-fit limit set the scale)."""
    short = min(height, width)
    scales = []
    for f in (embed_scale(height, width), short / CANONICAL_SIDE, 2.0 * short / CANONICAL_SIDE,
              short / (TILES_ON_SHORT_SIDE * dk.TILE)):
        if f >= MIN_SCALE and all(abs(f / g - 1.0) > 0.005 for g in scales):
            scales.append(f)
    return scales


def _detect_mean(mean: np.ndarray, k: int, f_frame: float, scales: list, layout: _Layout,
                 slots=None, max_list: int = 1) -> dict:
    """Detect in the mean of frames binned by k. f_frame: frame px per canonical px from the frame size;
    scales: the candidate scales to try before the tile-period search; slots: None or a function that
    returns the per-frame (per-slot) binned means, for the re-weighting fallback; max_list: paths of a
    CRC-aided list walk (1: decode() only). The list is the last resort: walked only when every plain
    decode() (first, refined and re-weighted chips) failed its CRC, on the final alignment's chips and
    then the re-weighted ones (at most two walks per mean), so every payload decode() gives comes out
    exactly as without the list, with the same CRC-check count."""
    white = _whiten(mean, f_frame / k)

    def read(fy, fx, offset=(0.0, 0.0)):
        return _read_at_scale(white, fy, fx, layout, offset)

    best = {"z_search": -np.inf}
    for f in scales:
        outcome = read(f / k, f / k)
        best = outcome if outcome["z_search"] > best["z_search"] else best
        if best["z_search"] >= STRONG_SEARCH_Z:
            break
    if best["z_search"] < STRONG_SEARCH_Z:  # the frame size did not give the scale (cropped): use the period
        for py, px in _tile_periods(white, MIN_SCALE * dk.TILE / k):
            outcome = read(py / dk.TILE, px / dk.TILE)
            best = outcome if outcome["z_search"] > best["z_search"] else best
    if best["z_search"] == -np.inf:
        return {"z_test": 0.0, "z_search": 0.0, "crc_ok": False, "payload": None, "scale": None,
                "list_rank": None, **dict.fromkeys(_COUNTS, 0)}
    result = _finish(best, layout)
    if not result["crc_ok"] and best["z_search"] > PROMISING_SEARCH_Z:
        # Refine the scale (a 0.2% error shifts the far edge of a 1080p frame by a block), then the
        # sub-pixel phase, one axis then the other: rescaled frames rarely land on whole canonical pixels.
        fy, fx = best["scale"]
        for rel in (-0.003, -0.0015, 0.0015, 0.003):
            outcome = read(fy * (1 + rel), fx * (1 + rel))
            best = outcome if outcome["z_search"] > best["z_search"] else best
        for axis in (0, 1):
            base = best
            for frac in (-0.5, -0.25, 0.25, 0.5):
                offset = list(base["offset"])
                offset[axis] += frac
                outcome = read(*base["scale"], tuple(offset))
                best = outcome if outcome["z_search"] > best["z_search"] else best
        first = result
        result = _finish(best, layout)
        for name in _COUNTS:
            result[name] += first[name]
    means = slots() if (slots is not None and not result["crc_ok"] and best["z_search"] > PROMISING_SEARCH_Z) else []
    weighted = None
    if len(means) > 1:
        chips = _reweighted(means, f_frame / k, best, layout)
        if chips is not None:
            weighted = _finish(dict(best, chips=chips), layout, force_decode=True)
            for name in _COUNTS:
                result[name] += weighted[name]
            if weighted["crc_ok"]:
                result.update(crc_ok=True, payload=weighted["payload"], reweighted=True, list_rank=0)
    if not result["crc_ok"]:
        # Last resort, the CRC-aided list: the final alignment's chips, then the re-weighted ones (whose
        # z_test is biased upwards, the weights saw the test chips: there it only gates the walk).
        for outcome, reweighted in ((result, False), (weighted, True)):
            walk = None if outcome is None else _walk_list(outcome, max_list)
            if walk is not None:
                crc_ok, payload, rank, checks = walk
                result["list_walks"] += 1
                result["crc_checks"] += checks
                if crc_ok:
                    result.update(crc_ok=True, payload=payload, list_rank=rank)
                    if reweighted:
                        result["reweighted"] = True
                    break
    result.pop("soft", None)
    result["scale"] = (best["scale"][0] * k, best["scale"][1] * k)  # frame px per canonical px
    return result


def watermark_frames(frames: Iterable, *, key: Key, payload: int, strength: float = 1.0, pixel_format: str | None = None) -> Iterator:
    """Mark each frame; numpy frames are copied first (inputs stay untouched), av.VideoFrames are marked in place.

    Arguments are checked at the call, not at the first frame."""
    frames = check_iterable(frames, "frames")
    marker = VideoWatermarker(key, payload, strength=strength)
    return _mark_each(marker, frames, pixel_format)


def _mark_each(marker, frames, pixel_format) -> Iterator:
    for frame in frames:
        if isinstance(frame, np.ndarray):
            frame = frame.copy() if frame.dtype == np.uint8 else frame  # wrong dtypes still reach embed's check
        yield marker.embed(frame, pixel_format=pixel_format)


def detect_frames(frames: Iterable, *, key: Key, pixel_format: str | None = None,
                  false_alarm_threshold: float = DEFAULT_FALSE_ALARM) -> Detection:
    """Read the watermark of ``key`` from frames of any size (cropped, rescaled, re-encoded)."""
    if isinstance(frames, np.ndarray) and frames.ndim in (2, 3) and (frames.ndim == 2 or frames.shape[-1] in (3, 4)):
        frames = [frames]  # one still image
    detector = VideoDetector(key, false_alarm_threshold=false_alarm_threshold)
    for frame in check_iterable(frames, "frames"):
        detector.add(frame, pixel_format=pixel_format)
    return detector.result()
