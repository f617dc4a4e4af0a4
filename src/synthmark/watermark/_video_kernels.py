"""Numba kernels for the video watermark: per-frame embedding and accumulation, and the once-per-clip
resampling and folding of the detector.

Frames reach the kernels as flat 1-D C-contiguous uint8 views of the caller's buffer plus
(height, width, row_stride): padded rows (PyAV linesize) pass without a copy, and the inner loops stay
unit-stride so LLVM vectorises them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# The frame pattern is stored as int8 in units of 1/PATTERN_SCALE of its RMS (unit RMS -> +/-24).
PATTERN_SCALE = 24.0
# Perceptual mask: gain (luma levels RMS) = clamp(FLOOR + SLOPE * activity, FLOOR, CEIL), where activity
# is the block's mean absolute gradient: strong in texture, weak in flat areas.
MASK_BLOCK = 8


@njit(cache=True, nogil=True)
def render_pattern(tile, fy, fx, height, width, out):
    """Tile the canonical pattern over a height x width frame at scale (fy, fx) frame px per canonical px,
    bilinear, periodic. out: (height * width,) int8 in units of 1/PATTERN_SCALE."""
    size = tile.shape[0]
    for y in range(height):
        sy = (y + 0.5) / fy - 0.5
        y0f = math.floor(sy)
        wy = sy - y0f
        y0 = int(y0f) % size
        y1 = (y0 + 1) % size
        for x in range(width):
            sx = (x + 0.5) / fx - 0.5
            x0f = math.floor(sx)
            wx = sx - x0f
            x0 = int(x0f) % size
            x1 = (x0 + 1) % size
            v = (1.0 - wy) * ((1.0 - wx) * tile[y0, x0] + wx * tile[y0, x1]) + wy * (
                (1.0 - wx) * tile[y1, x0] + wx * tile[y1, x1]
            )
            q = round(v * PATTERN_SCALE)
            if q > 127:
                q = 127
            elif q < -127:
                q = -127
            out[y * width + x] = q


# Inner loops work on 1-D row slices: with unit-stride slices LLVM vectorises them (measured 8x faster
# than indexing the flat buffer with computed offsets).


@njit(cache=True, nogil=True, fastmath=True)
def _mask_gains(pixels, height, width, stride, channels, floor, slope, ceil, strength, gains):
    """Per-pixel mask gain (constant over 8 x 8 blocks, in pattern units) into gains (strips x width);
    returns the mean added power (pattern units squared) before any RMS budget.

    Activity = mean absolute horizontal + vertical difference of the texture proxy (luma for a plane,
    green for packed RGB-like pixels: green carries 59% of luma, and the mask only ranks texture),
    measured on two row pairs of each 8-row strip (rows 0-1 and 4-5): a quarter of the reads, the same
    ranking of texture. Integer differences and fixed 8-wide block loops keep every loop vectorised."""
    activity = np.zeros(width, dtype=np.int32)
    nb = (width + MASK_BLOCK - 1) // MASK_BLOCK
    full = width // MASK_BLOCK
    block_gain = np.empty(nb, dtype=np.float32)
    scale = np.float32(strength / PATTERN_SCALE)
    fl, ce = np.float32(floor), np.float32(ceil)
    power = 0.0
    for s in range(gains.shape[0]):
        row0 = s * MASK_BLOCK
        row1 = min(row0 + MASK_BLOCK, height)
        for x in range(width):
            activity[x] = 0
        pairs = 0
        for y in range(row0, row1, 4):
            y1 = min(y + 1, row1 - 1)
            if channels == 1:
                ra = pixels[y * stride : y * stride + width]
                rb = pixels[y1 * stride : y1 * stride + width]
            else:
                ra = pixels[y * stride + 1 : y * stride + width * channels : channels]
                rb = pixels[y1 * stride + 1 : y1 * stride + width * channels : channels]
            for x in range(width - 1):
                a = np.int32(ra[x])
                activity[x] += abs(np.int32(ra[x + 1]) - a) + abs(np.int32(rb[x]) - a)
            pairs += 1
        norm = np.float32(slope / (2.0 * pairs * MASK_BLOCK))
        for b in range(full):
            total = 0
            for j in range(MASK_BLOCK):
                total += activity[b * MASK_BLOCK + j]
            block_gain[b] = min(fl + norm * np.float32(total), ce) * scale
        if full < nb:  # a last, partial block: the mean over its real width
            total = 0
            for x in range(full * MASK_BLOCK, width):
                total += activity[x]
            g = fl + np.float32(slope / (2.0 * pairs * (width - full * MASK_BLOCK))) * np.float32(total)
            block_gain[full] = min(g, ce) * scale
        g_row = gains[s]
        strip_power = 0.0
        for b in range(full):
            v = block_gain[b]
            strip_power += MASK_BLOCK * v * v
            for j in range(MASK_BLOCK):
                g_row[b * MASK_BLOCK + j] = v
        for x in range(full * MASK_BLOCK, width):
            v = block_gain[full]
            strip_power += v * v
            g_row[x] = v
        power += (row1 - row0) * strip_power
    return power / (height * width)


@njit(cache=True, nogil=True, fastmath=True)
def embed_plane(pixels, height, width, stride, channels, pattern, floor, slope, ceil, strength, max_rms):
    """Add the masked pattern to luma, in place, rounding half up and clamping to [0, 255].

    channels == 1: pixels is a luma plane. channels >= 3: packed RGB-like pixels, with the pattern given
    per byte (height * width * channels int8: the same value on the first three channels, 0 on a fourth,
    alpha), so the same delta changes R, G and B: luma moves by delta, chroma stays. Two passes: the
    mask of every strip first, then, if the frame's mean added power would exceed max_rms^2 (very
    textured frames), all gains are scaled down to meet it."""
    strips = (height + MASK_BLOCK - 1) // MASK_BLOCK
    gains = np.empty((strips, width), dtype=np.float32)
    power = _mask_gains(pixels, height, width, stride, channels, floor, slope, ceil, strength, gains)
    rms = math.sqrt(power) * PATTERN_SCALE  # luma levels, pattern of unit RMS
    if rms > max_rms:
        factor = np.float32(max_rms / rms)
        for s in range(strips):
            g = gains[s]
            for x in range(width):
                g[x] *= factor
    zero, top, half = np.float32(0.0), np.float32(255.49), np.float32(0.5)
    n = width * channels
    byte_gain = np.empty(n, dtype=np.float32)  # packed pixels: the strip's gains per byte of a row
    for y in range(height):  # one fused, contiguous pass per row: read, add, round, clamp, store
        g = gains[y // MASK_BLOCK]
        prow = pattern[y * n : (y + 1) * n]
        row = pixels[y * stride : y * stride + n]
        if channels == 1:
            for x in range(width):
                row[x] = np.uint8(min(max(np.float32(row[x]) + g[x] * np.float32(prow[x]) + half, zero), top))
        else:
            if y % MASK_BLOCK == 0:
                for c in range(channels):
                    lane = byte_gain[c::channels]
                    for x in range(width):
                        lane[x] = g[x]
            for i in range(n):
                row[i] = np.uint8(min(max(np.float32(row[i]) + byte_gain[i] * np.float32(prow[i]) + half, zero), top))


# Detector slots keep binned luma as uint16 fixed point: value * SLOT_SCALE (1/256 level steps).
SLOT_SCALE = 256.0


@njit(cache=True, nogil=True, fastmath=True)
def bin_luma(pixels, height, width, stride, channels, w0, w1, w2, k, total, slot, slot_frames, line):
    """Mean luma over k x k pixel blocks: added to total (float32, (height // k, width // k); trailing
    rows/columns that do not fill a block are left out) and averaged into slot (uint16 fixed point, the
    mean of the slot_frames frames it already holds and this one). line: float32 scratch, >= 2 * width."""
    oh, ow = total.shape
    n = ow * k
    k0, k1, k2 = np.float32(w0 / 256.0), np.float32(w1 / 256.0), np.float32(w2 / 256.0)
    inv = np.float32(1.0 / (k * k))
    keep = np.float32(slot_frames / (slot_frames + 1.0))
    new = np.float32(SLOT_SCALE / (slot_frames + 1.0))
    for v in range(oh):
        for x in range(n):  # the k rows summed first (contiguous, vectorised), binned across once
            line[x] = 0.0
        for t in range(k):
            y = v * k + t
            if channels == 1:
                row = pixels[y * stride : y * stride + n]
                for x in range(n):
                    line[x] += np.float32(row[x])
            else:
                row = pixels[y * stride : y * stride + n * channels]
                r, g, b = row[0::channels], row[1::channels], row[2::channels]
                for x in range(n):
                    line[x] += k0 * np.float32(r[x]) + k1 * np.float32(g[x]) + k2 * np.float32(b[x])
        binned = line[n : n + ow]
        for u in range(ow):
            binned[u] = line[u * k]
        for j in range(1, k):  # one strided slice per phase: LLVM vectorises this form
            phase = line[j : n : k]
            for u in range(ow):
                binned[u] += phase[u]
        t_row = total[v]
        s_row = slot[v]
        for u in range(ow):
            value = binned[u] * inv
            t_row[u] += value
            s_row[u] = np.uint16(keep * np.float32(s_row[u]) + new * value + np.float32(0.5))


@njit(cache=True, nogil=True, inline="always")
def _edge_clamped(position, n):
    """Bilinear taps (i0, i1, weight of i1) for a sample position on an axis of n pixels, edge-clamped."""
    if position < 0.0:
        position = 0.0
    i0 = min(int(position), n - 1)
    return i0, min(i0 + 1, n - 1), position - i0


@njit(cache=True, nogil=True)
def resample(image, fy, fx, oy, ox, out):
    """out[v, u] = image at frame position ((v + 0.5 + oy) * fy - 0.5, (u + 0.5 + ox) * fx - 0.5), bilinear,
    edge-clamped. (oy, ox) shift the canonical grid by a fraction of a canonical pixel."""
    h, w = image.shape
    oh, ow = out.shape
    for v in range(oh):
        y0, y1, wy = _edge_clamped((v + 0.5 + oy) * fy - 0.5, h)
        for u in range(ow):
            x0, x1, wx = _edge_clamped((u + 0.5 + ox) * fx - 0.5, w)
            out[v, u] = (1.0 - wy) * ((1.0 - wx) * image[y0, x0] + wx * image[y0, x1]) + wy * (
                (1.0 - wx) * image[y1, x0] + wx * image[y1, x1]
            )


@njit(cache=True, nogil=True)
def fold(image, size, out, count):
    """Fold an image onto a size x size torus: out[v % size, u % size] += image[v, u]."""
    h, w = image.shape
    for v in range(h):
        tv = v % size
        for u in range(w):
            out[tv, u % size] += image[v, u]
            count[tv, u % size] += 1.0
