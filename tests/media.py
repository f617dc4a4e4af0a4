"""Test media made in code: pan/zoom clips from real photographs, and real-codec round trips via PyAV."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

DATA = Path(__file__).parent / "data"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "grass")


@lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    with av.open(str(DATA / f"{name}.jpg")) as container:
        frame = next(container.decode(video=0))
        rgb = frame.to_ndarray(format="rgb24")
    rgb.flags.writeable = False
    return rgb


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(width=width, height=height, interpolation="BICUBIC").to_ndarray(format="rgb24")


def pan_zoom_clip(name: str, width: int, height: int, frames: int, *, seed: int = 0) -> list[np.ndarray]:
    """A clip that pans across and zooms slowly into a photograph (natural content, real motion)."""
    rng = np.random.default_rng(seed)
    canvas_w, canvas_h = int(width * 1.35), int(height * 1.35)
    canvas = _resize(photo(name), canvas_w, canvas_h)
    out = []
    x0, y0 = rng.uniform(0, canvas_w - width * 1.02), rng.uniform(0, canvas_h - height * 1.02)
    vx, vy = rng.uniform(-1, 1, 2) * width * 0.002
    for i in range(frames):
        zoom = 1.0 + 0.1 * i / max(frames - 1, 1)  # window shrinks by 10% over the clip
        w, h = int(width / zoom), int(height / zoom)
        x = int(np.clip(x0 + vx * i, 0, canvas_w - w))
        y = int(np.clip(y0 + vy * i, 0, canvas_h - h))
        window = canvas[y : y + h, x : x + w]
        out.append(window if (w, h) == (width, height) else _resize(window, width, height))
    return out


def encode(frames, codec: str = "libx264", *, crf: int | None = 23, fps: int = 30,
           width: int | None = None, height: int | None = None, options: dict | None = None,
           container_format: str = "mp4") -> io.BytesIO:
    """Encode RGB frames (any iterable) with a real codec into an in-memory file, optionally rescaled."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_format) as oc:
        stream = None
        for f in frames:
            if stream is None:
                h0, w0 = f.shape[:2]
                width, height = width or w0, height or h0
                stream = oc.add_stream(codec, rate=fps)
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                opts = {"preset": "medium"} if codec in ("libx264", "libx265") else {}
                if crf is not None:
                    opts["crf"] = str(crf)
                if codec == "libx265":
                    opts["x265-params"] = "log-level=error"
                opts.update(options or {})
                stream.options = opts
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            vf = vf.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC")
            for packet in stream.encode(vf):
                oc.mux(packet)
        for packet in stream.encode():
            oc.mux(packet)
    buf.seek(0)
    return buf


def transcode(frames: list[np.ndarray], codec: str = "libx264", *, crf: int | None = 23, fps: int = 30,
              width: int | None = None, height: int | None = None, options: dict | None = None,
              container_format: str = "mp4") -> list[np.ndarray]:
    """Encode RGB frames with a real codec (in memory), decode them back as RGB, optionally rescaled."""
    buf = encode(frames, codec, crf=crf, fps=fps, width=width, height=height, options=options,
                 container_format=container_format)
    with av.open(buf) as ic:
        return [f.to_ndarray(format="rgb24") for f in ic.decode(video=0)]


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip through libjpeg (Pillow) at the standard IJG quality scale, 4:2:0 chroma."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=quality, subsampling=2)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two luma images (Wang et al. 2004: Gaussian window sigma 1.5, K1=0.01, K2=0.03)."""
    from scipy.ndimage import gaussian_filter

    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = gaussian_filter(a, 1.5), gaussian_filter(b, 1.5)
    var_a = gaussian_filter(a * a, 1.5) - mu_a**2
    var_b = gaussian_filter(b * b, 1.5) - mu_b**2
    cov = gaussian_filter(a * b, 1.5) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))
