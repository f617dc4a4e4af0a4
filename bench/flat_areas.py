"""Visibility of the video/still watermark on flat and gradient areas (issue 12, quality), on the public API.

Issue 12 asks that on flat and gradient areas the added signal stays below visibility, with the perceptual
criterion stated and measured, 1:1 crops of flat areas side by side, and no temporal flicker or
"swimming" on static scenes. This script builds the material in code, marks it through the public API
(``sm.VideoWatermarker(KEY, PAYLOAD).embed``; fixed key and payload) and measures the difference
marked - original. It uses nothing but the public API, so the same script measures v1 today and v2 later.

Material (1920x1080 and 1024x1024 unless said):
  (a) perfectly flat grey at levels 40, 128, 220;
  (b) a smooth vertical sky gradient, RGB (90, 140, 210) at the top to (200, 220, 240) at the bottom
      (rounded to 8 bits: 1-level bands, as a render gives);
  (c) a studio backdrop: warm grey radial vignette (170, 165, 160) x (1 - 0.5 r^2), r = distance from
      the centre / half diagonal, plus Gaussian luma noise sigma 0.5, rounded;
  (d) a UI render: flat panels (light page, dark sidebar, blue header, white cards with 1-px borders)
      with sharp edges and text-like strokes (no anti-aliasing); measured in the 64x64 windows that are
      exactly flat in the original (the panels), the edge windows reported apart, and (simple figures
      only) the flat background within 12 px of edges and strokes (5x5-flat pixels: the gaps between
      glyphs, where an edge-following mask raises the gain on flat pixels);
  (e) photos from tests/data (default: rocket, the large smooth sky) cropped to 16:9 and upscaled to
      1920x1080 (bicubic, tests/attacks.py resize); measured only in its flattest 64x64 windows
      (non-overlapping grid, lowest std of the original luma; --photo-windows of them).

Figures per area (over its measured windows; whole frame for (a)-(c)):
  - std of the added luma signal, luma Y' = 0.299 R + 0.587 G + 0.114 B in 8-bit levels;
  - PSNR-Y over the same pixels;
  - max local std of the difference in 16x16 windows, in luma levels (the simple criterion);
  - visibility in JND units per 64x64 window (max and median over windows), the perceptual criterion:

Perceptual model (a single-channel, CSF-weighted band-contrast model, pooled by Minkowski summation):
  1. Display: BT.1886 EOTF, peak white Lw = 100 cd/m^2, black Lb = 0.1 cd/m^2 (--peak, --black), applied
     to R', G', B'; luminance Y = 0.2126 R + 0.7152 G + 0.0722 B (BT.709 primaries). The mark's delta is
     on R, G and B alike, so its chromatic part is ignored (a luminance-only model).
  2. Viewing: pixels per degree (ppd) for two stated conditions: "3H" = a 1080-line picture viewed at 3
     picture heights (the ITU-R BT.500/BT.710 HDTV distance): 1080 / (2 atan(1/6)) = 57.1 ppd; "desk" =
     a 24-inch 1920x1080 monitor at 50 cm (how a 1:1 crop is pixel-peeped): 31.5 ppd. 1024x1024 stills
     are taken as shown 1:1 on the same display (same ppd).
  3. Per 64x64 window (non-overlapping grid): the contrast image c = (Y_marked - Y_orig) / mean(Y_orig),
     the window's mean of c removed, times a periodic Hann window scaled to unit mean square; its DFT
     gives, per bin, a variance sigma_k^2 = |C_k|^2 / N^4 at radial frequency u_k cycles/degree.
  4. Contrast sensitivity: Barten's CSF (P.G.J. Barten, "Formula for the contrast sensitivity of the
     human eye", Proc. SPIE 5294, 2004; the model behind SMPTE ST 2084):
         S(u, L) = 5200 exp(-0.0016 u^2 (1 + 100/L)^0.08)
                   / sqrt((1 + 144/X0^2 + 0.64 u^2) (63 / L^0.83 + 1 / (1 - exp(-0.02 u^2))))
     with L the window's mean luminance (cd/m^2) and X0 the field size in degrees (the frame's short
     side / ppd: the flat area fills the picture). Luminance adaptation is in the formula: the 63/L^0.83
     term makes the threshold contrast grow at low luminance (DeVries-Rose-like, ~L^-0.4) and level off
     towards Weber behaviour at high luminance. Isotropic (no oblique effect), no temporal term, no
     contrast masking by the content (so windows with edges or texture are over-estimated).
  5. Bands: octave bands of radial frequency, edges 0, 1, 2, 4, 8, 16, 32 cpd (and above). Per band b,
     the CSF-weighted contrast in threshold units is J_b = sqrt(2 sum_{k in b} sigma_k^2 S(u_k, L)^2),
     so a sinusoidal grating of contrast amplitude a gives J = a S(u): J = 1 at the CSF threshold.
  6. Pooling: V = (sum_b J_b^beta)^(1/beta), beta = 4 (probability summation). V is the visibility of the
     added signal in that window in JND units: V < 1 is below threshold. Per area we report the max and
     the median over its windows; the criterion is max V < 1 at 3H (and, stricter, at desk distance).
  "RMS at V=1" = std of the added luma / max V: the RMS of a signal with the same spectrum and mask that
  would sit at threshold (linear estimate, ignores 8-bit rounding).
  Reference rows: the same model on the smallest 8-bit perturbations (white +-1 level binary noise; a
  1-level-amplitude grating at 4 cpd) on flat greys, to show where 8 bits themselves sit. Barten's CSF
  is an ideal-observer, 2AFC-threshold model: conservative (a viewer at ease notices less).

Temporal: a static 1080p scene (the photo, 30 identical frames) marked frame by frame through one
VideoWatermarker instance: the max |change| of the added signal from one frame to the next (0 = no
flicker, no swimming). A slow pan (content shifted by 1 px per frame, 30 frames): the same figure,
reported as measured (the frame-anchored pattern changes only through the content-dependent mask).

Output (--out, default bench/results/flat_areas): report.md (tables), results.json, and one PNG per flat
area: a 256x256 1:1 crop of the 1080p frame, original | marked | difference x8 + 128 (luma), 4-px gaps.

    NUMBA_NUM_THREADS=1 nice -n 10 python bench/flat_areas.py --out bench/results/flat_areas_v1   # ~1 min

BENCH_SRC=/path/to/src measures another tree (e.g. ``git archive <commit> src | tar -x -C /tmp/x`` plus the
built ``_core`` .so copied into /tmp/x/src/synthmark) while this checkout's src/ is being edited.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# BENCH_SRC: another tree's src/ (e.g. an export of a commit, with its built _core) instead of this tree's
SRC = Path(os.environ.get("BENCH_SRC", str(ROOT / "src"))).resolve()
sys.path.insert(0, str(SRC))
if "BENCH_SRC" in os.environ:  # the editable install's import redirect would still load this checkout's src/
    sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable_")]

import synthmark as sm  # noqa: E402
from tests import attacks as A  # noqa: E402
from tests import media  # noqa: E402

KEY = sm.Key.from_bytes(b"flat-areas-bench-key-0123456789a")
PAYLOAD = 0x5EED_F1A7_0012_C0DE
WIN = 64  # perceptual window (px)
SMALL = 16  # simple criterion window (px)
BETA = 4.0
BAND_EDGES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, math.inf)  # cycles/degree


def ppd_at_heights(lines: int, heights: float) -> float:
    return lines / math.degrees(2 * math.atan(0.5 / heights))


def ppd_monitor(diagonal_in: float, width_px: int, aspect: float, distance_mm: float) -> float:
    width_mm = diagonal_in * 25.4 * aspect / math.hypot(aspect, 1.0)
    pitch = width_mm / width_px
    return 1.0 / math.degrees(2 * math.atan(pitch / 2 / distance_mm))


VIEWINGS = {
    "3H": ppd_at_heights(1080, 3.0),  # 57.1 ppd
    "desk": ppd_monitor(24.0, 1920, 16 / 9, 500.0),  # 31.5 ppd
}


# ---------------------------------------------------------------------------------------------------
# Display and vision model


def bt1886(code: np.ndarray, lw: float, lb: float) -> np.ndarray:
    """BT.1886 EOTF: 8-bit code values -> cd/m^2."""
    g = 2.4
    a = (lw ** (1 / g) - lb ** (1 / g)) ** g
    b = lb ** (1 / g) / (lw ** (1 / g) - lb ** (1 / g))
    return a * np.maximum(np.asarray(code, np.float64) / 255.0 + b, 0.0) ** g


def luminance(rgb: np.ndarray, lw: float, lb: float) -> np.ndarray:
    lin = bt1886(rgb, lw, lb)
    return lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def barten(u: np.ndarray, lum: np.ndarray, x0: float) -> np.ndarray:
    """Barten (2004) contrast sensitivity; u in cycles/degree, lum in cd/m^2, x0 field size in degrees."""
    u = np.maximum(u, 1e-6)
    lum = np.maximum(lum, 1e-4)
    num = 5200.0 * np.exp(-0.0016 * u**2 * (1.0 + 100.0 / lum) ** 0.08)
    den = np.sqrt((1.0 + 144.0 / x0**2 + 0.64 * u**2) * (63.0 / lum**0.83 + 1.0 / (1.0 - np.exp(-0.02 * u**2))))
    return num / den


_n = np.arange(WIN)
_hann1 = 0.5 - 0.5 * np.cos(2 * np.pi * _n / WIN)  # periodic Hann
HANN = np.outer(_hann1, _hann1)
HANN /= np.sqrt(np.mean(HANN**2))
_f = np.fft.fftfreq(WIN)
RADIAL = np.hypot(_f[:, None], _f[None, :])  # cycles/pixel


def grid(height: int, width: int, size: int) -> list[tuple[int, int]]:
    return [(y, x) for y in range(0, height - size + 1, size) for x in range(0, width - size + 1, size)]


def stack(img: np.ndarray, windows, size: int) -> np.ndarray:
    return np.stack([img[y : y + size, x : x + size] for y, x in windows])


def visibility(orig: np.ndarray, marked: np.ndarray, windows, ppd: float, lw: float, lb: float,
               bands: bool = False):
    """JND visibility V per 64x64 window (and per-band J if bands)."""
    yo = stack(luminance(orig, lw, lb), windows, WIN)
    ym = stack(luminance(marked, lw, lb), windows, WIN)
    mean_l = yo.mean(axis=(1, 2))
    c = (ym - yo) / mean_l[:, None, None]
    c -= c.mean(axis=(1, 2), keepdims=True)
    spec = np.abs(np.fft.fft2(c * HANN)) ** 2 / WIN**4  # per-bin variance; sums to mean((c w)^2)
    u = RADIAL * ppd
    x0 = min(orig.shape[:2]) / ppd
    s = barten(u[None], mean_l[:, None, None], x0)
    weighted = spec * s**2
    js = []
    for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:]):
        sel = (u > lo) & (u <= hi) & (RADIAL > 0)
        js.append(np.sqrt(2.0 * weighted[:, sel].sum(axis=1)))
    js = np.stack(js, axis=1)  # (windows, bands)
    v = (js**BETA).sum(axis=1) ** (1.0 / BETA)
    return (v, js) if bands else v


# ---------------------------------------------------------------------------------------------------
# Material


def flat(h: int, w: int, level: int) -> np.ndarray:
    return np.full((h, w, 3), level, np.uint8)


def sky(h: int, w: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h)[:, None]
    top, bottom = np.array([90, 140, 210], float), np.array([200, 220, 240], float)
    col = top + (bottom - top) * t
    return np.ascontiguousarray(np.broadcast_to(np.round(col)[:, None, :], (h, w, 3)).astype(np.uint8))


def backdrop(h: int, w: int, seed: int = 12) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r2 = ((yy - (h - 1) / 2) ** 2 + (xx - (w - 1) / 2) ** 2) / ((h / 2) ** 2 + (w / 2) ** 2)
    base = np.array([170.0, 165.0, 160.0]) * (1.0 - 0.5 * r2)[..., None]
    noise = np.random.default_rng(seed).normal(0.0, 0.5, (h, w))[..., None]
    return np.clip(np.round(base + noise), 0, 255).astype(np.uint8)


def ui(h: int, w: int, seed: int = 7) -> np.ndarray:
    """A flat UI render: page, sidebar, header, cards with borders, text-like strokes, buttons."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = (245, 246, 248)
    side, head = w // 6, h // 12
    img[:, :side] = (40, 44, 52)
    img[:head, :] = (30, 110, 200)

    def text(y0, x0, x1, rows, colour, size):
        for r in range(rows):
            y = y0 + r * int(size * 1.8)
            x = x0
            while x < x1 - size:
                word = int(rng.integers(3, 9))
                for _ in range(word):
                    gw = max(2, int(size * rng.uniform(0.35, 0.65)))
                    if x + gw >= x1:
                        break
                    stroke = max(1, size // 7)
                    # a glyph: two verticals, a bar, sometimes a bowl (sharp, 1-level-free strokes)
                    img[y : y + size, x : x + stroke] = colour
                    if rng.random() < 0.6:
                        img[y : y + size, x + gw - stroke : x + gw] = colour
                    yb = y + int(size * rng.choice([0.0, 0.5, 0.9]))
                    img[yb : yb + stroke, x : x + gw] = colour
                    x += gw + max(1, size // 5)
                x += size  # word gap

    text(head // 3, side + 24, w // 2, 1, (255, 255, 255), max(8, head // 3))
    for i in range(10):
        text(head + 30 + i * 40, 16, side - 16, 1, (200, 204, 210), 12)
    cw, ch, gap = (w - side - 3 * 32) // 2, (h - head - 3 * 32) // 2, 32
    for cy in range(2):
        for cx in range(2):
            x0, y0 = side + gap + cx * (cw + gap), head + gap + cy * (ch + gap)
            img[y0 : y0 + ch, x0 : x0 + cw] = (220, 220, 225)  # 1-px border
            img[y0 + 1 : y0 + ch - 1, x0 + 1 : x0 + cw - 1] = (255, 255, 255)
            text(y0 + 24, x0 + 24, x0 + cw - 24, 1, (20, 20, 20), 20)  # title
            text(y0 + 70, x0 + 24, x0 + cw * 2 // 3, 4, (60, 60, 60), 12)  # body
            bx, by = x0 + 24, y0 + ch - 70
            img[by : by + 40, bx : bx + 140] = (30, 110, 200)  # button
            text(by + 14, bx + 16, bx + 124, 1, (255, 255, 255), 12)
    return img


def photo_frame(name: str, h: int, w: int) -> np.ndarray:
    src = media.photo(name)
    sh, sw = src.shape[:2]
    if sw / sh > w / h:
        cw, ch = int(round(sh * w / h)), sh
    else:
        cw, ch = sw, int(round(sw * h / w))
    y0, x0 = (sh - ch) // 2, (sw - cw) // 2
    return np.ascontiguousarray(A.resize(src[y0 : y0 + ch, x0 : x0 + cw], w, h))


def flattest_windows(img: np.ndarray, n: int) -> list[tuple[int, int]]:
    wins = grid(*img.shape[:2], WIN)
    stds = stack(luma(img.astype(np.float64)), wins, WIN).std(axis=(1, 2))
    return [wins[i] for i in np.argsort(stds, kind="stable")[:n]]


def flat_windows(img: np.ndarray) -> tuple[list, list]:
    wins = grid(*img.shape[:2], WIN)
    stds = stack(luma(img.astype(np.float64)), wins, WIN).std(axis=(1, 2))
    return [w for w, s in zip(wins, stds) if s == 0], [w for w, s in zip(wins, stds) if s > 0]


# ---------------------------------------------------------------------------------------------------
# Measurement


def mark(frame: np.ndarray) -> np.ndarray:
    return sm.VideoWatermarker(KEY, PAYLOAD).embed(frame.copy())


def measure(name: str, size: str, orig: np.ndarray, marked: np.ndarray, windows, region: str, args) -> dict:
    d = luma(marked.astype(np.float64)) - luma(orig.astype(np.float64))
    dw = stack(d, windows, WIN)
    ow = stack(luma(orig.astype(np.float64)), windows, WIN)
    small = dw.reshape(len(windows), WIN // SMALL, SMALL, WIN // SMALL, SMALL).std(axis=(2, 4))
    mse = float(np.mean(dw**2))
    row = {
        "area": name, "size": size, "region": region, "windows": len(windows),
        "orig_std": float(ow.std(axis=(1, 2)).max()),
        "added_std": float(dw.std()),
        "added_rms": math.sqrt(mse),
        "max_abs": float(np.abs(dw).max()),
        "psnr_y": float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse),
        "max_std16": float(small.max()),
    }
    for vname, ppd in VIEWINGS.items():
        v = visibility(orig, marked, windows, ppd, args.peak, args.black)
        row[f"v_{vname}_max"] = float(v.max())
        row[f"v_{vname}_median"] = float(np.median(v))
        row[f"v_{vname}_above1"] = float(np.mean(v >= 1.0))
    row["rms_at_threshold_3H"] = row["added_std"] / row["v_3H_max"] if row["v_3H_max"] > 0 else float("inf")
    return row


HALO = 12  # px: flat background within this distance (Chebyshev) of an edge or stroke


def measure_halo(name: str, size: str, orig: np.ndarray, marked: np.ndarray) -> dict:
    """Simple figures over the UI's flat background beside edges and strokes: pixels whose 5x5
    neighbourhood is constant in the original but lie within HALO px of one that is not (the mask's gain
    follows the edges, so the flat gaps between glyphs can take the edge's gain)."""
    from scipy import ndimage

    o = luma(orig.astype(np.float64))
    d = luma(marked.astype(np.float64)) - o
    nonflat = ndimage.maximum_filter(o, 5) != ndimage.minimum_filter(o, 5)
    halo = ~nonflat & ndimage.maximum_filter(nonflat, 2 * HALO + 1)
    vals = d[halo]
    mse = float(np.mean(vals**2))
    stds = []
    for y, x in grid(*o.shape, SMALL):
        m = halo[y : y + SMALL, x : x + SMALL]
        if m.sum() >= SMALL * SMALL // 4:
            stds.append(float(d[y : y + SMALL, x : x + SMALL][m].std()))
    return {"area": name, "size": size, "region": f"flat pixels within {HALO} px of edges/text", "windows": len(stds),
            "pixels": int(halo.sum()), "orig_std": 0.0, "added_std": float(vals.std()), "added_rms": math.sqrt(mse),
            "max_abs": float(np.abs(vals).max()), "psnr_y": 10 * math.log10(255.0**2 / mse) if mse else float("inf"),
            "max_std16": max(stds)}


def references(args) -> list[dict]:
    """The model on the smallest 8-bit perturbations, on flat 1080p greys."""
    out = []
    h, w = 1080, 1920
    rng = np.random.default_rng(3)
    wins = grid(h, w, WIN)
    for level in (40, 128, 220):
        orig = flat(h, w, level)
        noise = (rng.integers(0, 2, (h, w)) * 2 - 1)[..., None]
        cases = {"white +-1 level binary noise (std 1.0)": noise}
        for vname, ppd in VIEWINGS.items():
            x = np.arange(w)
            grating = np.round(np.cos(2 * np.pi * 4.0 / ppd * x))[None, :, None] * np.ones((h, 1, 1))
            cases[f"1-level grating, 4 cpd at {vname} (round(cos))"] = grating
        for cname, delta in cases.items():
            marked = np.clip(orig.astype(np.int16) + delta.astype(np.int16), 0, 255).astype(np.uint8)
            row = {"level": level, "case": cname}
            for vname, ppd in VIEWINGS.items():
                if "grating" in cname and vname not in cname:
                    continue
                row[f"v_{vname}"] = float(np.median(visibility(orig, marked, wins, ppd, args.peak, args.black)))
            out.append(row)
    return out


def temporal(args) -> dict:
    h, w, n = 1080, 1920, args.temporal_frames
    base = photo_frame(args.photos[0], h, w)
    marker = sm.VideoWatermarker(KEY, PAYLOAD)
    prev, static_max, identical = None, 0.0, True
    for _ in range(n):
        frame = base.copy()
        marker.embed(frame)
        d = frame.astype(np.int16) - base.astype(np.int16)
        if prev is not None:
            static_max = max(static_max, float(np.abs(d - prev).max()))
            identical &= bool(np.array_equal(d, prev))
        prev = d
    canvas = photo_frame(args.photos[0], h, w + n)  # wide canvas: a 1-px/frame pan without resampling
    marker = sm.VideoWatermarker(KEY, PAYLOAD)
    prev, pan_max, pan_sq, pan_n = None, 0.0, 0.0, 0
    for i in range(n):
        frame = np.ascontiguousarray(canvas[:, i : i + w])
        orig = frame.copy()
        marker.embed(frame)
        d = luma(frame.astype(np.float64)) - luma(orig.astype(np.float64))
        if prev is not None:
            ch = d - prev
            pan_max = max(pan_max, float(np.abs(ch).max()))
            pan_sq += float(np.sum(ch**2))
            pan_n += ch.size
        prev = d
    return {"photo": args.photos[0], "frames": n, "static_max_change": static_max, "static_identical": identical,
            "pan_max_change": pan_max, "pan_rms_change": math.sqrt(pan_sq / pan_n)}


# ---------------------------------------------------------------------------------------------------
# Crops


def crop_png(path: Path, orig: np.ndarray, marked: np.ndarray, y: int, x: int, size: int = 256) -> None:
    o = orig[y : y + size, x : x + size]
    m = marked[y : y + size, x : x + size]
    d = luma(m.astype(np.float64)) - luma(o.astype(np.float64))
    dv = np.clip(np.round(d * 8 + 128), 0, 255).astype(np.uint8)
    gap = np.full((size, 4, 3), 64, np.uint8)
    strip = np.concatenate([o, gap, m, gap, np.repeat(dv[..., None], 3, axis=2)], axis=1)
    if np.all(strip[..., 0] == strip[..., 1]) and np.all(strip[..., 1] == strip[..., 2]):
        Image.fromarray(strip[..., 0]).save(path, optimize=True)  # grey: one channel
    else:
        Image.fromarray(strip).save(path, optimize=True)


def lowest_std_crop(img: np.ndarray, size: int = 256, step: int = 64) -> tuple[int, int]:
    y_ = luma(img.astype(np.float64))
    best, pos = math.inf, (0, 0)
    for y in range(0, img.shape[0] - size + 1, step):
        for x in range(0, img.shape[1] - size + 1, step):
            s = float(y_[y : y + size, x : x + size].std())
            if s < best:
                best, pos = s, (y, x)
    return pos


# ---------------------------------------------------------------------------------------------------
# Report


def fmt(x: float, nd: int = 2) -> str:
    return "inf" if x == float("inf") else f"{x:.{nd}f}"


def write_report(out: Path, rows, refs, temp, bands, args, meta) -> None:
    v3, vd = VIEWINGS["3H"], VIEWINGS["desk"]
    lines = [
        "# Flat areas: visibility of the watermark (issue 12, quality)",
        "",
        f"Run {meta['date']}, checkout at `{meta['commit']}`, synthmark {sm.__version__} from {meta['src']}; "
        f"{meta['seconds']:.0f} s. "
        f"Command: `{meta['command']}`.",
        f"Key `flat-areas-bench-key-...`, payload 0x{PAYLOAD:016x}, default strength (1.0), marked with "
        "`sm.VideoWatermarker(key, payload).embed` on RGB frames.",
        "",
        "Criterion (details in `bench/flat_areas.py`'s docstring): visibility V in JND units per 64x64 window, "
        "Barten (2004) CSF with its luminance term on the added signal's contrast spectrum "
        f"(BT.1886 display, {args.peak:g} cd/m^2 white, {args.black:g} cd/m^2 black; contrast = "
        "delta luminance / window mean), octave bands, Minkowski beta = 4 over bands. V < 1 = below "
        f"threshold. Viewing: **3H** = 1080p at 3 picture heights, {v3:.1f} px/degree; **desk** = 24-inch "
        f"1080p monitor at 50 cm, {vd:.1f} px/degree (pixel-peeping a 1:1 crop). Stills: same px/degree. "
        "Also the simple criterion: max std of the difference in 16x16 windows (luma levels).",
        "",
        "## Per area",
        "",
        "| area | size | measured region | orig. std (max) | added luma std | max abs | PSNR-Y dB | max std 16x16 | "
        "V 3H max (median) | V desk max (median) | windows V>=1 (3H / desk) | RMS at V=1, 3H |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "v_3H_max" not in r:  # simple figures only (16x16 windows)
            lines.append(
                f"| {r['area']} | {r['size']} | {r['region']} ({r['pixels']} px; {r['windows']} 16x16 win. >= 1/4 such) | 0 (5x5) | "
                f"{fmt(r['added_std'])} | {fmt(r['max_abs'], 0)} | {fmt(r['psnr_y'], 1)} | {fmt(r['max_std16'])} | "
                "- | - | - | - |")
            continue
        lines.append(
            f"| {r['area']} | {r['size']} | {r['region']} ({r['windows']} win.) | {fmt(r['orig_std'])} | "
            f"{fmt(r['added_std'])} | {fmt(r['max_abs'], 0)} | {fmt(r['psnr_y'], 1)} | {fmt(r['max_std16'])} | "
            f"{fmt(r['v_3H_max'])} ({fmt(r['v_3H_median'])}) | {fmt(r['v_desk_max'])} ({fmt(r['v_desk_median'])}) | "
            f"{100 * r['v_3H_above1']:.0f}% / {100 * r['v_desk_above1']:.0f}% | {fmt(r['rms_at_threshold_3H'])} |"
        )
    lines += [
        "",
        "Orig. std: the original's luma std in its least flat measured 64x64 window. Added std, max abs, PSNR-Y "
        "and the 16x16 std are over the measured windows. RMS at V=1: added std / max V (3H), the RMS the same "
        "pattern and mask could have at threshold (linear estimate). UI edge windows contain text and edges: "
        "the model has no contrast masking, so their V is an upper bound there. The UI's \"flat pixels within "
        f"{HALO} px of edges/text\" row is the flat background beside strokes and between glyphs (5x5 neighbourhood "
        "constant in the original; 16x16 std over those pixels only, in windows where they are >= 1/4; simple "
        "figures only: the model needs 64x64 windows). "
        "UI cards are white (255): the clamp keeps only the negative half of the mark there.",
        "",
        "## Where the visibility sits (band J, flat grey 128, 1080p, median window)",
        "",
        "| band (cpd) | " + " | ".join(bands["labels"]) + " |",
        "|---|" + "---|" * len(bands["labels"]),
    ]
    for vname in VIEWINGS:
        lines.append(f"| J, {vname} | " + " | ".join(fmt(j) for j in bands[vname]) + " |")
    lines += [
        "",
        "## Reference: the smallest 8-bit perturbations on flat 1080p grey (median V)",
        "",
        "| level | perturbation | V 3H | V desk |",
        "|---|---|---|---|",
    ]
    for r in refs:
        lines.append(f"| {r['level']} | {r['case']} | {fmt(r['v_3H']) if 'v_3H' in r else '-'} | "
                     f"{fmt(r['v_desk']) if 'v_desk' in r else '-'} |")
    lines += [
        "",
        "## Temporal (1080p, one VideoWatermarker instance, frame by frame)",
        "",
        "| scene | frames | max abs frame-to-frame change of the added luma | RMS change |",
        "|---|---|---|---|",
        f"| static ({temp['photo']}, identical frames) | {temp['frames']} | {fmt(temp['static_max_change'])} "
        f"({'added signal identical in every frame' if temp['static_identical'] else 'differs between frames'}) | - |",
        f"| slow pan, 1 px/frame ({temp['photo']}) | {temp['frames']} | {fmt(temp['pan_max_change'])} | "
        f"{fmt(temp['pan_rms_change'], 3)} |",
        "",
        "## Crops (1:1, 256x256 from the 1080p frames: original | marked | luma difference x8 + 128)",
        "",
        "View at 100% zoom (no scaling) on a calibrated display.",
        "",
    ]
    for name, (png, (y, x)) in meta["crops"].items():
        lines.append(f"- {name}: [`{png}`]({png}) (crop at x={x}, y={y})")
    (out / "report.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "bench/results/flat_areas")
    ap.add_argument("--photos", type=lambda s: s.split(","), default=["rocket"],
                    help="tests/data photos for (e), comma-separated; the first is the temporal scene")
    ap.add_argument("--photo-windows", type=int, default=16, help="flattest 64x64 windows measured per photo")
    ap.add_argument("--peak", type=float, default=100.0, help="display white, cd/m^2 (BT.1886)")
    ap.add_argument("--black", type=float, default=0.1, help="display black, cd/m^2 (BT.1886)")
    ap.add_argument("--temporal-frames", type=int, default=30)
    ap.add_argument("--src-label", default="", help="what the measured src is (shown in the report), e.g. 'v1'")
    args = ap.parse_args()
    t0 = time.time()
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    out.mkdir(parents=True, exist_ok=True)

    rows, crops = [], {}
    bands = None
    for h, w in ((1080, 1920), (1024, 1024)):
        size = f"{w}x{h}"
        material = [(f"flat grey {lv}", flat(h, w, lv)) for lv in (40, 128, 220)]
        material += [("sky gradient", sky(h, w)), ("studio backdrop", backdrop(h, w)), ("UI render", ui(h, w))]
        for name, orig in material:
            marked = mark(orig)
            wins = grid(h, w, WIN)
            if name == "UI render":
                panels, edges = flat_windows(orig)
                rows.append(measure(name, size, orig, marked, panels, "panels (flat windows)", args))
                rows.append(measure(name, size, orig, marked, edges, "windows with edges/text", args))
                rows.append(measure_halo(name, size, orig, marked))
            else:
                rows.append(measure(name, size, orig, marked, wins, "whole frame", args))
            if name == "flat grey 128" and h == 1080:
                bands = {"labels": [f"{lo:g}-{hi:g}" if hi != math.inf else f">{lo:g}"
                                    for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:])]}
                for vname, ppd in VIEWINGS.items():
                    v, js = visibility(orig, marked, wins, ppd, args.peak, args.black, bands=True)
                    bands[vname] = list(js[int(np.argsort(v)[len(v) // 2])])
            if h == 1080:
                slug = name.replace(" ", "_").replace("/", "_")
                png = f"{slug}.png"
                if name == "studio backdrop":
                    pos = (64, 128)  # towards a corner: the vignette's slope and the noise
                elif name == "UI render":
                    pos = (h // 12 + 32 - 16, w // 6 + 32 - 16)  # page, a card's border, title, body text, white panel
                else:
                    pos = ((h - 256) // 2, (w - 256) // 2)
                crop_png(out / png, orig, marked, *pos)
                crops[f"{name}"] = (png, pos)
        print(f"{size}: done ({time.time() - t0:.0f} s)", flush=True)
    for pname in args.photos:
        orig = photo_frame(pname, 1080, 1920)
        marked = mark(orig)
        wins = flattest_windows(orig, args.photo_windows)
        rows.append(measure(f"photo {pname}", "1920x1080", orig, marked, wins,
                            f"{args.photo_windows} flattest windows", args))
        pos = lowest_std_crop(orig)
        png = f"photo_{pname}_flattest.png"
        crop_png(out / png, orig, marked, *pos)
        crops[f"photo {pname} (flattest 256x256)"] = (png, pos)
    refs = references(args)
    temp = temporal(args)
    print(f"measured ({time.time() - t0:.0f} s)", flush=True)
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except Exception:
        commit = "unknown"
    if SRC == (ROOT / "src").resolve():
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True,
                               text=True).stdout.strip()
        src_note = f"this checkout's src/ at {commit}" + (" with uncommitted changes in src/" if dirty else "")
    else:
        src_note = f"BENCH_SRC={SRC}"
    if args.src_label:
        src_note += f" ({args.src_label})"
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit, "src": src_note, "seconds": time.time() - t0, "crops": crops,
        "command": ("BENCH_SRC=... " if "BENCH_SRC" in os.environ else "")
        + "NUMBA_NUM_THREADS=1 nice -n 10 python bench/flat_areas.py " + shlex.join(sys.argv[1:]),
    }
    write_report(out, rows, refs, temp, bands, args, meta)
    (out / "results.json").write_text(json.dumps(
        {"meta": {k: v for k, v in meta.items() if k != "crops"}, "viewings_ppd": VIEWINGS,
         "display": {"peak": args.peak, "black": args.black}, "areas": rows, "bands_flat128_1080p": bands,
         "references": refs, "temporal": temp}, indent=1, default=float))
    print((out / "report.md").read_text())
    print(f"synthmark from {Path(sm.__file__).parent}")


if __name__ == "__main__":
    main()
