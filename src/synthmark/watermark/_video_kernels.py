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


@njit(cache=True, nogil=True)
def _strip_gains(luma, row0, row1, width, stride, channels, w0, w1, w2, floor, slope, ceil, strength, gains_q):
    """Mask gains (fixed point, x256/PATTERN_SCALE) for the 8-px blocks of rows [row0, row1).

    Activity is measured on every other row (horizontal and vertical absolute differences of luma):
    half the reads, the same ranking of texture."""
    nbx = (width + MASK_BLOCK - 1) // MASK_BLOCK
    acc = np.zeros(nbx, dtype=np.int32)
    cnt = np.zeros(nbx, dtype=np.int32)
    for y in range(row0, row1, 2):
        if y + 1 >= row1 and row1 - row0 > 1:
            break
        base = y * stride
        below = base + stride if y + 1 < row1 else base
        for x in range(width - 1):
            p = base + x * channels
            if channels == 1:
                a = np.int32(luma[p])
                b = np.int32(luma[p + 1])
                c = np.int32(luma[below + x])
            else:
                a = (w0 * np.int32(luma[p]) + w1 * np.int32(luma[p + 1]) + w2 * np.int32(luma[p + 2])) >> 8
                q = p + channels
                b = (w0 * np.int32(luma[q]) + w1 * np.int32(luma[q + 1]) + w2 * np.int32(luma[q + 2])) >> 8
                r = below + x * channels
                c = (w0 * np.int32(luma[r]) + w1 * np.int32(luma[r + 1]) + w2 * np.int32(luma[r + 2])) >> 8
            acc[x >> 3] += abs(b - a) + abs(c - a)
            cnt[x >> 3] += 2
    for bx in range(nbx):
        activity = acc[bx] / cnt[bx] if cnt[bx] > 0 else 0.0
        g = floor + slope * activity
        if g > ceil:
            g = ceil
        gains_q[bx] = np.int32(round(g * strength * 256.0 / PATTERN_SCALE))


@njit(cache=True, nogil=True)
def embed_plane(pixels, height, width, stride, channels, w0, w1, w2, pattern, floor, slope, ceil, strength):
    """Add the masked pattern to luma, in place.

    channels == 1: pixels is a luma plane. channels >= 3: packed RGB-like pixels; the same delta goes to
    the first three channels, which changes luma by delta and leaves chroma alone. (w0, w1, w2) are the
    channels' luma weights x256."""
    nbx = (width + MASK_BLOCK - 1) // MASK_BLOCK
    gains_q = np.empty(nbx, dtype=np.int32)
    row_gain = np.empty(width, dtype=np.int32)
    for row0 in range(0, height, MASK_BLOCK):
        row1 = min(row0 + MASK_BLOCK, height)
        _strip_gains(pixels, row0, row1, width, stride, channels, w0, w1, w2, floor, slope, ceil, strength, gains_q)
        for x in range(width):
            row_gain[x] = gains_q[x >> 3]
        for y in range(row0, row1):
            base = y * stride
            pb = y * width
            if channels == 1:
                for x in range(width):
                    d = (row_gain[x] * np.int32(pattern[pb + x]) + 128) >> 8
                    v = np.int32(pixels[base + x]) + d
                    pixels[base + x] = min(max(v, 0), 255)
            else:
                for x in range(width):
                    d = (row_gain[x] * np.int32(pattern[pb + x]) + 128) >> 8
                    p = base + x * channels
                    for c in range(3):
                        v = np.int32(pixels[p + c]) + d
                        pixels[p + c] = min(max(v, 0), 255)


@njit(cache=True, nogil=True)
def accumulate_plane(pixels, height, width, stride, channels, w0, w1, w2, acc):
    """acc[y, x] += luma of the frame (float32 accumulator of the detector)."""
    for y in range(height):
        base = y * stride
        if channels == 1:
            for x in range(width):
                acc[y, x] += pixels[base + x]
        else:
            for x in range(width):
                p = base + x * channels
                acc[y, x] += (w0 * np.float32(pixels[p]) + w1 * np.float32(pixels[p + 1]) + w2 * np.float32(pixels[p + 2])) * (
                    np.float32(1.0 / 256.0)
                )


@njit(cache=True, nogil=True)
def resample(image, fy, fx, out):
    """out[v, u] = image at frame position ((v + 0.5) * fy - 0.5, (u + 0.5) * fx - 0.5), bilinear, edge-clamped."""
    h, w = image.shape
    oh, ow = out.shape
    for v in range(oh):
        sy = (v + 0.5) * fy - 0.5
        if sy < 0.0:
            sy = 0.0
        y0 = int(sy)
        if y0 > h - 1:
            y0 = h - 1
        y1 = min(y0 + 1, h - 1)
        wy = sy - y0
        for u in range(ow):
            sx = (u + 0.5) * fx - 0.5
            if sx < 0.0:
                sx = 0.0
            x0 = int(sx)
            if x0 > w - 1:
                x0 = w - 1
            x1 = min(x0 + 1, w - 1)
            wx = sx - x0
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
