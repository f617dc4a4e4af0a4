"""Slow, obvious NumPy implementations of the label blends (the test and bench oracle for _core)."""

from __future__ import annotations

import numpy as np


def _div255(v: np.ndarray) -> np.ndarray:
    return ((v + 128 + ((v + 128) >> 8)) >> 8).astype(np.uint8)


def blend(p: np.ndarray, colour, alpha: np.ndarray) -> np.ndarray:
    """round((p * (255 - a) + c * a) / 255) on uint8 arrays; alpha broadcasts over trailing channels."""
    a = alpha.astype(np.uint32)
    if p.ndim == 3:
        a = a[..., None]
    c = np.asarray(colour, np.uint32)
    return _div255(p.astype(np.uint32) * (255 - a) + c * a)


def _clip(frame_h, frame_w, lh, lw, x, y):
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + lw, frame_w), min(y + lh, frame_h)
    return x0, y0, x1, y1


def composite_packed(frame: np.ndarray, text: np.ndarray, box: np.ndarray, x: int, y: int, tc, bc) -> None:
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = _clip(h, w, *text.shape, x, y)
    if x0 >= x1 or y0 >= y1:
        return
    region = frame[y0:y1, x0:x1]
    ta, ba = text[y0 - y : y1 - y, x0 - x : x1 - x], box[y0 - y : y1 - y, x0 - x : x1 - x]
    region[...] = blend(blend(region, bc, ba), tc, ta)


def chroma_alpha(mask: np.ndarray, x: int, y: int, luma_h: int, luma_w: int):
    """The mask placed on the luma grid, averaged (rounded) over each 2x2 block's in-frame pixels.

    Returns (alpha, cy0, cx0): alpha for the chroma samples [cy0, cy0 + rows) x [cx0, cx0 + cols) the label
    touches (None if it touches none)."""
    x0, y0, x1, y1 = _clip(luma_h, luma_w, *mask.shape, x, y)
    if x0 >= x1 or y0 >= y1:
        return None, 0, 0
    cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2
    local = np.zeros((2 * (cy1 - cy0), 2 * (cx1 - cx0)), np.uint32)  # luma rows 2*cy0.., cols 2*cx0..
    local[y0 - 2 * cy0 : y1 - 2 * cy0, x0 - 2 * cx0 : x1 - 2 * cx0] = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    count = np.zeros_like(local)
    count[: min(luma_h, 2 * cy1) - 2 * cy0, : min(luma_w, 2 * cx1) - 2 * cx0] = 1  # in-frame luma pixels
    rows, cols = cy1 - cy0, cx1 - cx0
    s = local.reshape(rows, 2, cols, 2).sum(axis=(1, 3))
    n = count.reshape(rows, 2, cols, 2).sum(axis=(1, 3))
    return (s + n // 2) // n, cy0, cx0


def composite_yuv420p(yp, up, vp, text, box, x, y, tyuv, byuv) -> None:
    h, w = yp.shape
    composite_packed(yp, text, box, x, y, [tyuv[0]], [byuv[0]])
    at, cy0, cx0 = chroma_alpha(text, x, y, h, w)
    ab, _, _ = chroma_alpha(box, x, y, h, w)
    if at is None:
        return
    rows, cols = at.shape
    for plane, i in ((up, 1), (vp, 2)):
        region = plane[cy0 : cy0 + rows, cx0 : cx0 + cols]
        region[...] = blend(blend(region, [byuv[i]], ab), [tyuv[i]], at)
