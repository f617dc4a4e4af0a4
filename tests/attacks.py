"""Attacks on the video/still watermark, shared by tests/test_watermark_attacks.py and the bench/ reports.

Written against the public API only (frames are H x W x 3 uint8 RGB arrays), so the same code measures
any version of the mark. "Different content" is made from the five photos in tests/data by random
crops, rescales and flips: many items, but only five source pictures.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from . import media

# Pillow resampling filter used for every rescale here (what image tools and upload pipelines use).
RESAMPLE = Image.Resampling.BICUBIC


# ---------------------------------------------------------------------------------------------------
# Material


def resize(rgb: np.ndarray, width: int, height: int, resample=RESAMPLE) -> np.ndarray:
    return np.array(Image.fromarray(np.ascontiguousarray(rgb)).resize((width, height), resample))


# Crops are upscaled at most this much where the photo allows it (the photos are 300-640 px): larger
# factors give very smooth, blurred-looking items, unlike generated images.
MAX_UPSCALE = 2.0


def random_item(rng: np.random.Generator, height: int, width: int, photos=media.PHOTOS) -> np.ndarray:
    """A random crop of a photo (30-100% of the largest window of this aspect, but at least 1/MAX_UPSCALE
    of the output width where the photo is large enough), rescaled to height x width, maybe flipped."""
    src = media.photo(photos[rng.integers(len(photos))])
    sh, sw = src.shape[:2]
    aspect = width / height
    cw_max = min(sw, sh * aspect)
    cw = cw_max * rng.uniform(min(max(0.3, width / MAX_UPSCALE / cw_max), 1.0), 1.0)
    ch = cw / aspect
    cw, ch = max(int(round(cw)), 8), max(int(round(ch)), 8)
    x = int(rng.integers(0, sw - cw + 1))
    y = int(rng.integers(0, sh - ch + 1))
    out = resize(src[y : y + ch, x : x + cw], width, height)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    if rng.random() < 0.25:
        out = out[::-1]
    return np.array(out, order="C")  # a writable copy (marking works in place)


def items(n: int, height: int, width: int, seed: int, photos=media.PHOTOS):
    """n items of different content (generator: nothing is held in memory)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield random_item(rng, height, width, photos)


def pan_zoom_frames(name: str, width: int, height: int, frames: int, *, seed: int = 0):
    """media.pan_zoom_clip's motion, one frame at a time (long clips without holding them in memory)."""
    rng = np.random.default_rng(seed)
    canvas_w, canvas_h = int(width * 1.35), int(height * 1.35)
    canvas = media._resize(media.photo(name), canvas_w, canvas_h)
    x0, y0 = rng.uniform(0, canvas_w - width * 1.02), rng.uniform(0, canvas_h - height * 1.02)
    vx, vy = rng.uniform(-1, 1, 2) * width * 0.002
    for i in range(frames):
        zoom = 1.0 + 0.1 * i / max(frames - 1, 1)
        w, h = int(width / zoom), int(height / zoom)
        x = int(np.clip(x0 + vx * i, 0, canvas_w - w))
        y = int(np.clip(y0 + vy * i, 0, canvas_h - h))
        window = canvas[y : y + h, x : x + w]
        yield np.ascontiguousarray(window if (w, h) == (width, height) else media._resize(window, width, height))


def video_items(n: int, height: int, width: int, seed: int, videos: int = 3):
    """n frames from `videos` pan/zoom clips over different photos (the same few scenes), lazily."""
    per = -(-n // videos)
    made = 0
    for v in range(videos):
        count = min(per, n - made)
        yield from pan_zoom_frames(media.PHOTOS[(seed + v) % len(media.PHOTOS)], width, height, count,
                                   seed=seed * 31 + v)
        made += count


def random_payload(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))


# ---------------------------------------------------------------------------------------------------
# Estimation (averaging) and copy attacks


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    return media.psnr(media.luma(a.astype(np.float64)), media.luma(b.astype(np.float64)))


def highpass(image: np.ndarray, sigma: float) -> np.ndarray:
    """image minus its Gaussian blur (per channel), float64."""
    image = image.astype(np.float64)
    sig = (sigma, sigma, 0) if image.ndim == 3 else sigma
    return image - ndimage.gaussian_filter(image, sig, mode="reflect")


class MeanEstimator:
    """Streaming float64 mean of marked items; the estimate of the mark is its high-passed version."""

    def __init__(self):
        self.total = None
        self.count = 0

    def add(self, frame: np.ndarray) -> None:
        if self.total is None:
            self.total = np.zeros(frame.shape, np.float64)
        self.total += frame
        self.count += 1

    def estimate(self, sigma: float) -> np.ndarray:
        """The high-passed mean, scaled to unit luma RMS."""
        return unit_luma(highpass(self.total / self.count, sigma))


def unit_luma(signal: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(media.luma(signal) ** 2))) if signal.ndim == 3 else float(np.sqrt(np.mean(signal**2)))
    return signal / rms if rms > 0 else signal


def denoise_residual(image: np.ndarray, method: str = "gauss2") -> np.ndarray:
    """Single-image estimate of a mark: the image minus a denoised copy (unit luma RMS).

    median3 / median5: median filter; gaussN: Gaussian blur of sigma N; dog: band-pass (blur 1 - blur 6),
    which keeps the mid frequencies a robust mark has to use and drops pixel noise and most of the content.
    """
    x = image.astype(np.float64)
    if method.startswith("median"):
        k = int(method[6:])
        smooth = ndimage.median_filter(x, size=(k, k, 1))
        res = x - smooth
    elif method.startswith("gauss"):
        res = highpass(x, float(method[5:]))
    elif method == "dog":
        res = ndimage.gaussian_filter(x, (1, 1, 0)) - ndimage.gaussian_filter(x, (6, 6, 0))
    else:
        raise ValueError(method)
    return unit_luma(res)


def apply_scaled(base: np.ndarray, signal: np.ndarray, a: float) -> np.ndarray:
    """base + a * signal, rounded and clipped to uint8."""
    return np.clip(np.rint(base.astype(np.float64) + a * signal), 0, 255).astype(np.uint8)


def apply_at_psnr(base: np.ndarray, signal: np.ndarray, reference: np.ndarray, sign: float,
                  target_db: float = 38.0) -> tuple[np.ndarray, float, float]:
    """base + sign * a * signal (rounded, clipped) at the largest a that keeps PSNR-Y >= target vs reference.

    Returns (image, a, PSNR-Y). a is in luma levels RMS of the (unit-RMS) signal.
    """
    base = base.astype(np.float64)
    lo, hi = 0.0, 1.0
    while psnr_y(apply_scaled(base, signal, sign * hi), reference) >= target_db and hi < 256:
        lo, hi = hi, hi * 2
    for _ in range(18):
        mid = (lo + hi) / 2
        if psnr_y(apply_scaled(base, signal, sign * mid), reference) >= target_db:
            lo = mid
        else:
            hi = mid
    out = apply_scaled(base, signal, sign * lo)
    return out, lo, psnr_y(out, reference)


def projection_scale(marked: np.ndarray, estimate: np.ndarray, sigma: float) -> float:
    """A blind attacker's removal scale: the projection of the item's high-passed luma on the estimate
    (remodulation: how much of the estimated pattern this item seems to carry)."""
    e = media.luma(estimate)
    return max(0.0, float(np.mean(media.luma(highpass(marked, sigma)) * e) / np.mean(e * e)))


REMOVAL_FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # of the largest scale that keeps the PSNR floor


def removal_attacks(marked: np.ndarray, original: np.ndarray, estimate: np.ndarray, sigma: float,
                    target_db: float = 38.0) -> dict:
    """Name -> (attacked image, scale) for the estimate subtracted at several scales, all within the
    PSNR-Y floor: fractions of the largest allowed scale, and the blind projection scale (capped at the
    largest). Subtracting more than the mark's own amplitude inverts it, so the largest scale is not
    always the worst for the mark; a result should hold at every scale."""
    _, a_max, _ = apply_at_psnr(marked, estimate, original, -1.0, target_db)
    out = {f"{f:g} x max": (apply_scaled(marked, estimate, -f * a_max), f * a_max) for f in REMOVAL_FRACTIONS}
    a = min(projection_scale(marked, estimate, sigma), a_max)
    out["projection"] = (apply_scaled(marked, estimate, -a), a)
    return out


# ---------------------------------------------------------------------------------------------------
# Still-image attacks (RGB uint8 in, RGB uint8 out)


def jpeg(rgb: np.ndarray, quality: int = 85) -> np.ndarray:
    return media.jpeg(rgb, quality)


def webp(rgb: np.ndarray, quality: int = 75) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="WEBP", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def rescale(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return resize(rgb, max(1, int(round(w * factor))), max(1, int(round(h * factor))))


def resize_width(rgb: np.ndarray, width: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return resize(rgb, width, max(1, int(round(h * width / w))))


def crop_fraction(rgb: np.ndarray, fraction: float = 0.2, *, seed: int = 0) -> np.ndarray:
    """Remove `fraction` of the area: a random (1 - fraction)-area window of the same aspect."""
    h, w = rgb.shape[:2]
    s = np.sqrt(1 - fraction)
    ch, cw = int(h * s), int(w * s)
    rng = np.random.default_rng(seed)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def screenshot(rgb: np.ndarray) -> np.ndarray:
    """Screenshot-like: rescale to 0.8x, unsharp mask, PNG round trip (lossless)."""
    im = Image.fromarray(rescale(rgb, 0.8)).filter(ImageFilter.UnsharpMask(radius=2, percent=80, threshold=2))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


STILL_ATTACKS = {
    "none": lambda x: x,
    "0.5x+J85": lambda x: jpeg(rescale(x, 0.5)),
    "0.75x+J85": lambda x: jpeg(rescale(x, 0.75)),
    "0.9x+J85": lambda x: jpeg(rescale(x, 0.9)),
    "1.5x+J85": lambda x: jpeg(rescale(x, 1.5)),
    "2x+J85": lambda x: jpeg(rescale(x, 2.0)),
    "1080w+J85": lambda x: jpeg(resize_width(x, 1080)),
    "crop20%+J85": lambda x: jpeg(crop_fraction(x, 0.2)),
    "J60": lambda x: jpeg(x, 60),
    "WebP75": lambda x: webp(x, 75),
    "screenshot": screenshot,
    "256x256": lambda x: resize(x, 256, 256),
}


# ---------------------------------------------------------------------------------------------------
# Geometry (PIL), applied before the codec


def mirror(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def rotate(rgb: np.ndarray, degrees: float, *, crop: bool) -> np.ndarray:
    """Rotate about the centre (bicubic). crop=False keeps the frame size with black corners; crop=True
    cuts the largest centred window of the same aspect that has no border, then scales it back up."""
    h, w = rgb.shape[:2]
    out = np.asarray(Image.fromarray(rgb).rotate(degrees, resample=RESAMPLE, expand=False))
    if not crop:
        return out
    t = np.radians(abs(degrees))
    # largest axis-aligned w' x h' (same aspect) inside the rotated w x h rectangle
    k = min(w / (w * np.cos(t) + h * np.sin(t)), h / (w * np.sin(t) + h * np.cos(t)))
    cw, ch = int(w * k) - 2, int(h * k) - 2
    x, y = (w - cw) // 2, (h - ch) // 2
    return resize(out[y : y + ch, x : x + cw], w, h)


def stretch(rgb: np.ndarray, fx: float, fy: float = 1.0) -> np.ndarray:
    h, w = rgb.shape[:2]
    return resize(rgb, int(round(w * fx)), int(round(h * fy)))


def squeeze_to_4_3(rgb: np.ndarray) -> np.ndarray:
    """Anamorphic squeeze: the whole frame into a 4:3 frame of the same height."""
    h, w = rgb.shape[:2]
    return resize(rgb, int(round(h * 4 / 3)) // 2 * 2, h)


def fit_and_pad(rgb: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Rescale to fit inside out_w x out_h, centred on black (letterbox or pillarbox)."""
    h, w = rgb.shape[:2]
    s = min(out_w / w, out_h / h)
    nw, nh = int(round(w * s)) // 2 * 2, int(round(h * s)) // 2 * 2
    canvas = np.zeros((out_h, out_w, 3), np.uint8)
    y, x = (out_h - nh) // 2, (out_w - nw) // 2
    canvas[y : y + nh, x : x + nw] = resize(rgb, nw, nh)
    return canvas


def keystone(rgb: np.ndarray, amount: float) -> np.ndarray:
    """Mild perspective, as a phone filming a screen gives: one horizontal edge of the picture narrowed
    by |amount| of the width (amount > 0: the top edge, < 0: the bottom edge); same output size, black
    where nothing maps."""
    h, w = rgb.shape[:2]
    d = abs(amount) * w / 2
    # source points for PIL's QUAD: (upper left, lower left, lower right, upper right)
    quad = (-d, 0, 0, h, w, h, w + d, 0) if amount > 0 else (0, 0, -d, h, w + d, h, w, 0)
    return np.asarray(Image.fromarray(rgb).transform((w, h), Image.Transform.QUAD, quad, resample=RESAMPLE))


def geometry_attacks(width: int, height: int) -> dict:
    """Name -> function for the geometry rows (output sizes follow the input where it makes sense)."""
    even = lambda v: int(v) // 2 * 2  # noqa: E731 (codecs want even sizes)
    return {
        "mirror": mirror,
        "rot+1 kept": lambda x: rotate(x, 1, crop=False),
        "rot-1 kept": lambda x: rotate(x, -1, crop=False),
        "rot+3 kept": lambda x: rotate(x, 3, crop=False),
        "rot-3 kept": lambda x: rotate(x, -3, crop=False),
        "rot+1 cropped": lambda x: rotate(x, 1, crop=True),
        "rot+3 cropped": lambda x: rotate(x, 3, crop=True),
        "rot-3 cropped": lambda x: rotate(x, -3, crop=True),
        "squeeze 16:9->4:3": squeeze_to_4_3,
        "stretch x1.1 horiz": lambda x: stretch(x, 1.1, 1.0),
        "stretch x1.1 vert": lambda x: stretch(x, 1.0, 1.1),
        "letterbox (into 9:16)": lambda x: fit_and_pad(x, even(height), even(height * 16 / 9)),
        "pillarbox (into 21:9)": lambda x: fit_and_pad(x, even(height * 21 / 9), height),
        "keystone +5%": lambda x: keystone(x, 0.05),
        "keystone -5%": lambda x: keystone(x, -0.05),
    }
