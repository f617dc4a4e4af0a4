"""Numba kernels for the video watermark: per-frame binning, warping, embedding, and the once-per-clip
resampling, folding and block reading of the detector.

Frames reach the kernels as flat 1-D C-contiguous uint8 views of the caller's buffer plus
(height, width, row_stride): padded rows (PyAV linesize) pass without a copy, and the inner loops stay
unit-stride where they can so LLVM vectorises them.

Coordinates are continuous with pixel i covering [i, i + 1) (its centre at i + 0.5), on every grid.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._dct_kernels import BLOCK, TILE
from ._dct_kernels import BLOCKS_PER_SIDE as TILE_BLOCKS

MASK_BLOCK = 8


@njit(cache=True, nogil=True, fastmath=True)
def bin_luma(pixels, height, width, stride, channels, w0, w1, w2, k, out, line):
    """Mean luma over k x k pixel blocks into out (float32, (height // k, width // k); trailing rows and
    columns that do not fill a block are left out). line: float32 scratch, >= 2 * width."""
    oh, ow = out.shape
    n = ow * k
    k0, k1, k2 = np.float32(w0 / 256.0), np.float32(w1 / 256.0), np.float32(w2 / 256.0)
    inv = np.float32(1.0 / (k * k))
    for v in range(oh):
        for x in range(n):
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
        for j in range(1, k):
            phase = line[j : n : k]
            for u in range(ow):
                binned[u] += phase[u]
        o_row = out[v]
        for u in range(ow):
            o_row[u] = binned[u] * inv


@njit(cache=True, nogil=True, fastmath=True)
def warp_similarity(src, scale, shift_y, shift_x, out, valid):
    """out(q) = src(p) with q = scale * (p - c) + c + shift (c: the centre of src), bilinear; valid(q) = 1
    where p falls inside src, else 0 (out 0). out, valid: float32, src's shape."""
    h, w = src.shape
    cy, cx = h / 2.0, w / 2.0
    inv = 1.0 / scale
    for v in range(h):
        py = (v + 0.5 - cy - shift_y) * inv + cy - 0.5
        y0f = math.floor(py)
        wy = py - y0f
        y0 = int(y0f)
        o_row = out[v]
        m_row = valid[v]
        if y0 < 0 or y0 + 1 >= h:
            for u in range(w):
                o_row[u] = 0.0
                m_row[u] = 0.0
            continue
        r0 = src[y0]
        r1 = src[y0 + 1]
        for u in range(w):
            px = (u + 0.5 - cx - shift_x) * inv + cx - 0.5
            x0f = math.floor(px)
            wx = px - x0f
            x0 = int(x0f)
            if x0 < 0 or x0 + 1 >= w:
                o_row[u] = 0.0
                m_row[u] = 0.0
            else:
                o_row[u] = (1.0 - wy) * ((1.0 - wx) * r0[x0] + wx * r0[x0 + 1]) + wy * (
                    (1.0 - wx) * r1[x0] + wx * r1[x0 + 1])
                m_row[u] = 1.0


@njit(cache=True, nogil=True, fastmath=True)
def accumulate(values, valid, total, count):
    h, w = values.shape
    for v in range(h):
        for u in range(w):
            total[v, u] += values[v, u] * valid[v, u]
            count[v, u] += valid[v, u]


@njit(cache=True, nogil=True, fastmath=True)
def resample_affine(image, m00, m01, m10, m11, t0, t1, out):
    """out[v, u] = image at (y, x) = (m00 (v + .5) + m01 (u + .5) + t0, m10 (v + .5) + m11 (u + .5) + t1),
    bilinear; 0 outside the image (an edge repeated would add stripes to the residual)."""
    h, w = image.shape
    oh, ow = out.shape
    for v in range(oh):
        for u in range(ow):
            y = m00 * (v + 0.5) + m01 * (u + 0.5) + t0 - 0.5
            x = m10 * (v + 0.5) + m11 * (u + 0.5) + t1 - 0.5
            y0f = math.floor(y)
            x0f = math.floor(x)
            y0 = int(y0f)
            x0 = int(x0f)
            if y0 < 0 or x0 < 0 or y0 + 1 >= h or x0 + 1 >= w:
                out[v, u] = 0.0
                continue
            wy = y - y0f
            wx = x - x0f
            out[v, u] = (1.0 - wy) * ((1.0 - wx) * image[y0, x0] + wx * image[y0, x0 + 1]) + wy * (
                (1.0 - wx) * image[y0 + 1, x0] + wx * image[y0 + 1, x0 + 1])


@njit(cache=True, nogil=True, fastmath=True)
def fold(image, size, out, count):
    """Fold an image onto a size x size torus: out[v % size, u % size] += image[v, u]."""
    h, w = image.shape
    for v in range(h):
        tv = v % size
        for u in range(w):
            out[tv, u % size] += image[v, u]
            count[tv, u % size] += 1.0


@njit(cache=True, nogil=True)
def footprint_means(sat, k, ay, by, ax, bx, iy0, ix0, out):
    """Mean luma over the footprint of every canonical block (iy0 + i, ix0 + j) in out, from the summed-area
    table sat ((h + 1) x (w + 1) of an image binned by k) of a frame whose canonical coordinates are
    c = a * p + b (frame pixels p). NaN where the footprint leaves the image."""
    nh, nw = out.shape
    h = sat.shape[0] - 1
    w = sat.shape[1] - 1
    for i in range(nh):
        c0 = (iy0 + i) * BLOCK
        y0 = (c0 - by) / ay / k
        y1 = (c0 + BLOCK - by) / ay / k
        for j in range(nw):
            d0 = (ix0 + j) * BLOCK
            x0 = (d0 - bx) / ax / k
            x1 = (d0 + BLOCK - bx) / ax / k
            if y0 < 0.0 or x0 < 0.0 or y1 > h or x1 > w or y1 <= y0 or x1 <= x0:
                out[i, j] = np.nan
                continue
            out[i, j] = (_sat_at(sat, y1, x1) - _sat_at(sat, y0, x1) - _sat_at(sat, y1, x0)
                         + _sat_at(sat, y0, x0)) / ((y1 - y0) * (x1 - x0))


@njit(cache=True, nogil=True, inline="always")
def _sat_at(sat, y, x):
    """The summed-area table at a fractional corner (bilinear between integer corners)."""
    h = sat.shape[0] - 1
    w = sat.shape[1] - 1
    yi = min(int(y), h - 1)
    xi = min(int(x), w - 1)
    fy = y - yi
    fx = x - xi
    return (1.0 - fy) * ((1.0 - fx) * sat[yi, xi] + fx * sat[yi, xi + 1]) + fy * (
        (1.0 - fx) * sat[yi + 1, xi] + fx * sat[yi + 1, xi + 1])


# Perceptual mask: gain (luma levels RMS) = clamp(floor + slope * activity, floor, ceil), where activity
# is the block's mean absolute gradient: strong in texture, weak in flat areas.


@njit(cache=True, nogil=True, fastmath=True)
def mask_gains(pixels, height, width, stride, channels, floor, slope, ceil, gains):
    """Per-pixel mask gain (constant over 8 x 8 blocks) into gains (strips x width).

    Activity = mean absolute horizontal + vertical difference of the texture proxy (luma for a plane,
    green for packed RGB-like pixels: green carries 59% of luma, and the mask only ranks texture),
    measured on two row pairs of each 8-row strip (rows 0-1 and 4-5)."""
    activity = np.zeros(width, dtype=np.int32)
    nb = (width + MASK_BLOCK - 1) // MASK_BLOCK
    full = width // MASK_BLOCK
    block_gain = np.empty(nb, dtype=np.float32)
    fl, ce = np.float32(floor), np.float32(ceil)
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
            block_gain[b] = min(fl + norm * np.float32(total), ce)
        if full < nb:
            total = 0
            for x in range(full * MASK_BLOCK, width):
                total += activity[x]
            g = fl + np.float32(slope / (2.0 * pairs * (width - full * MASK_BLOCK))) * np.float32(total)
            block_gain[full] = min(g, ce)
        g_row = gains[s]
        for b in range(full):
            v = block_gain[b]
            for j in range(MASK_BLOCK):
                g_row[b * MASK_BLOCK + j] = v
        for x in range(full * MASK_BLOCK, width):
            g_row[x] = block_gain[full]


@njit(cache=True, nogil=True)
def summed_area(image, sat):
    """sat[i, j] = sum of image[:i, :j] (float64, (h + 1) x (w + 1))."""
    h, w = image.shape
    for j in range(w + 1):
        sat[0, j] = 0.0
    for i in range(h):
        acc = 0.0
        sat[i + 1, 0] = 0.0
        for j in range(w):
            acc += image[i, j]
            sat[i + 1, j + 1] = sat[i, j + 1] + acc


@njit(cache=True, nogil=True)
def render_canonical(sync_tile, bound_tile, signs, iy0, ix0, i0, j0, out):
    """The pattern at canonical pixels (i0 + i, j0 + j): |s| sync + s bound, s the binding of the pixel's
    block (signs[block row - iy0, block column - ix0]; 0 off the grid)."""
    nb_y, nb_x = signs.shape
    oh, ow = out.shape
    for i in range(oh):
        ci = i0 + i
        ty = ci % TILE
        br = ci // BLOCK - iy0
        for j in range(ow):
            cj = j0 + j
            bc = cj // BLOCK - ix0
            s = signs[br, bc] if (0 <= br < nb_y and 0 <= bc < nb_x) else np.float32(0.0)
            tx = cj % TILE
            out[i, j] = abs(s) * sync_tile[ty, tx] + s * bound_tile[ty, tx]


@njit(cache=True, nogil=True, fastmath=True)
def column_taps(width, ax, bx, j0, ncols, col0, col1, colw):
    """Per frame column x: the two canonical columns (relative to j0, clamped to [0, ncols)) and the
    weight of the second for a bilinear sample at canonical x = ax * (x + 0.5) + bx."""
    for x in range(width):
        c = ax * (x + 0.5) + bx - 0.5 - j0
        f = math.floor(c)
        i = int(f)
        col0[x] = min(max(i, 0), ncols - 1)
        col1[x] = min(max(i + 1, 0), ncols - 1)
        colw[x] = np.float32(c - f)


@njit(cache=True, nogil=True, fastmath=True)
def embed_plane(pixels, height, width, stride, channels, canonical, ay, by, i0, col0, col1, colw, gains,
                max_rms, strength, rows):
    """Add the pattern (rendered at canonical resolution) to luma in place, bilinear at frame resolution,
    scaled by the mask gains and held to max_rms added RMS; rounding half up, clamping to [0, 255].

    Two separable passes: each canonical row interpolated to the frame's columns (rows: scratch,
    canonical rows x width), then each frame row blended from two of those, fused with the add: the
    inner loops are contiguous. channels >= 3: packed pixels, the same delta on the first three bytes of
    each pixel (luma moves, chroma stays), none on a fourth (alpha)."""
    nrows = canonical.shape[0]
    for i in range(nrows):
        src = canonical[i]
        dst = rows[i]
        for x in range(width):
            w = colw[x]
            dst[x] = (1 - w) * src[col0[x]] + w * src[col1[x]]
    # The frame's added power before any budget, on every 4th row and column.
    power = 0.0
    n = 0
    for y in range(0, height, 4):
        c = ay * (y + 0.5) + by - 0.5 - i0
        r = min(max(int(math.floor(c + 0.5)), 0), nrows - 1)
        g = gains[y // MASK_BLOCK]
        hr = rows[r]
        for x in range(0, width, 4):
            v = g[x] * hr[x]
            power += v * v
            n += 1
    rms = math.sqrt(power / n) if n > 0 else 0.0
    scale = np.float32(strength * (min(1.0, max_rms / rms) if rms > 0 else 1.0))
    zero, top, half = np.float32(0.0), np.float32(255.49), np.float32(0.5)
    delta = np.empty(width, np.float32)
    for y in range(height):
        c = ay * (y + 0.5) + by - 0.5 - i0
        f = math.floor(c)
        r0 = min(max(int(f), 0), nrows - 1)
        r1 = min(max(int(f) + 1, 0), nrows - 1)
        wy = np.float32(c - f)
        a0 = rows[r0]
        a1 = rows[r1]
        g = gains[y // MASK_BLOCK]
        for x in range(width):
            delta[x] = g[x] * scale * ((1 - wy) * a0[x] + wy * a1[x])
        if channels == 1:
            row = pixels[y * stride : y * stride + width]
            for x in range(width):
                row[x] = np.uint8(min(max(np.float32(row[x]) + delta[x] + half, zero), top))
        else:
            row = pixels[y * stride : y * stride + width * channels]
            for ch in range(3):
                lane = row[ch::channels]
                for x in range(width):
                    lane[x] = np.uint8(min(max(np.float32(lane[x]) + delta[x] + half, zero), top))


@njit(cache=True, nogil=True)
def read_blocks(white, raw, shift_y, shift_x, basis, coefs, dc, tile_index):
    """Forward DCT of every whole canonical block of ``white`` on the carrier coefficients, aligned to the
    tile phase (shift_y, shift_x) found by the search (tile coordinate of canonical pixel v is
    (v - shift) mod TILE), and the mean of ``raw`` over the same block.

    coefs: (nby, nbx, ncoef); dc: (nby, nbx); tile_index: (nby, nbx) int64, the block's index in the tile
    (row * TILE_BLOCKS + column). Blocks start at v0 = shift mod BLOCK."""
    nby, nbx, ncoef = coefs.shape
    oy = shift_y % BLOCK
    ox = shift_x % BLOCK
    for i in range(nby):
        y0 = oy + i * BLOCK
        ty = ((y0 - shift_y) % TILE) // BLOCK
        for j in range(nbx):
            x0 = ox + j * BLOCK
            tx = ((x0 - shift_x) % TILE) // BLOCK
            tile_index[i, j] = ty * TILE_BLOCKS + tx
            for c in range(ncoef):
                acc = 0.0
                for y in range(BLOCK):
                    for x in range(BLOCK):
                        acc += white[y0 + y, x0 + x] * basis[c, y, x]
                coefs[i, j, c] = acc
            m = 0.0
            for y in range(BLOCK):
                for x in range(BLOCK):
                    m += raw[y0 + y, x0 + x]
            dc[i, j] = m / (BLOCK * BLOCK)
