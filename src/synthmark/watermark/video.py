"""Keyed, blind video and image watermark v2 (64-bit payload), block-DCT domain, on luma.

Layout. A tile of 128 x 128 canonical pixels holds 16 x 16 blocks of 8 x 8; eleven low-to-mid frequency
DCT coefficients per block carry 2816 chips. A keyed permutation gives every chip a role: 5/8 carry
the coded payload (CRC-32 + K=15 rate-1/4 convolutional code, soft Viterbi in the C++ core), 3/16
are sync chips used to find the tile's scale, orientation and phase ("search" set), and 3/16 are
held-out chips used only for the presence test ("test" set). Signs come from keyed streams.

One scale model. One canonical pixel is min(H, W) / 360 frame pixels at every frame size from 144 px to 4K
(smaller frames, down to 96 px, are marked at 0.4 frame px per canonical px):
a still or clip rescaled as a whole keeps its canonical grid, so the detector reads the scale from the
frame size (and searches around it for crops, rotations and aspect changes).

Bound to the content. Every data and test chip of a block is multiplied by the block's binding
s = sign(F) tanh((|F| - 1.5)+ / 3), where F is a keyed, zero-sum, gradient-free combination of the mean luma of
the block's 3 x 3 neighbourhood (a feature the mark itself does not change: it has no DC). The detector
recomputes F from what it receives. A mark estimated on one picture and added to another meets that
picture's F, which agrees with the source's in sign no more often than chance: the held-out test and
the payload do not verify (the sync may still align: it only steers the search). Flat areas have
F ~ 0 and get (almost) no mark. Sync chips are weighted by |s| and keep their keyed signs.

Varies from item to item. The tile's phase is a keyed hash of the first frame's content, so averaging
many marked items of different content, with the binding signs on top, converges to no pattern.

Moves with the picture. The embedder tracks the content's global motion (zoom + translation,
watermark/_motion.py) against an anchor frame and renders the pattern in the content's coordinates,
so an encoder predicts the mark in P-frames as it predicts texture instead of re-coding it. A scene
cut (nothing to track) starts a new anchor with a new phase. The detector tracks the same way and
sums frames aligned on their content (one canvas per tracked segment), so any window of any length
reads the mark: drops, rate changes and a missing I-frame do not matter.

Detection. Once per canvas: whiten, and for each geometry hypothesis (frame-size scale and a sweep
around it; aspect ratios; rotations up to 3 deg; a horizontal mirror) resample to the canonical grid,
fold onto one tile, find the phase by FFT correlation with the search chips. At the best alignment:
read every block by forward DCT, demodulate the bound chips by the binding recomputed there, decode.
The presence statistic is the held-out chips' normalised correlation z = sum(x_i s_i) / sqrt(sum x_i^2):
the hypotheses are ranked by the search chips only, so under "no mark of this key" z is a Rademacher
sum whatever was searched, and ``false_alarm = P(N(0,1) >= z)`` x (canvases tested) is calibrated.

What ``false_alarm`` promises, and what it does not. It bounds the chance that content which never
carried this key's mark (or carries another key's) scores this high. A forger who holds marked items
but not the key can copy the sync (so the search aligns) but not the binding: the held-out chips and
the payload then test at chance. It does not cover an attacker who learns the binding filter of a key
from many marked items (a bilinear estimation problem far beyond averaging), nor content that is a
near copy of a marked item (that content is, for this purpose, the marked item).

List decoding. Where every plain Viterbi decode fails its CRC but the held-out test already says a mark
is likely there (z_test >= LIST_MIN_Z), the decoder walks the code's next most likely paths and takes
the first whose CRC-32 checks (up to LIST_SIZE paths). Every CRC check counts: a wrong word passes one
with probability ~2^-32, so the CRC part of ``false_alarm`` is 2^-32 x (all CRC checks made).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

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
from . import _motion
from . import _video_kernels as vk
from ._frames import PixelView, pixel_view
from ._motion import IDENTITY, Similarity

CANONICAL_SIDE = 360.0  # canonical pixels on a frame's short side, at every frame size
MIN_FRAME_SIDE = 96  # smaller frames cannot hold enough of a tile to be read back
# A canonical pixel under 0.4 frame pixels would put the carriers (up to 3/16 cycles per canonical pixel)
# past Nyquist: frames under 144 px (0.4 x 360) are marked at 0.4, so the one scale model holds from 144 px.
MIN_SCALE = 0.4
DEFAULT_FALSE_ALARM = 1e-6
# Search statistic (max over alignments, not calibrated; it only steers the search): at or above this the
# plain hypothesis (frame-size scale, upright) is taken without the geometry sweep.
STRONG_SEARCH_Z = 8.0
LIST_SIZE = 1024
LIST_MIN_Z = 3.09
N_DATA = dk.CHIPS_PER_TILE * 5 // 8
N_SEARCH = dk.CHIPS_PER_TILE * 3 // 16
N_TEST = dk.CHIPS_PER_TILE - N_DATA - N_SEARCH
# Mask: gain in luma levels = clamp(FLOOR + SLOPE * mean |gradient|, FLOOR, CEIL), times the binding.
MASK_FLOOR = 1.0
MASK_SLOPE = 0.70
MASK_CEIL = 5.0
# Budget on the added RMS per frame (luma levels): PSNR ~42.3 dB with rounding (target >= 42 dB).
MAX_RMS = 2.1
# Binding (luma levels of F, a unit-norm combination of block means): s = sign(F) tanh((|F| - DEAD_ZONE)+ /
# SOFTNESS). Blocks whose F is within the dead zone get no bound chips: flat and smooth areas, where a
# small added signal (a forger's copied residual: ~0.5-1 level of block-mean change at PSNR 38 dB) could
# otherwise decide the sign, and where a sign could not be read back after a codec anyway.
BINDING_DEAD_ZONE = 1.5
BINDING_SOFTNESS = 3.0
# Tracking: motion changes smaller than these (binned pixels, zoom) keep the previous alignment, so a
# static scene gets exactly the same mark in every frame (no swimming from estimator noise).
STILL_SHIFT = 0.08
STILL_ZOOM = 2e-4
# Re-anchor when less than this share of a frame still overlaps its anchor; the mark's scale is brought
# back to nominal (one costly frame) when tracking has zoomed it beyond this factor either way.
MIN_OVERLAP = 0.6
MAX_MARK_ZOOM = 1.25
# Canvases kept per frame size by the detector (a new one at every cut or re-anchor); the ones with
# the most frames are tested.
MAX_CANVASES = 6
CRC_FALSE_ALARM = 2.0**-32

_PAYLOAD_CODE = _core.PayloadCode(64, 32, 15, 4)
_BASIS = dk.dct_basis()


def _check_key(key) -> Key:
    if not isinstance(key, Key):
        raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
    return key


def bin_factor(height: int, width: int) -> int:
    """Frame pixels per binned pixel for tracking, binding and detection (about one canonical pixel)."""
    return max(1, int(min(height, width) / CANONICAL_SIDE))


def embed_scale(height: int, width: int) -> float:
    """Frame pixels per canonical pixel of a height x width frame."""
    return max(min(height, width) / CANONICAL_SIDE, MIN_SCALE)


class _Layout:
    """The keyed chip layout of one key (roles, signs, sync template, binding filters). Immutable."""

    _cache = BoundedCache(32)  # cache_tag(key) -> _Layout

    def __init__(self, key: Key):
        streams = _core.KeyedStreams(key.secret_bytes())
        perm = streams.permutation("video/v2/chip-roles", dk.CHIPS_PER_TILE).astype(np.int64)
        self.data_pos = perm[:N_DATA]
        self.search_pos = perm[N_DATA : N_DATA + N_SEARCH]
        self.test_pos = perm[N_DATA + N_SEARCH :]
        self.bound_pos = np.concatenate([self.data_pos, self.test_pos])
        signs = np.empty(dk.CHIPS_PER_TILE, dtype=np.float32)
        streams.fill_signs("video/v2/chip-signs", signs)
        self.signs = signs.astype(np.float64)
        self.coded_index = np.arange(N_DATA) % _PAYLOAD_CODE.coded_bits
        search_chips = np.zeros(dk.CHIPS_PER_TILE)
        search_chips[self.search_pos] = self.signs[self.search_pos]
        template = np.empty((dk.TILE, dk.TILE))
        dk.synthesize_tile(search_chips, _BASIS, template)
        self.search_template_fft = np.conj(sfft.rfft2(template))
        self.binding_weights = _binding_weights(streams)
        self.phase_key = _core.hmac_sha256(key.secret_bytes(), b"synthmark/video/v2/tile-phase")

    @classmethod
    def for_key(cls, key: Key) -> "_Layout":
        return cls._cache.get_or_build(cache_tag(key), lambda: cls(key))

    def tiles(self, payload: int) -> tuple[np.ndarray, np.ndarray]:
        """(sync tile, bound tile) for a payload, float32, scaled so that their sum has unit RMS."""
        coded = _PAYLOAD_CODE.encode(payload).astype(np.float64) * 2.0 - 1.0
        sync = np.zeros(dk.CHIPS_PER_TILE)
        sync[self.search_pos] = self.signs[self.search_pos]
        bound = np.zeros(dk.CHIPS_PER_TILE)
        bound[self.test_pos] = self.signs[self.test_pos]
        bound[self.data_pos] = self.signs[self.data_pos] * coded[self.coded_index]
        out = []
        for chips in (sync, bound):
            tile = np.empty((dk.TILE, dk.TILE))
            dk.synthesize_tile(chips, _BASIS, tile)
            out.append(tile)
        rms = float(np.sqrt(np.mean((out[0] + out[1]) ** 2)))
        return out[0].astype(np.float32) / np.float32(rms), out[1].astype(np.float32) / np.float32(rms)

    def tile_phase(self, content: np.ndarray) -> tuple[float, float]:
        """The tile phase (canonical pixels) of an anchor: a keyed hash of its binned content."""
        digest = _core.hmac_sha256(self.phase_key, np.ascontiguousarray(content, np.float32).tobytes())
        a, b = int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:8], "little")
        return (a / 2**32) * dk.TILE, (b / 2**32) * dk.TILE


def _binding_weights(streams) -> np.ndarray:
    """Keyed 3 x 3 filters, one per block of the tile: zero sum and zero first moments (flat areas and
    linear gradients give F = 0; brightness changes do not move F), unit norm."""
    raw = np.empty(vk.TILE_BLOCKS * vk.TILE_BLOCKS * 9, np.float32)
    streams.fill_uniform("video/v2/binding-filters", raw)
    w = raw.astype(np.float64).reshape(-1, 9) - 0.5
    dy, dx = np.mgrid[-1:2, -1:2]
    basis = np.stack([np.ones(9), dy.ravel().astype(float), dx.ravel().astype(float)])
    q, _ = np.linalg.qr(basis.T)
    w -= (w @ q) @ q.T
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return w


def _binding_field(dc: np.ndarray, tile_index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """F of every block: its tile block's keyed 3 x 3 filter over the means of the 16 x 16 canonical-pixel
    windows around it (2 x 2 blocks, at steps of 2 blocks: frequencies well below the carriers, which
    a copied residual carries little of). NaN where the neighbourhood leaves the grid or the picture."""
    nby, nbx = dc.shape
    out = np.full(dc.shape, np.nan)
    if nby < 7 or nbx < 7:
        return out
    groups = 0.25 * (dc[:-1, :-1] + dc[1:, :-1] + dc[:-1, 1:] + dc[1:, 1:])  # window starting at block (i, j)
    idx = tile_index[3:-3, 3:-3]
    acc = np.zeros((nby - 6, nbx - 6))
    t = 0
    for di in (-2, 0, 2):
        for dj in (-2, 0, 2):
            # the window centred on block (i, j) + 2 (di, dj) blocks starts at block (i - 1 + 2 di, ...)
            acc += weights[idx, t] * groups[2 + di : nby - 4 + di, 2 + dj : nbx - 4 + dj]
            t += 1
    out[3:-3, 3:-3] = acc
    return out


def _binding(field: np.ndarray) -> np.ndarray:
    """s = sign(F) tanh(max(|F| - BINDING_DEAD_ZONE, 0) / BINDING_SOFTNESS); 0 where F is undefined."""
    out = np.zeros(field.shape, np.float32)
    ok = np.isfinite(field)
    magnitude = np.maximum(np.abs(field[ok]) - BINDING_DEAD_ZONE, 0.0)
    out[ok] = np.sign(field[ok]) * np.tanh(magnitude / BINDING_SOFTNESS)
    return out


# ---------------------------------------------------------------------------------------------------
# Tracking (both sides)


def _inverse(m: Similarity) -> Similarity:
    return Similarity(1.0 / m.scale, -m.shift_y / m.scale, -m.shift_x / m.scale)


class _Tracker:
    """Global motion of a stream of binned frames against an anchor frame.

    ``update(image)`` returns (H, event): H maps the image's coordinates onto the anchor's, event is
    None, "cut" (nothing could be tracked: the image is the new anchor) or "reanchor" (too little overlap
    left: the image is the new anchor; the caller composes the old H first)."""

    def __init__(self):
        self.anchor: np.ndarray | None = None
        self.previous: np.ndarray | None = None
        self.h = IDENTITY
        self.h_before = IDENTITY
        self._warped = None
        self._valid = None

    def warp(self, image: np.ndarray, h: Similarity) -> tuple[np.ndarray, np.ndarray]:
        if self._warped is None or self._warped.shape != image.shape:
            self._warped = np.empty_like(image)
            self._valid = np.empty_like(image)
        vk.warp_similarity(image, h.scale, h.shift_y, h.shift_x, self._warped, self._valid)
        return self._warped, self._valid

    def update(self, image: np.ndarray) -> tuple[Similarity, str | None]:
        if self.anchor is None or self.anchor.shape != image.shape:
            self._restart(image)
            return IDENTITY, "cut"
        # constant motion: H = M then H_before gives the last frame-to-frame motion M, and the next H = M then H
        predicted = self.h.then(_inverse(self.h_before)).then(self.h)
        warped, valid = self.warp(image, predicted)
        overlap = float(valid.mean())
        h = None
        if overlap >= 0.3:
            residual = _motion.estimate(self.anchor, warped, valid=valid)
            if residual is not None:
                h = predicted.then(residual)
        if h is None and self.previous is not None:  # a jump the prediction missed: frame to frame
            step_back = _motion.estimate(self.previous, image)
            if step_back is not None:
                h = step_back.then(self.h)
        if h is None and _same_picture(self.previous, image):
            h = self.h  # too little texture to measure motion, but the same picture: keep the alignment
        if h is None:
            self._restart(image)
            return IDENTITY, "cut"
        if (abs(h.scale - self.h.scale) < STILL_ZOOM and abs(h.shift_y - self.h.shift_y) < STILL_SHIFT
                and abs(h.shift_x - self.h.shift_x) < STILL_SHIFT):
            h = self.h  # no motion worth following: the same alignment, bit for bit
        self.h_before, self.h = self.h, h
        self.previous = image.copy()
        if _overlap(h, image.shape) < MIN_OVERLAP:
            self.anchor = image.copy()
            self.h_before = IDENTITY
            self.h = IDENTITY
            return h, "reanchor"
        return h, None

    def _restart(self, image: np.ndarray) -> None:
        self.anchor = image.copy()
        self.previous = image.copy()
        self.h = self.h_before = IDENTITY


def _same_picture(previous: np.ndarray | None, image: np.ndarray) -> bool:
    """Whether two binned frames show the same picture (mean absolute difference under 3% of the
    picture's contrast, at least 0.5 level): a flat or smooth scene that moved too little to measure."""
    if previous is None:
        return False
    diff = float(np.mean(np.abs(image - previous)))
    return diff <= max(0.5, 0.03 * float(previous.std()))


def _overlap(h: Similarity, shape) -> float:
    """Share of an image that maps inside the anchor (same shape) under h."""
    height, width = shape
    cy, cx = height / 2.0, width / 2.0
    y0, y1 = h.scale * (-cy) + cy + h.shift_y, h.scale * cy + cy + h.shift_y
    x0, x1 = h.scale * (-cx) + cx + h.shift_x, h.scale * cx + cx + h.shift_x
    oy = max(0.0, min(y1, height) - max(y0, 0.0))
    ox = max(0.0, min(x1, width) - max(x0, 0.0))
    return oy * ox / max((y1 - y0) * (x1 - x0), 1e-9)


# ---------------------------------------------------------------------------------------------------
# Embedding


class VideoWatermarker:
    """Embeds one key's watermark with one payload into the frames of one stream, in place.

    ``embed(frame)`` accepts an H x W uint8 luma plane, an H x W x 3/4 uint8 RGB/BGR/RGBA array
    (``pixel_format`` says which; default RGB), or an ``av.VideoFrame`` (yuv420p, nv12, ... work on
    the Y plane; rgb24/bgr24 on the packed plane), with any row padding, without copying.

    The mark follows the stream's motion, so one instance marks one stream, frame after frame in
    display order (a new instance per stream or still). ``embed`` may be called from several threads:
    calls are serialised on the tracking state, and the kernel runs with the GIL released.
    """

    def __init__(self, key: Key, payload: int, *, strength: float = 1.0):
        self.key_id = _check_key(key).id
        self.payload = check_payload(payload)
        if not (isinstance(strength, (int, float)) and 0.0 < float(strength) <= 4.0):
            raise InvalidArgumentError(f"strength: expected a number in (0, 4], got {strength!r}")
        self.strength = float(strength)
        self._layout = _Layout.for_key(key)
        self._sync_tile, self._bound_tile = self._layout.tiles(self.payload)
        self._lock = threading.Lock()
        self._stream = None  # _StreamState of the current frame size

    def embed(self, frame, *, pixel_format: str | None = None):
        """Mark ``frame`` in place and return it."""
        view = pixel_view(frame, pixel_format=pixel_format, writable=True)
        if min(view.height, view.width) < MIN_FRAME_SIDE:
            raise FrameTooSmallError(
                f"frame: {view.width}x{view.height} is too small to carry the watermark (minimum side {MIN_FRAME_SIDE} px)"
            )
        with self._lock:
            state = self._stream
            if state is None or (state.height, state.width) != (view.height, view.width):
                state = self._stream = _StreamState(view.height, view.width)
            state.bin(view)
            canonical = state.track(self._layout)
            signs, iy0, ix0 = state.binding(self._layout, canonical)
            self._add(view, state, canonical, signs, iy0, ix0)
        return frame

    def _add(self, view: PixelView, state: "_StreamState", canonical, signs, iy0, ix0) -> None:
        a, by, bx = canonical
        i0 = int(math.floor(by)) - 1
        j0 = int(math.floor(bx)) - 1
        rows = int(math.ceil(a * view.height)) + 3
        cols = int(math.ceil(a * view.width)) + 3
        pattern = state.scratch("pattern", (rows, cols))
        vk.render_canonical(self._sync_tile, self._bound_tile, signs, iy0, ix0, i0, j0, pattern)
        vk.column_taps(view.width, a, bx, j0, cols, state.col0, state.col1, state.colw)
        vk.mask_gains(view.flat, view.height, view.width, view.stride, view.channels, MASK_FLOOR, MASK_SLOPE,
                      MASK_CEIL, state.gains)
        vk.embed_plane(view.flat, view.height, view.width, view.stride, view.channels, pattern, a, by, i0,
                       state.col0, state.col1, state.colw, state.gains, MAX_RMS, self.strength,
                       state.scratch("rows", (rows, view.width)))

    def __repr__(self) -> str:
        return f"VideoWatermarker(key_id={self.key_id!r}, payload=0x{self.payload:016x}, strength={self.strength})"


class _StreamState:
    """What the embedder keeps between frames of one size: the binned frame, the tracker, the
    anchor's canonical map (canonical = a * p + b for anchor-frame pixels p) and scratch buffers."""

    def __init__(self, height: int, width: int):
        self.height, self.width = height, width
        self.k = bin_factor(height, width)
        self.f0 = embed_scale(height, width)
        self.binned = np.empty((height // self.k, width // self.k), np.float32)
        self.line = np.empty(2 * width + 8, np.float32)
        self.tracker = _Tracker()
        self.a = 1.0 / self.f0
        self.b = (0.0, 0.0)
        self.gains = np.empty(((height + vk.MASK_BLOCK - 1) // vk.MASK_BLOCK, width), np.float32)
        self.col0 = np.empty(width, np.int64)
        self.col1 = np.empty(width, np.int64)
        self.colw = np.empty(width, np.float32)
        self._scratch: dict = {}
        self.sat = np.empty((self.binned.shape[0] + 1, self.binned.shape[1] + 1), np.float64)

    def scratch(self, name: str, shape) -> np.ndarray:
        """A C-contiguous float32 buffer of this shape, reused while the shape stays (a zoom changes it)."""
        buf = self._scratch.get(name)
        if buf is None or buf.shape != tuple(shape):
            buf = self._scratch[name] = np.empty(shape, np.float32)
        return buf

    def bin(self, view: PixelView) -> None:
        w0, w1, w2 = view.weights
        vk.bin_luma(view.flat, view.height, view.width, view.stride, view.channels, w0, w1, w2, self.k,
                    self.binned, self.line)

    def _frame_map(self, h: Similarity) -> tuple[float, float, float]:
        """(a, b_y, b_x): canonical = a * p + b for this frame's pixels p, through H onto the anchor."""
        k = self.k
        cy, cx = k * self.binned.shape[0] / 2.0, k * self.binned.shape[1] / 2.0
        a = self.a * h.scale
        by = self.a * (cy - h.scale * cy + k * h.shift_y) + self.b[0]
        bx = self.a * (cx - h.scale * cx + k * h.shift_x) + self.b[1]
        return a, by, bx

    def track(self, layout: _Layout) -> tuple[float, float, float]:
        h, event = self.tracker.update(self.binned)
        if event == "cut":
            self.a = 1.0 / self.f0
            phase = layout.tile_phase(self.binned)
            self.b = (phase[0], phase[1])
            return self._frame_map(IDENTITY)
        canonical = self._frame_map(h)
        if event == "reanchor":  # the new anchor keeps this frame's map; its zoom is brought back if far off
            a, by, bx = canonical
            zoom = a * self.f0
            if not (1.0 / MAX_MARK_ZOOM <= zoom <= MAX_MARK_ZOOM):
                k = self.k
                cy, cx = k * self.binned.shape[0] / 2.0, k * self.binned.shape[1] / 2.0
                nominal = 1.0 / self.f0
                by, bx = (a - nominal) * cy + by, (a - nominal) * cx + bx
                a = nominal
                canonical = (a, by, bx)
            self.a, self.b = a, (by, bx)
        return canonical

    def binding(self, layout: _Layout, canonical) -> tuple[np.ndarray, int, int]:
        """The binding s of every canonical block over this frame (+1 block on each side), with the grid's
        first block (iy0, ix0)."""
        a, by, bx = canonical
        iy0 = int(math.floor(by / vk.BLOCK)) - 1
        ix0 = int(math.floor(bx / vk.BLOCK)) - 1
        iy1 = int(math.floor((a * self.height + by) / vk.BLOCK)) + 2
        ix1 = int(math.floor((a * self.width + bx) / vk.BLOCK)) + 2
        vk.summed_area(self.binned, self.sat)
        dc = np.empty((iy1 - iy0, ix1 - ix0), np.float64)
        vk.footprint_means(self.sat, self.k, a, by, a, bx, iy0, ix0, dc)
        rows = np.arange(iy0, iy1) % vk.TILE_BLOCKS
        cols = np.arange(ix0, ix1) % vk.TILE_BLOCKS
        tile_index = rows[:, None] * vk.TILE_BLOCKS + cols[None, :]
        return _binding(_binding_field(dc, tile_index, layout.binding_weights)), iy0, ix0


def watermark_frames(frames: Iterable, *, key: Key, payload: int, strength: float = 1.0, pixel_format: str | None = None) -> Iterator:
    """Mark each frame (one stream: the mark follows its motion); numpy frames are copied first (inputs
    stay untouched), av.VideoFrames are marked in place. Arguments are checked at the call."""
    frames = check_iterable(frames, "frames")
    marker = VideoWatermarker(key, payload, strength=strength)
    return _mark_each(marker, frames, pixel_format)


def _mark_each(marker, frames, pixel_format) -> Iterator:
    for frame in frames:
        if isinstance(frame, np.ndarray):
            frame = frame.copy() if frame.dtype == np.uint8 else frame
        yield marker.embed(frame, pixel_format=pixel_format)


# ---------------------------------------------------------------------------------------------------
# Detection


@dataclass
class _Canvas:
    """Frames of one tracked segment, summed in the coordinates of its anchor frame (binned)."""

    total: np.ndarray
    count: np.ndarray
    frames: int = 0
    intra_total: np.ndarray | None = None
    intra_count: np.ndarray | None = None
    intra_frames: int = 0

    def add(self, values: np.ndarray, valid: np.ndarray, intra: bool) -> None:
        vk.accumulate(values, valid, self.total, self.count)
        self.frames += 1
        if intra:
            if self.intra_total is None:
                self.intra_total = np.zeros_like(self.total)
                self.intra_count = np.zeros_like(self.total)
            vk.accumulate(values, valid, self.intra_total, self.intra_count)
            self.intra_frames += 1


@dataclass
class _Group:
    """What the detector keeps for one frame size."""

    k: int
    binned: np.ndarray
    line: np.ndarray
    tracker: _Tracker = field(default_factory=_Tracker)
    canvases: list = field(default_factory=list)
    frames: int = 0
    intra_frames: int = 0
    ones: np.ndarray | None = None


class VideoDetector:
    """Accumulates frames of one stream (or stills of one size) and reads the watermark of one key.

    ``add(frame)`` costs one pass over the frame plus tracking; ``result()`` does the search once over
    everything added so far (call it as often as you like). Frames may come at any rate, with drops."""

    def __init__(self, key: Key, *, false_alarm_threshold: float = DEFAULT_FALSE_ALARM):
        self._layout = _Layout.for_key(_check_key(key))
        self.key_id = key.id
        self.false_alarm_threshold = check_probability(false_alarm_threshold, "false_alarm_threshold")
        self._groups: dict[tuple[int, int], _Group] = {}

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
            k = bin_factor(view.height, view.width)
            group = _Group(k, np.empty((view.height // k, view.width // k), np.float32),
                           np.empty(2 * view.width + 8, np.float32))
            self._groups[(view.height, view.width)] = group
        w0, w1, w2 = view.weights
        vk.bin_luma(view.flat, view.height, view.width, view.stride, view.channels, w0, w1, w2, group.k,
                    group.binned, group.line)
        h, event = group.tracker.update(group.binned)
        if event == "reanchor":
            values, valid = group.tracker.warp(group.binned, h)
            group.canvases[-1].add(values, valid, bool(keyframe))
            event = "cut"  # the next frames align on this one: a new canvas
        if event == "cut":
            if group.ones is None:
                group.ones = np.ones_like(group.binned)
            canvas = _Canvas(np.zeros_like(group.binned), np.zeros_like(group.binned))
            group.canvases.append(canvas)
            if len(group.canvases) > MAX_CANVASES:  # drop the canvas with the fewest frames (not the new one)
                drop = min(range(len(group.canvases) - 1), key=lambda i: group.canvases[i].frames)
                group.canvases.pop(drop)
            canvas.add(group.binned, group.ones, bool(keyframe))
        else:
            values, valid = group.tracker.warp(group.binned, h)
            group.canvases[-1].add(values, valid, bool(keyframe))
        group.frames += 1
        group.intra_frames += bool(keyframe)

    @property
    def frames(self) -> int:
        return sum(g.frames for g in self._groups.values())

    def result(self) -> Detection:
        if not self._groups:
            return Detection(False, None, 1.0, 0.0, {"frames": 0})
        best, tests = None, 0
        counts = dict.fromkeys(_COUNTS, 0)
        means = []
        for (h, w), group in self._groups.items():
            for canvas in group.canvases:
                means.append((canvas.frames, group, canvas.total, canvas.count, False, canvas))
                if 0 < canvas.intra_frames < canvas.frames:
                    means.append((canvas.intra_frames, group, canvas.intra_total, canvas.intra_count, True, canvas))
        means.sort(key=lambda m: -m[0])
        for frames, group, total, count, intra_only, canvas in means[: 2 * MAX_CANVASES]:
            outcome = _detect_canvas(total, count, group.k, self._layout, LIST_SIZE)
            outcome.update(frames=group.frames, canvas_frames=canvas.frames, intra_frames=group.intra_frames,
                           intra_only=intra_only, canvases=sum(len(g.canvases) for g in self._groups.values()))
            tests += 1
            for name in _COUNTS:
                counts[name] += outcome[name]
            if best is None or (outcome["crc_ok"], outcome["z_test"]) > (best["crc_ok"], best["z_test"]):
                best = outcome
            if outcome["crc_ok"]:
                break
        # One held-out test per canvas looked at: the union bound keeps the probability honest. Every CRC
        # check made (decode() calls and every path of every list walk) enters the CRC bound.
        best.update(counts)
        best["tests"] = tests
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


_COUNTS = ("decodes", "crc_checks", "list_walks")


def _whiten(image: np.ndarray, scale: float) -> np.ndarray:
    """Remove the content's low frequencies and equalise local energy (weights each region by 1/noise).
    Filter sizes follow the expected canonical pixel size (``scale`` binned px): a 3-px box high-pass
    and an 11-px energy window, in canonical pixels."""
    s = max(scale, 0.6)
    box = max(3, int(round(3 * s)) | 1)
    residual = image - ndimage.uniform_filter(image, box, mode="reflect")
    local_power = ndimage.uniform_filter(residual * residual, max(5, int(round(11 * s)) | 1), mode="reflect")
    white = residual / np.sqrt(local_power + 0.01)
    if scale > 1.3:
        white = ndimage.uniform_filter(white, int(round(scale)), mode="reflect")
    return white.astype(np.float32)


def _content_box(mean: np.ndarray, count: np.ndarray) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): the part of a canvas that holds picture, without uniform borders (letterbox,
    pillarbox). Every pixel any frame covered counts: the box sets the frame-size scale, and a zooming
    clip covers its anchor's centre more often than its edges."""
    covered = count > 0
    rows = np.flatnonzero(covered.any(axis=1))
    cols = np.flatnonzero(covered.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return 0, 0, 0, 0
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    region = mean[y0:y1, x0:x1]
    row_std = region.std(axis=1)
    col_std = region.std(axis=0)
    flat_rows = np.flatnonzero(row_std > 1.0)
    flat_cols = np.flatnonzero(col_std > 1.0)
    if flat_rows.size and flat_cols.size:
        y0, y1 = y0 + flat_rows[0], y0 + flat_rows[-1] + 1
        x0, x1 = x0 + flat_cols[0], x0 + flat_cols[-1] + 1
    return int(y0), int(y1), int(x0), int(x1)


@dataclass
class _Hypothesis:
    """A map from canonical pixels (v, u) to canvas pixels: rotation by angle (degrees) and mirror,
    fy / fx canvas px per canonical px, about the centre of the content box."""

    fy: float
    fx: float
    angle: float = 0.0
    mirror: bool = False
    offset: tuple = (0.0, 0.0)  # canonical pixels

    def scaled(self, rel_y: float, rel_x: float | None = None) -> "_Hypothesis":
        return _Hypothesis(self.fy * rel_y, self.fx * (rel_y if rel_x is None else rel_x), self.angle, self.mirror,
                           self.offset)


def _resample(image: np.ndarray, box, hyp: _Hypothesis, size=None) -> np.ndarray:
    """The canvas region ``box`` on the canonical grid of ``hyp`` (whole box, or a centred size x size)."""
    y0, y1, x0, x1 = box
    h, w = y1 - y0, x1 - x0
    oh, ow = int(h / hyp.fy), int(w / hyp.fx)
    if size is not None:
        oh, ow = min(oh, size), min(ow, size)
    out = np.empty((oh, ow), np.float32)
    t = math.radians(hyp.angle)
    c, s = math.cos(t), math.sin(t)
    mx = -1.0 if hyp.mirror else 1.0
    # canvas (y, x) = centre + R(t) @ diag(fy, mx * fx) @ ((v, u) - canonical centre + offset)
    m00, m01 = c * hyp.fy, -s * hyp.fx * mx
    m10, m11 = s * hyp.fy, c * hyp.fx * mx
    cv, cu = oh / 2.0 - hyp.offset[0], ow / 2.0 - hyp.offset[1]
    t0 = y0 + h / 2.0 - (m00 * cv + m01 * cu)
    t1 = x0 + w / 2.0 - (m10 * cv + m11 * cu)
    vk.resample_affine(image, m00, m01, m10, m11, t0, t1, out)
    return out


def _search(white: np.ndarray, box, hyp: _Hypothesis, layout: _Layout, size=None) -> tuple[float, tuple]:
    """Fold the canonical image of hyp onto one tile and find the phase: (z_search, (sy, sx))."""
    canonical = _resample(white, box, hyp, size)
    if min(canonical.shape) < 32:
        return -np.inf, (0, 0)
    tile = np.zeros((dk.TILE, dk.TILE))
    _fold_tile(canonical, tile)
    corr = sfft.irfft2(sfft.rfft2(tile) * layout.search_template_fft, s=tile.shape)
    best = (-np.inf, (0, 0))
    chips = np.empty(dk.CHIPS_PER_TILE)
    for flat_index in np.argpartition(corr, -3, axis=None)[-3:]:
        sy, sx = np.unravel_index(flat_index, corr.shape)
        dk.extract_chips(tile, _BASIS, int(sy), int(sx), chips)
        # weighted by how much of each carrier the search chips show survived (codecs drop the high ones
        # first); a ranking statistic only, like the plain one
        weighted = chips * _coefficient_weights(chips, layout)
        z = _z(weighted[layout.search_pos], layout.signs[layout.search_pos])
        if z > best[0]:
            best = (z, (int(sy), int(sx)))
    return best


def _fold_tile(canonical: np.ndarray, out: np.ndarray) -> None:
    """Fold a canonical image onto one tile (out, zeroed): sum / sqrt(n), every tile position on the same
    noise scale."""
    counts = np.zeros((dk.TILE, dk.TILE))
    vk.fold(canonical, dk.TILE, out, counts)
    out /= np.sqrt(np.maximum(counts, 1.0)).astype(out.dtype)


def _sweep_scores(white: np.ndarray, box, hyps: list, layout: _Layout) -> np.ndarray:
    """A cheap ranking score per hypothesis for the sweep: the height of the phase-correlation peak of
    the folded centred region in standard deviations of the correlation surface (one batched FFT)."""
    tiles = np.zeros((len(hyps), dk.TILE, dk.TILE), np.float32)
    for i, hyp in enumerate(hyps):
        _fold_tile(_resample(white, box, hyp, COARSE_SIZE), tiles[i])
    corr = sfft.irfft2(sfft.rfft2(tiles, axes=(1, 2)) * layout.search_template_fft[None], s=(dk.TILE, dk.TILE),
                       axes=(1, 2))
    flat = corr.reshape(len(hyps), -1)
    return (flat.max(axis=1) - flat.mean(axis=1)) / np.maximum(flat.std(axis=1), 1e-12)


def _z(values: np.ndarray, signs: np.ndarray) -> float:
    energy = float(np.dot(values, values))
    return float(np.dot(values, signs) / np.sqrt(energy)) if energy > 0 else 0.0


# Geometry hypotheses tried after the plain one, in order: aspect changes (fx / fy), then rotations
# (degrees) and the horizontal mirror. Each is searched over SCALE_SWEEP around the frame-size scale.
ASPECTS = (0.75, 1 / 0.75, 1.1, 1 / 1.1)
ANGLES = (1.0, -1.0, 3.0, -3.0, 2.0, -2.0)
SCALE_SWEEP = tuple(1.01**j for j in range(-12, 13))
# A crop without rescale makes the frame smaller than the picture the mark was sized for: the plain
# hypothesis also sweeps up to 1.8 x the frame-size scale (a crop keeping 55% of the short side).
CROP_SWEEP = SCALE_SWEEP + tuple(1.01**j for j in range(13, 60))
COARSE_SIZE = 256  # canonical pixels of the centred region the sweep reads (a 1% scale step moves its edge < 1 px)
REFINED_CANDIDATES = 8  # best sweep hypotheses overall refined on the whole box (with the best of each geometry)
NEAR_SWEEP = tuple(1.003**j for j in range(-13, 14) if j)  # +-4% around the frame-size scale, whole box


def _detect_canvas(total: np.ndarray, count: np.ndarray, k: int, layout: _Layout, max_list: int) -> dict:
    mean = total / np.maximum(count, 1.0)
    box = _content_box(mean, count)
    empty = {"z_test": 0.0, "z_search": 0.0, "crc_ok": False, "payload": None, "scale": None, "list_rank": None,
             "hypothesis": None, **dict.fromkeys(_COUNTS, 0)}
    y0, y1, x0, x1 = box
    if min(y1 - y0, x1 - x0) * k < MIN_FRAME_SIDE:
        return empty
    fill = float(mean[y0:y1, x0:x1].mean())
    mean = np.where(count > 0, mean, fill).astype(np.float32)
    f = max(min(y1 - y0, x1 - x0) / CANONICAL_SIDE, MIN_SCALE / k)  # canvas px per canonical px if the box is the whole picture
    white = _whiten(mean, f)
    white[count <= 0] = 0.0

    plain = _Hypothesis(f, f)
    z_search, shift = _search(white, box, plain, layout)
    hyp = plain
    if z_search < STRONG_SEARCH_Z:
        # A small scale drift (a zooming clip's window, a slight rescale) on the whole box first.
        for rel in NEAR_SWEEP:
            cand = plain.scaled(rel)
            z, s = _search(white, box, cand, layout)
            if z > z_search:
                z_search, hyp, shift = z, cand, s
    if z_search < STRONG_SEARCH_Z:
        # Sweep every geometry hypothesis over scales on a centred region (tolerant of a 1% scale step),
        # then refine the best of each and the best few overall on the whole box, which decides.
        found = []
        for base in ([_Hypothesis(f, f * a) for a in (1.0,) + ASPECTS] + [_Hypothesis(f / a, f) for a in ASPECTS]
                     + [_Hypothesis(f, f, angle=t) for t in ANGLES] + [_Hypothesis(f, f, mirror=True)]):
            scales = CROP_SWEEP if (base.fy == base.fx and base.angle == 0.0 and not base.mirror) else SCALE_SWEEP
            cands = [base.scaled(rel) for rel in scales]
            scores = _sweep_scores(white, box, cands, layout)
            found.append((float(scores.max()), cands[int(scores.argmax())], True))
            found.extend((float(z), c, False) for z, c in zip(scores, cands))
        per_base = [(z, c) for z, c, top in found if top]
        overall = sorted(((z, c) for z, c, top in found if not top), key=lambda item: -item[0])
        refined = per_base + overall[:REFINED_CANDIDATES]
        for _, cand in refined:
            for rel in (1.0, 0.995, 1.005):
                c2 = cand.scaled(rel)
                z, s = _search(white, box, c2, layout)
                if z > z_search:
                    z_search, hyp, shift = z, c2, s
    if z_search == -np.inf:
        return empty
    # Refine on the whole box: scale (a 0.2% error shifts the far edge of a frame by a block), the two
    # axes apart, the angle, then the sub-pixel offset, one axis at a time.
    def better(cand):
        nonlocal z_search, hyp, shift
        z, s = _search(white, box, cand, layout)
        if z > z_search:
            z_search, hyp, shift = z, cand, s

    for step in (0.003, 0.0015):
        base = hyp
        for rel in (1 - step, 1 + step):
            better(base.scaled(rel))
    base = hyp
    for rel in (0.997, 1.003):
        better(base.scaled(1.0, rel))
    if base.angle != 0.0:
        base = hyp
        for dt in (-0.25, 0.25):
            better(replace(base, angle=base.angle + dt))
    for axis in (0, 1):
        base = hyp
        for frac in (-0.5, -0.25, 0.25, 0.5):
            offset = list(base.offset)
            offset[axis] += frac
            better(replace(base, offset=tuple(offset)))
    result = _read(white, mean, box, hyp, shift, layout, max_list)
    result.update(z_search=float(z_search), scale=(hyp.fy * k, hyp.fx * k), hypothesis=(hyp.angle, hyp.mirror),
                  shift=shift)
    return result


def _read(white, mean, box, hyp: _Hypothesis, shift, layout: _Layout, max_list: int) -> dict:
    """Every block at the found alignment: bound chips demodulated by the binding recomputed from the
    content, sync chips weighted by |binding|; presence test and payload decoding."""
    canon_white = _resample(white, box, hyp)
    canon_raw = _resample(mean, box, hyp)
    sy, sx = shift
    nby = (canon_white.shape[0] - sy % vk.BLOCK) // vk.BLOCK
    nbx = (canon_white.shape[1] - sx % vk.BLOCK) // vk.BLOCK
    chips_sum = np.zeros(dk.CHIPS_PER_TILE)
    chips_weight = np.zeros(dk.CHIPS_PER_TILE)
    if nby >= 3 and nbx >= 3:
        coefs = np.empty((nby, nbx, dk.CHIPS_PER_BLOCK))
        dc = np.empty((nby, nbx))
        tile_index = np.empty((nby, nbx), np.int64)
        vk.read_blocks(canon_white, canon_raw, sy, sx, _BASIS, coefs, dc, tile_index)
        s = _binding(_binding_field(dc, tile_index, layout.binding_weights))
        chip_base = tile_index[..., None] * dk.CHIPS_PER_BLOCK + np.arange(dk.CHIPS_PER_BLOCK)
        is_bound = np.zeros(dk.CHIPS_PER_TILE, bool)
        is_bound[layout.bound_pos] = True
        weight = np.where(is_bound[chip_base], s[..., None], np.abs(s)[..., None])
        np.add.at(chips_sum, chip_base.ravel(), (coefs * weight).ravel())
        np.add.at(chips_weight, chip_base.ravel(), (weight * weight).ravel())
    chips = chips_sum / np.sqrt(np.maximum(chips_weight, 1e-12))
    return _finish(chips, layout, max_list)


def _coefficient_weights(chips: np.ndarray, layout: _Layout) -> np.ndarray:
    """Per-chip weights mu_c / sigma_c^2 of each carrier coefficient c (matched-filter combining),
    measured on the search chips only, so the held-out test stays calibrated."""
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


def _finish(chips: np.ndarray, layout: _Layout, max_list: int) -> dict:
    """Presence test on the held-out chips and payload decoding at the chosen alignment."""
    chips = chips * _coefficient_weights(chips, layout)
    z_test = _z(chips[layout.test_pos], layout.signs[layout.test_pos])
    soft = np.zeros(_PAYLOAD_CODE.coded_bits)
    np.add.at(soft, layout.coded_index, chips[layout.data_pos] * layout.signs[layout.data_pos])
    crc_ok, payload, decodes, checks, walks, rank = False, None, 0, 0, 0, None
    if ndtr(-z_test) < 1e-3:  # decode only what may be marked
        soft32 = soft.astype(np.float32)
        crc_ok, payload, _ = _PAYLOAD_CODE.decode(soft32)
        decodes = checks = 1
        rank = 0 if crc_ok else None
        if not crc_ok and max_list > 1 and z_test >= LIST_MIN_Z:
            ok, word, _, r = _PAYLOAD_CODE.decode_list(soft32, max_list)
            walks = 1
            checks += r if ok else max_list - 1
            if ok:
                crc_ok, payload, rank = True, word, int(r)
    return {
        "decodes": decodes,
        "crc_checks": checks,
        "list_walks": walks,
        "list_rank": rank,
        "z_test": z_test,
        "crc_ok": bool(crc_ok),
        "payload": int(payload) if crc_ok else None,
    }


def detect_frames(frames: Iterable, *, key: Key, pixel_format: str | None = None,
                  false_alarm_threshold: float = DEFAULT_FALSE_ALARM) -> Detection:
    """Read the watermark of ``key`` from frames of any size (cropped, rescaled, re-encoded)."""
    if isinstance(frames, np.ndarray) and frames.ndim in (2, 3) and (frames.ndim == 2 or frames.shape[-1] in (3, 4)):
        frames = [frames]  # one still image
    detector = VideoDetector(key, false_alarm_threshold=false_alarm_threshold)
    for frame in check_iterable(frames, "frames"):
        detector.add(frame, pixel_format=pixel_format)
    return detector.result()
