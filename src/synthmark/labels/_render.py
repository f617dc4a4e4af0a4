"""Rasterising label text into alpha masks (Pillow/FreeType), sized by the measured glyph height.

A rendered label is two uint8 masks of one size: ``box`` (a semi-opaque backing box plus an opaque outline
around the glyphs) and ``text`` (the glyph fill). The compositor blends the box colour first, then the text
colour, so the label stays legible on any background (white on a dark box with a dark outline by default).

"Glyph height" is measured, not nominal: the ink bounding box (pixels with alpha >= 128) of the rendered
text. The font size is searched so that the measured height is >= the requested height. Results are cached
per (text, height, font, style).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import InvalidArgumentError

FONT_DIR = Path(__file__).resolve().parent / "fonts"
DEFAULT_FONT = FONT_DIR / "NotoSansSC-Bold-subset.otf"
INK_THRESHOLD = 128  # alpha at or above which a pixel counts as glyph ink
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no label font maps


@dataclass(frozen=True)
class RenderedLabel:
    text: np.ndarray  # (h, w) uint8 glyph-fill alpha, read-only
    box: np.ndarray  # (h, w) uint8 box + outline alpha, read-only
    glyph_height: int  # measured ink height of the glyphs, pixels
    glyph_box: tuple  # (x0, y0, x1, y1) of the glyph ink inside the masks
    font_size: int  # nominal size that produced it

    @property
    def shape(self) -> tuple:
        return self.text.shape


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise InvalidArgumentError(f"font: cannot load {path!r}: {exc}") from None


def resolve_font(font) -> str:
    if font is None:
        return str(DEFAULT_FONT)
    path = Path(font)
    if not path.is_file():
        raise InvalidArgumentError(f"font: no such font file {str(path)!r}")
    return str(path.resolve())


@lru_cache(maxsize=64)
def check_glyphs(text: str, font_path: str) -> None:
    """Raise InvalidArgumentError when a character of `text` has no glyph in the font."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(f"text: expected a non-empty label text, got {text!r}")
    font = _font(font_path, 32)
    notdef = font.getmask(_NOTDEF_PROBE)
    notdef_key = (notdef.size, bytes(notdef))
    missing = []
    for ch in dict.fromkeys(text):
        if ch.isspace():
            continue
        if not ch.isprintable():
            raise InvalidArgumentError(f"text: control character {ch!r} in the label")
        mask = font.getmask(ch)
        if mask.getbbox() is None or (mask.size, bytes(mask)) == notdef_key:
            missing.append(ch)
    if missing:
        raise InvalidArgumentError(
            f"text: the font {Path(font_path).name!r} has no glyph for {''.join(missing)!r}; "
            "pass font= a font file that covers the label text"
        )


def _draw(text: str, font: ImageFont.FreeTypeFont, stroke: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    origin = (pad - left, pad - top)
    fill = Image.new("L", (w, h), 0)
    ImageDraw.Draw(fill).text(origin, text, fill=255, font=font)
    outline = Image.new("L", (w, h), 0)
    if stroke:
        ImageDraw.Draw(outline).text(origin, text, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    return np.asarray(fill), np.asarray(outline)


def _ink_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((mask >= INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((mask >= INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


@lru_cache(maxsize=256)
def _measured_height(text: str, font_path: str, size: int) -> int:
    fill, _ = _draw(text, _font(font_path, size), 0, 1)
    box = _ink_box(fill)
    return 0 if box is None else box[3] - box[1]


def _size_for_height(text: str, font_path: str, target: int) -> int:
    size = max(1, int(target / 0.9))
    while _measured_height(text, font_path, size) < target:
        size += 1
    while size > 1 and _measured_height(text, font_path, size - 1) >= target:
        size -= 1
    return size


@lru_cache(maxsize=128)
def render_label(text: str, glyph_px: int, font_path: str, box_opacity: float = 0.6) -> RenderedLabel:
    """Masks for `text` whose measured glyph height is >= glyph_px (the smallest font size achieving it)."""
    check_glyphs(text, font_path)
    size = _size_for_height(text, font_path, glyph_px)
    font = _font(font_path, size)
    stroke = max(1, round(glyph_px / 14))
    pad = max(2, math.ceil(0.2 * glyph_px))
    fill, outline = _draw(text, font, stroke, pad)
    ink = _ink_box(fill)
    assert ink is not None  # check_glyphs guarantees ink
    box = np.maximum(outline, np.uint8(round(255 * box_opacity)))
    text_mask = np.ascontiguousarray(fill)
    box_mask = np.ascontiguousarray(box)
    text_mask.setflags(write=False)
    box_mask.setflags(write=False)
    return RenderedLabel(text_mask, box_mask, ink[3] - ink[1], ink, size)
