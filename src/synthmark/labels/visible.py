"""Visible labels on images and video frames: what, where, when and how big. Compositing is in _core.

Sizing rule (labeling-rules.md section 2): the *measured* glyph height is >= ``min_height_ratio`` x
min(width, height) (default 5%), and never below ``MIN_GLYPH_PX`` = 10 px: CJK characters such as 生/成 lose
strokes below ~10 px of ink height (the smallest CJK bitmap fonts are 12 px), so a smaller label would not be
perceivable. If the label box plus its margin does not fit the frame at that size, ``FrameTooSmallError`` is
raised rather than shipping an illegible label (a 7x7 frame raises; with the default "AI生成" the smallest
frames that take a label are 39x20 px).

Video schedule (timestamps in seconds, so variable frame rate works): ``start`` labels every frame shown
before ``duration`` (>= 2 s) of playback; ``persistent`` labels every frame; ``start+end`` also labels the
frames shown during the last ``duration`` seconds (the clip duration must then be given).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _core
from .._checks import check_array, check_rows_contiguous, check_writable
from ..errors import FrameTooSmallError, InvalidArgumentError, InvalidTypeError
from ._render import RenderedLabel, render_label, resolve_font

MIN_GLYPH_PX = 10
MIN_DURATION_S = 2.0
POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom")
SCHEDULES = ("start", "persistent", "start+end")
PACKED_FORMATS = {"rgb24": 3, "bgr24": 3, "rgba": 4, "bgra": 4, "gray": 1}
FRAME_FORMATS = tuple(PACKED_FORMATS) + ("yuv420p", "yuvj420p", "nv12")  # yuvj420p: full-range 4:2:0
# (Kr, Kb) of the YUV matrices.
_MATRICES = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def _rgb_tuple(value, name: str) -> tuple[int, int, int]:
    try:
        rgb = tuple(int(v) for v in value)
    except TypeError:
        raise InvalidTypeError(f"{name}: expected an (R, G, B) tuple, got {value!r}") from None
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise InvalidArgumentError(f"{name}: expected an (R, G, B) tuple of 0..255, got {value!r}")
    return rgb


def rgb_to_yuv(rgb, matrix: str = "bt601", full_range: bool = False) -> tuple[int, int, int]:
    """One RGB colour as 8-bit Y'CbCr (limited range unless full_range)."""
    kr, kb = _MATRICES[matrix]
    r, g, b = (v / 255.0 for v in rgb)
    y = kr * r + (1 - kr - kb) * g + kb * b
    cb = (b - y) / (2 * (1 - kb))
    cr = (r - y) / (2 * (1 - kr))
    if full_range:
        yuv = (255 * y, 128 + 255 * cb, 128 + 255 * cr)
    else:
        yuv = (16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr)
    return tuple(int(min(255, max(0, round(v)))) for v in yuv)


def _colours(rgb, fmt: str, yuv_matrix: str, full_range: bool) -> list[int]:
    r, g, b = rgb
    if fmt == "rgb24":
        return [r, g, b]
    if fmt == "bgr24":
        return [b, g, r]
    if fmt == "rgba":
        return [r, g, b, 255]
    if fmt == "bgra":
        return [b, g, r, 255]
    if fmt == "gray":
        return [rgb_to_yuv(rgb, yuv_matrix, True)[0]]
    return list(rgb_to_yuv(rgb, yuv_matrix, full_range))


class VisibleLabel:
    """A visible text label for images and video frames.

    >>> label = VisibleLabel()                      # "AI生成", top-left, glyphs >= 5% of min(w, h)
    >>> label.apply(frame, t=pts_seconds)           # in place; returns the frame
    """

    def __init__(
        self,
        text: str = "AI生成",
        position: str = "top-left",
        min_height_ratio: float = 0.05,
        schedule: str = "start",
        duration: float = MIN_DURATION_S,
        font=None,
        *,
        margin_ratio: float = 0.02,
        text_color=(255, 255, 255),
        box_color=(0, 0, 0),
        box_opacity: float = 0.6,
        yuv_matrix: str = "bt601",
        yuv_full_range: bool = False,
    ) -> None:
        if position not in POSITIONS:
            raise InvalidArgumentError(f"position: expected one of {POSITIONS}, got {position!r}")
        if schedule not in SCHEDULES:
            raise InvalidArgumentError(f"schedule: expected one of {SCHEDULES}, got {schedule!r}")
        ratio = float(min_height_ratio)
        if not (0.05 <= ratio <= 0.5):
            raise InvalidArgumentError(
                f"min_height_ratio: expected 0.05 <= ratio <= 0.5 (5% is the legal minimum), got {min_height_ratio!r}"
            )
        duration = float(duration)
        if not (math.isfinite(duration) and duration >= MIN_DURATION_S):
            raise InvalidArgumentError(f"duration: the label must show for >= {MIN_DURATION_S} s, got {duration!r}")
        if not (0.0 <= float(margin_ratio) <= 0.2):
            raise InvalidArgumentError(f"margin_ratio: expected 0..0.2, got {margin_ratio!r}")
        if not (0.0 <= float(box_opacity) <= 1.0):
            raise InvalidArgumentError(f"box_opacity: expected 0..1, got {box_opacity!r}")
        if yuv_matrix not in _MATRICES:
            raise InvalidArgumentError(f"yuv_matrix: expected one of {tuple(_MATRICES)}, got {yuv_matrix!r}")
        self.text = text
        self.position = position
        self.min_height_ratio = ratio
        self.schedule = schedule
        self.duration = duration
        self.font_path = resolve_font(font)
        self.margin_ratio = float(margin_ratio)
        self.text_color = _rgb_tuple(text_color, "text_color")
        self.box_color = _rgb_tuple(box_color, "box_color")
        self.box_opacity = float(box_opacity)
        self.yuv_matrix = yuv_matrix
        self.yuv_full_range = bool(yuv_full_range)
        from ._render import check_glyphs

        check_glyphs(text, self.font_path)  # fail at construction on text the font cannot draw

    def __repr__(self) -> str:
        return (
            f"VisibleLabel(text={self.text!r}, position={self.position!r}, min_height_ratio={self.min_height_ratio}, "
            f"schedule={self.schedule!r}, duration={self.duration})"
        )

    # -- when --------------------------------------------------------------------------------------
    def needs_label(self, t: float, duration: float | None = None, t_end: float | None = None) -> bool:
        """Whether the frame presented at `t` seconds (until `t_end`, if known) must carry the label.

        `duration` is the clip's total duration (needed by ``start+end``).
        """
        t = float(t)
        if not math.isfinite(t):
            raise InvalidArgumentError(f"t: expected a finite timestamp in seconds, got {t!r}")
        end = t if t_end is None else float(t_end)
        if self.schedule == "persistent" or t < self.duration:
            return True
        if self.schedule == "start+end":
            if duration is None:
                raise InvalidArgumentError("duration: schedule 'start+end' needs the clip duration in seconds")
            return end > float(duration) - self.duration or t >= float(duration) - self.duration
        return False

    # -- where and how big -------------------------------------------------------------------------
    def layout(self, width: int, height: int) -> tuple[RenderedLabel, int, int]:
        """The rendered label for a width x height frame and its top-left position."""
        if width <= 0 or height <= 0:
            raise FrameTooSmallError(f"frame: {width}x{height} has no pixels")
        short = min(width, height)
        glyph_px = max(MIN_GLYPH_PX, math.ceil(self.min_height_ratio * short - 1e-9))
        rendered = render_label(self.text, glyph_px, self.font_path, self.box_opacity)
        lh, lw = rendered.shape
        margin = max(1, round(self.margin_ratio * short))
        if lw + 2 * margin > width or lh + 2 * margin > height:
            raise FrameTooSmallError(
                f"frame: {width}x{height} is too small for a legible label {self.text!r} "
                f"({lw}x{lh} px box for {rendered.glyph_height} px glyphs, minimum {MIN_GLYPH_PX} px, plus a {margin} px margin)"
            )
        left, right, center = margin, width - margin - lw, (width - lw) // 2
        top, bottom = margin, height - margin - lh
        x = {"top-left": left, "bottom-left": left, "top-right": right, "bottom-right": right}.get(self.position, center)
        y = top if self.position.startswith("top") else bottom
        return rendered, x, y

    # -- apply -------------------------------------------------------------------------------------
    def apply(self, frame, t: float | None = None, *, pixel_format: str | None = None, duration: float | None = None):
        """Composite the label into `frame` in place (if the schedule asks for it at `t`) and return it.

        `frame` is a uint8 ndarray ((H, W, 3) rgb24/bgr24, (H, W, 4) rgba/bgra, (H, W) gray) or an
        ``av.VideoFrame`` in rgb24/bgr24/rgba/bgra/gray/yuv420p/nv12, written through views of its planes.
        `t=None` always labels (images).
        """
        # the frame is checked whether or not the schedule labels it: a bad frame fails on every call
        if isinstance(frame, np.ndarray):
            fmt = self._check_array(frame, pixel_format)
        elif hasattr(frame, "planes") and hasattr(frame, "format"):
            fmt = self._check_av(frame, pixel_format)
        else:
            raise InvalidTypeError(f"frame: expected a numpy array or av.VideoFrame, got {type(frame).__name__}")
        if t is not None and not self.needs_label(t, duration):
            return frame
        if isinstance(frame, np.ndarray):
            self._packed(frame, fmt)
        else:
            self._apply_av(frame, fmt)
        return frame

    def _packed(self, arr: np.ndarray, fmt: str) -> None:
        h, w = arr.shape[:2]
        r, x, y = self.layout(w, h)
        tc = _colours(self.text_color, fmt, self.yuv_matrix, self.yuv_full_range)
        bc = _colours(self.box_color, fmt, self.yuv_matrix, self.yuv_full_range)
        _core.composite_packed(arr, r.text, r.box, x, y, tc, bc)

    @staticmethod
    def _check_array(arr: np.ndarray, pixel_format: str | None) -> str:
        check_array(arr, "frame", dtypes=(np.uint8,), ndims=(2, 3))
        check_writable(arr, "frame")
        check_rows_contiguous(arr, "frame")
        chans = 1 if arr.ndim == 2 else arr.shape[2]
        if pixel_format is None:
            pixel_format = {1: "gray", 3: "rgb24", 4: "rgba"}.get(chans)
        if pixel_format not in PACKED_FORMATS:
            raise InvalidArgumentError(
                f"pixel_format: arrays take one of {tuple(PACKED_FORMATS)}, got {pixel_format!r} "
                "(pass an av.VideoFrame for yuv420p/nv12)"
            )
        if PACKED_FORMATS[pixel_format] != chans:
            raise InvalidArgumentError(f"frame: {pixel_format} needs {PACKED_FORMATS[pixel_format]} channels, got shape {arr.shape}")
        return pixel_format

    @staticmethod
    def _check_av(frame, pixel_format: str | None) -> str:
        fmt = frame.format.name
        if pixel_format is not None and pixel_format != fmt:
            raise InvalidArgumentError(f"pixel_format: the av.VideoFrame is {fmt}, not {pixel_format}")
        if fmt not in FRAME_FORMATS:
            raise InvalidArgumentError(f"frame: pixel format {fmt!r} is not supported; use one of {FRAME_FORMATS}")
        return fmt

    def _apply_av(self, frame, fmt: str) -> None:
        w, h = frame.width, frame.height
        if fmt in PACKED_FORMATS:
            self._packed(plane_view(frame.planes[0], h, w, PACKED_FORMATS[fmt]), fmt)
            return
        r, x, y = self.layout(w, h)
        full = self.yuv_full_range or fmt == "yuvj420p"
        tc = _colours(self.text_color, fmt, self.yuv_matrix, full)
        bc = _colours(self.box_color, fmt, self.yuv_matrix, full)
        ch, cw = (h + 1) // 2, (w + 1) // 2
        yp = plane_view(frame.planes[0], h, w, 1)
        if fmt in ("yuv420p", "yuvj420p"):
            up = plane_view(frame.planes[1], ch, cw, 1)
            vp = plane_view(frame.planes[2], ch, cw, 1)
            _core.composite_yuv420p(yp, up, vp, r.text, r.box, x, y, tc, bc)
        else:
            uv = plane_view(frame.planes[1], ch, cw, 2)
            _core.composite_nv12(yp, uv, r.text, r.box, x, y, tc, bc)


def plane_view(plane, height: int, width: int, channels: int) -> np.ndarray:
    """A writable (height, width[, channels]) uint8 view of a PyAV plane honouring its line size (no copy)."""
    buf = np.frombuffer(plane, dtype=np.uint8)
    ls = plane.line_size
    if ls < width * channels or buf.size < ls * (height - 1) + width * channels:
        raise InvalidArgumentError(f"frame: plane buffer too small for {width}x{height}x{channels} (line size {ls})")
    if channels == 1:
        view = np.lib.stride_tricks.as_strided(buf, shape=(height, width), strides=(ls, 1))
    else:
        view = np.lib.stride_tricks.as_strided(buf, shape=(height, width, channels), strides=(ls, channels, 1))
    return view


def label_image(image: np.ndarray, pixel_format: str | None = None, **kwargs) -> np.ndarray:
    """A labeled copy of `image` (uint8 (H, W, 3|4) or (H, W)); `kwargs` go to VisibleLabel."""
    check_array(image, "image", dtypes=(np.uint8,), ndims=(2, 3))
    out = np.array(image, copy=True, order="C")
    VisibleLabel(**kwargs).apply(out, pixel_format=pixel_format)
    return out
