"""Global motion between two luma images: a similarity (zoom about the centre + translation).

Used by both sides of the video mark: the embedder moves its pattern with the content it tracks, and
the detector aligns frames on their content before it sums them, so the two see the same motion.

Method: phase correlation of a grid of Hann-windowed patches (one batched FFT), a sub-pixel peak per
patch, then a weighted least-squares fit of translation + zoom to the patch displacements with one
round of outlier rejection. Patches whose correlation peak is weak (flat areas, occlusions, a cut)
drop out; too few reliable patches means "no motion found" (a scene cut, or nothing to track).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

# A patch counts when its phase-correlation peak holds at least this share of the correlation energy
# (the largest of pure noise's peaks within the searched shifts is ~0.06 for 64 x 64 patches; a clean
# shift gives 0.3-0.9).
MIN_PEAK = 0.08
MIN_PATCHES = 3
# Displacements off the fitted model by more than this (pixels of the images given) are outliers.
OUTLIER_PX = 0.75


@dataclass(frozen=True)
class Similarity:
    """q = scale * (p - centre) + centre + shift, in pixels of the images it was measured on
    (p, q: (y, x) of pixel-centre coordinates, pixel i covering [i, i + 1))."""

    scale: float = 1.0
    shift_y: float = 0.0
    shift_x: float = 0.0

    def then(self, other: "Similarity") -> "Similarity":
        """other applied after self (both about the same centre)."""
        return Similarity(other.scale * self.scale, other.scale * self.shift_y + other.shift_y,
                          other.scale * self.shift_x + other.shift_x)

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.shift_y == 0.0 and self.shift_x == 0.0


IDENTITY = Similarity()


def _patch_grid(height: int, width: int, size: int) -> list[tuple[int, int]]:
    rows = 3 if height >= 3 * size else (2 if height >= 2 * size else 1)
    cols = 4 if width >= 4 * size else max(1, min(3, width // size))
    ys = np.linspace(0, height - size, rows + 2)[1:-1] if rows > 1 else [(height - size) / 2]
    xs = np.linspace(0, width - size, cols + 2)[1:-1] if cols > 1 else [(width - size) / 2]
    return [(int(round(y)), int(round(x))) for y in ys for x in xs]


_WINDOWS: dict[int, np.ndarray] = {}


def _window(size: int) -> np.ndarray:
    w = _WINDOWS.get(size)
    if w is None:
        h = np.hanning(size + 2)[1:-1].astype(np.float32)
        w = _WINDOWS[size] = np.outer(h, h)
    return w


def _subpixel(corr: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    n0, n1 = corr.shape

    def vertex(a, b, c):
        d = a - 2 * b + c
        return 0.5 * (a - c) / d if d < 0 else 0.0

    dy = vertex(corr[(iy - 1) % n0, ix], corr[iy, ix], corr[(iy + 1) % n0, ix])
    dx = vertex(corr[iy, (ix - 1) % n1], corr[iy, ix], corr[iy, (ix + 1) % n1])
    return float(np.clip(dy, -0.5, 0.5)), float(np.clip(dx, -0.5, 0.5))


# Patches of which less than this share is valid (inside the warped image) are left out.
MIN_VALID = 0.95


def estimate(reference: np.ndarray, image: np.ndarray, *, valid: np.ndarray | None = None,
             max_zoom: float = 0.05) -> Similarity | None:
    """The similarity that maps ``image`` coordinates onto ``reference`` coordinates (content at p in
    image is at q in reference), or None when too little of the picture can be matched.

    Both images: float32, same shape; valid (optional, image's shape): 1 where image holds picture (a
    warped frame's uncovered border is 0). Displacements up to a quarter of the patch size are found."""
    height, width = image.shape
    size = 64 if min(height, width) >= 192 else 32
    if min(height, width) < size:
        return None
    corners = _patch_grid(height, width, size)
    if valid is not None:
        corners = [(y, x) for y, x in corners if float(valid[y : y + size, x : x + size].mean()) >= MIN_VALID]
        if len(corners) < MIN_PATCHES:
            return None
    win = _window(size)
    a = np.empty((len(corners), size, size), np.float32)
    b = np.empty_like(a)
    for i, (y, x) in enumerate(corners):
        pa = reference[y : y + size, x : x + size]
        pb = image[y : y + size, x : x + size]
        a[i] = (pa - pa.mean()) * win
        b[i] = (pb - pb.mean()) * win
    fa = sfft.rfft2(a, axes=(1, 2))
    fb = sfft.rfft2(b, axes=(1, 2))
    cross = fa * np.conj(fb)
    cross /= np.abs(cross) + 1e-6 * (np.abs(cross).max() + 1e-12)
    corr = sfft.irfft2(cross, s=(size, size), axes=(1, 2))
    centres, shifts, weights = [], [], []
    limit = size // 4
    for i, (y, x) in enumerate(corners):
        c = corr[i]
        flat = int(np.argmax(c))
        iy, ix = divmod(flat, size)
        peak = float(c[iy, ix])
        sy = iy if iy <= size // 2 else iy - size
        sx = ix if ix <= size // 2 else ix - size
        if peak < MIN_PEAK or abs(sy) > limit or abs(sx) > limit:
            continue
        fy, fx = _subpixel(c, iy, ix)
        # corr peaks at the shift d with reference(p) ~ image(p - d): content of image at p is at p + d
        centres.append((y + size / 2.0, x + size / 2.0))
        shifts.append((sy + fy, sx + fx))
        weights.append(peak)
    if len(shifts) < MIN_PATCHES:
        return None
    centres = np.asarray(centres) - np.array([height / 2.0, width / 2.0])
    shifts = np.asarray(shifts)
    weights = np.asarray(weights)
    keep = np.ones(len(shifts), bool)
    model = None
    for _ in range(2):
        model = _fit(centres[keep], shifts[keep], weights[keep])
        if model is None:
            return None
        zoom, ty, tx = model
        predicted = np.column_stack([zoom * centres[:, 0] + ty, zoom * centres[:, 1] + tx])
        residual = np.hypot(*(shifts - predicted).T)
        new_keep = residual <= OUTLIER_PX
        if new_keep.sum() < MIN_PATCHES:
            return None
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    zoom, ty, tx = model
    if abs(zoom) > max_zoom:
        return None
    return Similarity(1.0 + zoom, ty, tx)


def _fit(centres: np.ndarray, shifts: np.ndarray, weights: np.ndarray):
    """Weighted least squares of shift_i = zoom * centre_i + t over both axes (zoom shared)."""
    n = len(shifts)
    if n < 3:
        return None
    rows = np.zeros((2 * n, 3))
    rows[:n, 0], rows[:n, 1] = centres[:, 0], 1.0
    rows[n:, 0], rows[n:, 2] = centres[:, 1], 1.0
    rhs = np.concatenate([shifts[:, 0], shifts[:, 1]])
    w = np.sqrt(np.concatenate([weights, weights]))
    solution, *_ = np.linalg.lstsq(rows * w[:, None], rhs * w, rcond=None)
    return float(solution[0]), float(solution[1]), float(solution[2])
