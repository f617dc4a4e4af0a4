"""Video side of the file pipeline: encoder settings, writable frames, streaming decode for detection."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from ..errors import InvalidArgumentError, InvalidTypeError

#: encoders that take x264/x265-style ``crf`` and ``preset`` options
_X26X = ("libx264", "libx265")
#: the ``crf`` scale of encoders that have one (8-bit output)
CRF_RANGE = {"libx264": (0, 51), "libx265": (0, 51), "libvpx-vp9": (0, 63), "libvpx": (4, 63),
             "libaom-av1": (0, 63), "libsvtav1": (0, 63)}


def check_encoder(name, kind: str, argname: str) -> str:
    """The canonical name of the ``kind`` ('video'/'audio') encoder ``name``; InvalidArgumentError when
    this FFmpeg build has no such encoder."""
    if not isinstance(name, str):
        raise InvalidTypeError(f"{argname}: expected an encoder name (str), got {type(name).__name__}")
    try:
        codec = av.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        raise InvalidArgumentError(f"{argname}: no {kind} encoder named {name!r} in this FFmpeg build "
                                   "(see 'ffmpeg -encoders')") from None
    if codec.type != kind:
        raise InvalidArgumentError(f"{argname}: {name!r} is not a{'n' if kind == 'audio' else ''} {kind} encoder "
                                   f"(it encodes {codec.type})")
    return codec.name


#: what muxers without a codec table take (FFmpeg cannot say; PyAV's check lets anything through and the
#: header write fails at the first packet): decoder names, compared by codec id
_ONLY_CODECS = {"ogg": ("opus", "vorbis", "flac", "speex", "theora", "vp8"), "flac": ("flac",)}


def check_container_holds(muxer: str, codec: str, argname: str) -> None:
    """InvalidArgumentError when the ``muxer`` container has no mapping for ``codec`` (VP8 in MP4, H.264 in
    WebM, AAC in MP3 or Ogg, ...): the check PyAV's ``add_stream`` makes, done before any work."""
    only = _ONLY_CODECS.get(muxer)
    if only is not None and av.Codec(codec, "w").id not in {av.Codec(n, "r").id for n in only}:
        raise InvalidArgumentError(f"{argname}: the {muxer} container cannot hold {codec!r} (it takes "
                                   f"{', '.join(only)}; choose another encoder, or another output extension)")
    container = av.open(io.BytesIO(), "w", format=muxer)
    try:
        container.add_stream(codec)
    except ValueError:
        raise InvalidArgumentError(f"{argname}: the {muxer} container cannot hold {codec!r} (choose another "
                                   "encoder, or another output extension)") from None
    finally:
        container.close()


def _check_bitrate(value, argname: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{argname}: expected an int (bits/s) or None, got {type(value).__name__}")
    if value <= 0:
        raise InvalidArgumentError(f"{argname}: expected bits/s > 0, got {value}")


@dataclass
class VideoSettings:
    """How the labeled video is re-encoded.

    ``codec`` None picks the container's default (H.264, or VP9 for WebM). ``crf`` is the constant
    quality (18 is visually close to a good source); ``bitrate`` (bits/s) replaces it when given.
    """

    codec: str | None = None
    crf: int | None = 18
    bitrate: int | None = None
    preset: str | None = "veryfast"
    pix_fmt: str = "yuv420p"
    options: dict = field(default_factory=dict)

    def codec_for(self, muxer: str) -> str:
        if self.codec:
            return self.codec
        return "libvpx-vp9" if muxer == "webm" else "libx264"

    def check(self, muxer: str | None) -> None:
        """Refuse an unknown encoder, one the ``muxer`` container cannot hold (None: no container, a
        still), a ``crf`` outside the encoder's scale or a bitrate <= 0 (before any work)."""
        codec = self.codec_for(muxer)
        if self.codec is not None:
            codec = check_encoder(self.codec, "video", "video_codec")
            if muxer is not None:
                check_container_holds(muxer, codec, "video_codec")
        _check_bitrate(self.bitrate, "video_bitrate")
        if self.crf is not None:
            if isinstance(self.crf, bool) or not isinstance(self.crf, (int, np.integer)):
                raise InvalidTypeError(f"crf: expected an int or None, got {type(self.crf).__name__}")
            lo, hi = CRF_RANGE.get(codec, (None, None))
            if lo is not None and not lo <= self.crf <= hi:
                raise InvalidArgumentError(f"crf: expected {lo}..{hi} for {codec}, got {self.crf}")


def add_video_encoder(out, istream, settings: VideoSettings, muxer: str):
    """An output video stream matching ``istream`` (size, frame rate, time base)."""
    codec = settings.codec_for(muxer)
    rate = istream.average_rate or istream.guessed_rate or Fraction(25)
    ostream = out.add_stream(codec, rate=rate)
    cc = istream.codec_context
    ostream.width, ostream.height = cc.width, cc.height
    ostream.pix_fmt = settings.pix_fmt
    if istream.time_base:
        ostream.time_base = istream.time_base
        ostream.codec_context.time_base = istream.time_base
    opts = {}
    if settings.bitrate:
        ostream.bit_rate = int(settings.bitrate)
    elif settings.crf is not None:
        opts["crf"] = str(int(settings.crf))
        if codec == "libvpx-vp9":
            opts["b"] = "0"
    if codec in _X26X and settings.preset:
        opts["preset"] = settings.preset
    if codec == "libx265":
        opts.setdefault("x265-params", "log-level=error")
    if codec == "libvpx-vp9":
        opts.setdefault("deadline", "good")  # realtime/speed 8 smears the fine detail the watermark lives in
        opts.setdefault("cpu-used", "4")
        opts.setdefault("row-mt", "1")
    opts.update({k: str(v) for k, v in settings.options.items()})
    ostream.options = opts
    return ostream


def writable_frame(frame: av.VideoFrame, pix_fmt: str = "yuv420p") -> av.VideoFrame:
    """A frame in ``pix_fmt`` whose buffers are ours to modify (decoder reference frames are shared)."""
    if frame.format.name != pix_fmt:
        out = frame.reformat(format=pix_fmt)
        out.pts, out.time_base = frame.pts, frame.time_base
    else:
        out = frame
        out.make_writable()
    out.pict_type = 0  # let the encoder choose frame types (decoded frames carry theirs)
    return out


def plane_view(frame: av.VideoFrame, index: int = 0) -> np.ndarray:
    """Writable (height, width) uint8 view of one plane (row stride = line size, padding skipped)."""
    plane = frame.planes[index]
    a = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    return a[: plane.height, : plane.width]


def encode_still(path: str, frame: av.VideoFrame, codec: str, quality: int | None = None) -> None:
    """Write one frame as a PNG ('png') or JPEG ('mjpeg') file."""
    with av.open(path, "w", format="image2", options={"update": "1"}) as c:
        s = c.add_stream(codec, rate=1)
        s.width, s.height = frame.width, frame.height
        if codec == "png":
            s.pix_fmt = "rgb24" if frame.format.name != "rgba" else "rgba"
        else:
            s.pix_fmt = "yuvj420p" if frame.format.name.startswith("yuvj") else "yuvj420p"
            s.codec_context.qscale = quality or 2
            s.options = {"qmin": str(quality or 2), "qmax": str(quality or 2)}
        fr = frame.reformat(format=s.pix_fmt)
        fr.pts = 0
        for p in s.encode(fr):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def oriented(frame: av.VideoFrame, orientation: int) -> av.VideoFrame:
    """``frame`` (packed rgb24/rgba) turned as EXIF ``orientation`` (1..8) says it is displayed."""
    if orientation == 1:
        return frame
    a = frame.to_ndarray()
    a = {
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: x.swapaxes(0, 1),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: x.swapaxes(0, 1)[::-1, ::-1],
        8: lambda x: np.rot90(x, 1),
    }[orientation](a)
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(a), format=frame.format.name)
