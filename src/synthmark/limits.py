"""Resource limits for untrusted media: checked from headers, before decoding.

A 747 KB PNG can declare 16000x16000 pixels (768 MB decoded, several GB through the pipeline); a small
file can declare hours. label_file/inspect_file take ``max_pixels`` (per frame) and label_file
``max_seconds`` (duration), with the defaults below; a caller raises them for files it trusts.
"""

from __future__ import annotations

import math
import os
import struct

from .errors import InvalidArgumentError, InvalidTypeError, LimitExceededError

#: pixels per frame: above every current camera up to 150 MP medium format and 108 MP phones, 4.5x 8K
#: video; a 200 MP phone photo needs max_pixels raised
MAX_PIXELS = 150_000_000
#: duration label_file accepts: longer than feature films
MAX_SECONDS = 4 * 3600.0
#: audio streams beyond these are not media we label (FFmpeg itself stops at 64 channels for most layouts)
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 64
#: float32 values of audio decoded into one array for analysis (1 GiB)
MAX_AUDIO_VALUES = 1 << 28


def check_max_pixels(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"max_pixels: expected an int or None, got {type(value).__name__}")
    if value <= 0:
        raise InvalidArgumentError(f"max_pixels: expected > 0, got {value}")
    return value


def check_max_seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"max_seconds: expected a number or None, got {type(value).__name__}")
    if not (value > 0 and math.isfinite(value)):
        raise InvalidArgumentError(f"max_seconds: expected a finite number > 0, got {value}")
    return float(value)


def check_pixels(where, width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise LimitExceededError(
            f"{os.fspath(where)}: {width}x{height} pixels ({width * height / 1e6:.1f} MP) per frame is over the "
            f"limit of {max_pixels / 1e6:g} MP (raise max_pixels=, or --max-pixels, for a file you trust)")


def check_duration(where, seconds: float | None, max_seconds: float | None) -> None:
    if max_seconds is not None and seconds is not None and seconds > max_seconds:
        raise LimitExceededError(
            f"{os.fspath(where)}: {seconds:.1f} s is over the limit of {max_seconds:g} s "
            "(raise max_seconds=, or --max-seconds, for a file you trust)")


#: bytes read to find a JPEG's frame header (APPn blocks come first; each is at most 64 KiB)
_JPEG_HEAD = 4 << 20


def still_dimensions(path, kind: str) -> tuple[int, int] | None:
    """(width, height) a PNG or JPEG file declares, from its header bytes only; None if not found."""
    from .errors import MediaError
    from .metadata import jpeg, png

    with open(path, "rb") as f:
        head = f.read(33 if kind == "png" else _JPEG_HEAD)
    if kind == "png":
        if len(head) == 33 and head.startswith(png.SIGNATURE) and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        return None
    try:
        return jpeg.dimensions(head)
    except MediaError:  # the prefix cuts a segment, or the file is damaged: PyAV's stream check still applies
        return None
