"""Numba kernels for the block-DCT watermark layout.

The watermark lives in a tile of TILE x TILE canonical pixels made of BLOCK x BLOCK blocks. In every
block a fixed set of low-to-mid frequency DCT coefficients carries one chip each (+/-1 times a
weight). Embedding synthesises the tile by inverse DCT of those coefficients (done once per key and
payload: the DCT is linear, so adding the synthesised pattern is the same as adding the chips to the
coefficients of every block). Detection takes the forward DCT of each block of the folded residual
and reads the chips back.

Kernels are pure functions over arrays (no Python objects, no raising, caller-allocated outputs).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

BLOCK = 8
TILE = 128
BLOCKS_PER_SIDE = TILE // BLOCK
# (row frequency, column frequency): the low zig-zag band, below what H.264 at CRF 28-35 quantises away.
# (2,2) is left out: diagonal detail is the first thing encoders drop (measured: half the SNR of the rest).
COEFFICIENTS = np.array(
    [(0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1), (0, 3), (3, 0), (1, 3), (3, 1)], dtype=np.int64
)
CHIPS_PER_BLOCK = len(COEFFICIENTS)
CHIPS_PER_TILE = BLOCKS_PER_SIDE * BLOCKS_PER_SIDE * CHIPS_PER_BLOCK


def dct_basis() -> np.ndarray:
    """Orthonormal 2-D DCT-II basis images of the carrier coefficients: (CHIPS_PER_BLOCK, BLOCK, BLOCK)."""
    n = np.arange(BLOCK)
    scale = np.where(np.arange(BLOCK) == 0, math.sqrt(1.0 / BLOCK), math.sqrt(2.0 / BLOCK))
    cos = scale[:, None] * np.cos(np.pi * (2 * n[None, :] + 1) * np.arange(BLOCK)[:, None] / (2 * BLOCK))
    basis = np.empty((CHIPS_PER_BLOCK, BLOCK, BLOCK), dtype=np.float64)
    for c, (u, v) in enumerate(COEFFICIENTS):
        basis[c] = np.outer(cos[u], cos[v])
    return basis


@njit(cache=True, nogil=True)
def synthesize_tile(chips, basis, out):
    """Inverse DCT of the carrier chips into one tile. chips: (BLOCKS_PER_SIDE**2 * CHIPS_PER_BLOCK,)."""
    nb = out.shape[0] // BLOCK
    ncoef = basis.shape[0]
    for by in range(nb):
        for bx in range(nb):
            base = (by * nb + bx) * ncoef
            for y in range(BLOCK):
                for x in range(BLOCK):
                    acc = 0.0
                    for c in range(ncoef):
                        acc += chips[base + c] * basis[c, y, x]
                    out[by * BLOCK + y, bx * BLOCK + x] = acc


@njit(cache=True, nogil=True)
def extract_chips(tile, basis, shift_y, shift_x, out):
    """Forward DCT of every block of a (cyclically shifted) tile onto the carrier coefficients.

    Reads tile[(y + shift_y) % TILE, (x + shift_x) % TILE], so the shift that aligns the tile's grid
    with the embedder's is applied without copying.
    """
    size = tile.shape[0]
    nb = size // BLOCK
    ncoef = basis.shape[0]
    for by in range(nb):
        for bx in range(nb):
            base = (by * nb + bx) * ncoef
            for c in range(ncoef):
                out[base + c] = 0.0
            for y in range(BLOCK):
                ty = (by * BLOCK + y + shift_y) % size
                for x in range(BLOCK):
                    v = tile[ty, (bx * BLOCK + x + shift_x) % size]
                    for c in range(ncoef):
                        out[base + c] += v * basis[c, y, x]
