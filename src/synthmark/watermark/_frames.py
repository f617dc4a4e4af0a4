"""Frames of any supported kind -> flat unit-stride uint8 views for the kernels, without copying.

Accepts numpy arrays (H x W luma plane, H x W x 3/4 packed RGB/BGR/RGBA/BGRA; any row pitch) and
PyAV ``VideoFrame`` objects (duck-typed: planar YUV and NV12/NV21 use plane 0, packed RGB formats use
their single plane), honouring the plane's line size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import check_rows_contiguous, check_writable
from ..errors import InvalidArgumentError, InvalidTypeError

# Luma weights x256 (BT.601, the weights of the full-range conversions PyAV and most tools use).
_RGB_WEIGHTS = (77, 150, 29)
_PACKED_FORMATS = {
    "rgb24": (3, _RGB_WEIGHTS),
    "bgr24": (3, _RGB_WEIGHTS[::-1]),
    "rgba": (4, _RGB_WEIGHTS),
    "bgra": (4, _RGB_WEIGHTS[::-1]),
    "rgb0": (4, _RGB_WEIGHTS),
    "bgr0": (4, _RGB_WEIGHTS[::-1]),
}
_LUMA_FIRST_FORMATS = {
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray", "yuv410p", "yuv411p",
}
PIXEL_FORMATS = tuple(sorted(set(_PACKED_FORMATS) | _LUMA_FIRST_FORMATS))


@dataclass
class PixelView:
    """A flat unit-stride view of a frame's luma-carrying plane."""

    flat: np.ndarray  # 1-D C-contiguous uint8 over the plane's memory, first pixel first
    height: int
    width: int
    stride: int  # elements from one row to the next
    channels: int
    weights: tuple  # luma weights x256 for packed formats


def _flat_view(arr: np.ndarray) -> np.ndarray:
    """1-D unit-stride view from the first element of a 2-D/3-D array to its last (rows may be padded)."""
    h = arr.shape[0]
    row_elems = arr.strides[0] // arr.itemsize
    inner = arr.shape[1] * (arr.shape[2] if arr.ndim == 3 else 1)
    length = (h - 1) * row_elems + inner if h > 0 else 0
    return np.lib.stride_tricks.as_strided(arr, shape=(length,), strides=(arr.itemsize,), writeable=arr.flags.writeable)


def pixel_view(frame, *, pixel_format: str | None, writable: bool, name: str = "frame") -> PixelView:
    if isinstance(frame, np.ndarray):
        return _array_view(frame, pixel_format, writable, name)
    fmt = getattr(getattr(frame, "format", None), "name", None)
    planes = getattr(frame, "planes", None)
    if fmt is None or planes is None:
        raise InvalidTypeError(f"{name}: expected a numpy array or av.VideoFrame, got {type(frame).__name__}")
    if fmt in _PACKED_FORMATS:
        channels, weights = _PACKED_FORMATS[fmt]
    elif fmt in _LUMA_FIRST_FORMATS:
        channels, weights = 1, (256, 0, 0)
    else:
        raise InvalidArgumentError(f"{name}: unsupported pixel format {fmt!r}; supported: {', '.join(PIXEL_FORMATS)}")
    plane = planes[0]
    buf = np.frombuffer(plane, dtype=np.uint8)
    if writable and not buf.flags.writeable:
        raise InvalidArgumentError(f"{name}: the frame's buffer is read-only")
    width, height, stride = int(frame.width), int(frame.height), int(plane.line_size)
    if height > 0 and buf.size < (height - 1) * stride + width * channels:
        raise InvalidArgumentError(f"{name}: plane buffer is smaller than its declared size")
    return PixelView(buf, height, width, stride, channels, weights)


def _array_view(arr: np.ndarray, pixel_format: str | None, writable: bool, name: str) -> PixelView:
    if arr.dtype != np.uint8:
        raise InvalidTypeError(f"{name}: expected uint8 array, got {arr.dtype}")
    if arr.ndim == 2:
        if pixel_format not in (None, "gray", "y"):
            raise InvalidArgumentError(f"{name}: a 2-D array is a luma plane; pixel_format {pixel_format!r} does not fit")
        channels, weights = 1, (256, 0, 0)
    elif arr.ndim == 3 and arr.shape[2] in (3, 4):
        fmt = pixel_format or ("rgb24" if arr.shape[2] == 3 else "rgba")
        if fmt not in _PACKED_FORMATS or _PACKED_FORMATS[fmt][0] != arr.shape[2]:
            raise InvalidArgumentError(f"{name}: pixel_format {fmt!r} does not fit an array of shape {arr.shape}")
        channels, weights = _PACKED_FORMATS[fmt]
    else:
        raise InvalidArgumentError(f"{name}: expected an H x W luma plane or H x W x 3/4 RGB array, got shape {arr.shape}")
    check_rows_contiguous(arr, name)
    if writable:
        check_writable(arr, name)
    return PixelView(_flat_view(arr), arr.shape[0], arr.shape[1], arr.strides[0] // arr.itemsize, channels, weights)
