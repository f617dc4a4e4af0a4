"""The streaming decode -> process -> encode loop of the file pipeline.

Packets are demuxed in file order, each one is decoded, its frames are processed and encoded, and the
encoded packets are muxed at once: memory holds a few frames, whatever the file's length. Video and
audio are re-encoded; subtitle streams are copied; timestamps of the source are kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import av
import numpy as np

from .. import limits
from ..errors import InvalidArgumentError, LimitExceededError, MediaError
from .remux import METADATA_ERRORS
from .audio import AudioSettings, FloatPlanarReader, FloatPlanarWriter, add_audio_encoder
from .video import VideoSettings, add_video_encoder, writable_frame

#: muxer per sniffed format family (same family in and out)
MUXER = {"mp4": "mp4", "mov": "mov", "matroska": "matroska", "webm": "webm",
         "wav": "wav", "mp3": "mp3", "flac": "flac", "ogg": "ogg"}
#: muxer options that make the container keep custom metadata keys such as AIGC
MUXER_OPTIONS = {"mp4": {"movflags": "use_metadata_tags"}, "mov": {"movflags": "use_metadata_tags"}}
_SKIP_METADATA = {"major_brand", "minor_version", "compatible_brands", "encoder", "aigc"}


@dataclass
class TranscodeStats:
    video_frames: int = 0
    audio_samples: int = 0
    copied_packets: int = 0
    duration: float | None = None
    media_end: float = 0.0  # latest end time (s) of any decoded frame
    longest_frame: float = 0.0
    streams: list = field(default_factory=list)


def _media_error(src, exc) -> MediaError:
    msg = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return MediaError(f"cannot decode {os.fspath(src)}: {msg} (corrupt, truncated or unsupported)")


def _open_encoder(ostream, role: str) -> None:
    """Open an output stream's encoder before any frame is decoded, so settings it refuses (an unknown
    preset, a pixel format it lacks, a hardware encoder without its device) are reported as such. Left
    to the first encode, the failure was taken for damage in the input ('cannot decode ...')."""
    cc = ostream.codec_context
    try:
        cc.open(strict=False)
    except av.FFmpegError as exc:
        opts = ", ".join(f"{k}={v}" for k, v in sorted((cc.options or {}).items())) or "no options"
        what = f"pix_fmt {ostream.pix_fmt}, {cc.width}x{cc.height}" if role == "video" else f"{cc.sample_rate} Hz"
        msg = getattr(exc, "strerror", None) or str(exc)
        raise InvalidArgumentError(f"{role}_codec: the {cc.name} encoder does not open with these settings "
                                   f"({opts}; {what}): {msg}") from None


def _is_attached_pic(stream) -> bool:
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except AttributeError:  # pragma: no cover
        return False


def _unusable_stream(stream) -> str | None:
    """Why an audio/video stream cannot be decoded (a corrupt header leaves no codec), else None."""
    cc = stream.codec_context
    if cc is None:
        return "no decoder for its codec"
    if stream.type == "video" and not _is_attached_pic(stream) and (cc.width <= 0 or cc.height <= 0):
        return f"frame size {cc.width}x{cc.height}"
    if stream.type == "audio" and (not cc.sample_rate or cc.sample_rate <= 0 or cc.layout is None
                                   or cc.layout.nb_channels <= 0):
        return "no sample rate or channel layout"
    if stream.type == "audio" and cc.sample_rate > limits.MAX_SAMPLE_RATE:
        return f"sample rate {cc.sample_rate} Hz (at most {limits.MAX_SAMPLE_RATE} are supported)"
    if stream.type == "audio" and cc.layout.nb_channels > limits.MAX_CHANNELS:
        return f"{cc.layout.nb_channels} channels (at most {limits.MAX_CHANNELS} are supported)"
    return None


def open_input(src, max_pixels: int | None = None):
    """The opened container; MediaError when a stream cannot be decoded, LimitExceededError when a video
    stream's frames are over ``max_pixels`` (checked from the headers, before any frame is decoded)."""
    try:
        container = av.open(os.fspath(src), metadata_errors=METADATA_ERRORS)
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise _media_error(src, exc) from None
    try:
        for stream in list(container.streams.video) + list(container.streams.audio):
            why = _unusable_stream(stream)
            if why is not None:
                raise MediaError(f"cannot decode {os.fspath(src)}: {stream.type} stream #{stream.index}: {why} "
                                 "(corrupt, truncated or unsupported)")
            if stream.type == "video":
                limits.check_pixels(src, stream.codec_context.width, stream.codec_context.height, max_pixels)
    except BaseException:
        container.close()  # after the message is built: PyAV frees the stream objects here
        raise
    return container


def transcode(
    src,
    dst,
    kind: str,
    *,
    video_fn: Callable[[av.VideoFrame], None] | None = None,
    audio_factory: Callable[[int, int], object] | None = None,
    video: VideoSettings | None = None,
    audio: AudioSettings | None = None,
    metadata: dict | None = None,
    progress: Callable[[float], None] | None = None,
    max_pixels: int | None = None,
    max_seconds: float | None = None,
) -> TranscodeStats:
    """Re-encode ``src`` into ``dst`` (format family ``kind``), applying the processors.

    ``video_fn(frame)`` modifies a writable yuv420p ``av.VideoFrame`` in place. ``audio_factory(rate,
    channels)`` returns an object with ``process(samples) -> samples`` and ``flush() -> samples`` on
    float32 (channels, n) arrays (it may delay samples; it must return as many as it was given in
    total). ``metadata`` is merged over the source's container tags. LimitExceededError when a frame is
    over ``max_pixels`` or the media runs past ``max_seconds`` (whatever the container declared).
    """
    video = video or VideoSettings()
    audio = audio or AudioSettings()
    muxer = MUXER[kind]
    stats = TranscodeStats()
    inp = open_input(src, max_pixels)
    try:
        with inp, av.open(os.fspath(dst), "w", format=muxer, options=MUXER_OPTIONS.get(muxer, {})) as out:
            for k, v in inp.metadata.items():
                if k.lower() not in _SKIP_METADATA:
                    out.metadata[k] = v
            if metadata:
                out.metadata.update(metadata)
            if inp.duration:
                stats.duration = inp.duration / av.time_base
            plan = {}  # input stream index -> (role, state)
            for s in inp.streams:
                if s.type == "video" and not _is_attached_pic(s):  # (open_input checked its size)
                    plan[s.index] = ("video", add_video_encoder(out, s, video, muxer))
                elif s.type == "audio":
                    o = add_audio_encoder(out, s, audio, muxer)
                    cc = o.codec_context
                    proc = audio_factory(cc.sample_rate, cc.layout.nb_channels) if audio_factory else None
                    plan[s.index] = ("audio", [o, FloatPlanarReader(cc.sample_rate, cc.layout.name), None, proc])
                elif s.type in ("subtitle", "video"):
                    try:
                        plan[s.index] = ("copy", out.add_stream_from_template(s))
                    except (ValueError, av.FFmpegError):
                        continue  # the target container cannot hold it: dropped, reported below
                stats.streams.append((s.index, s.type, plan.get(s.index, ("dropped",))[0]))
            if not any(role in ("video", "audio") for role, _ in plan.values()):
                raise MediaError(f"{os.fspath(src)}: no audio or video stream")
            for role, state in plan.values():
                if role in ("video", "audio"):
                    _open_encoder(state if role == "video" else state[0], role)

            last_report = -1.0

            def report(t):
                nonlocal last_report
                if progress is not None and stats.duration:
                    frac = min(1.0, max(0.0, t / stats.duration))
                    if frac - last_report >= 0.01:
                        last_report = frac
                        progress(frac)

            def handle_audio(state, frame):
                o, reader, writer, proc = state
                for chunk in reader.convert(frame):
                    if writer is None:
                        start = 0
                        if frame is not None and frame.pts is not None and frame.time_base:
                            start = int(round(float(frame.pts * frame.time_base) * o.codec_context.sample_rate))
                        writer = state[2] = FloatPlanarWriter(o, max(0, start))
                    stats.audio_samples += chunk.shape[-1]
                    if proc is not None:
                        chunk = proc.process(chunk)
                    for p in writer.encode(chunk):
                        out.mux(p)

            for packet in inp.demux(*[inp.streams[i] for i in plan]):
                role, state = plan[packet.stream.index]
                if role == "copy":
                    if packet.size:
                        packet.stream = state
                        out.mux(packet)
                        stats.copied_packets += 1
                    continue
                for frame in packet.decode():
                    if max_seconds is not None and frame.time is not None and frame.time > max_seconds:
                        limits.check_duration(src, frame.time, max_seconds)  # the container understated it
                    if role == "video":
                        f = writable_frame(frame, video.pix_fmt)
                        if video_fn is not None:
                            video_fn(f)
                        stats.video_frames += 1
                        for p in state.encode(f):
                            out.mux(p)
                    else:
                        handle_audio(state, frame)
                    if frame.time is not None:
                        if role == "video":
                            d = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
                        else:
                            d = frame.samples / frame.sample_rate if frame.sample_rate else 0.0
                        stats.longest_frame = max(stats.longest_frame, d)
                        stats.media_end = max(stats.media_end, frame.time + d)
                        report(frame.time)
            # drain decoders' delayed output is part of demux (flush packets); now the encoders
            for role, state in plan.values():
                if role == "video":
                    for p in state.encode(None):
                        out.mux(p)
                elif role == "audio":
                    o, reader, writer, proc = state
                    handle_audio(state, None)
                    writer = state[2]
                    if writer is None:
                        continue
                    if proc is not None:
                        for p in writer.encode(proc.flush()):
                            out.mux(p)
                    for p in writer.flush():
                        out.mux(p)
            if progress is not None:
                progress(1.0)
    except av.FFmpegError as exc:
        raise _media_error(src, exc) from None
    if stats.video_frames == 0 and stats.audio_samples == 0:
        raise MediaError(f"{os.fspath(src)}: no decodable audio or video (empty, corrupt or truncated)")
    if stats.duration and stats.media_end < stats.duration - max(0.05, 2 * stats.longest_frame):
        raise MediaError(
            f"{os.fspath(src)} is truncated: its streams end at {stats.media_end:.3f} s but the container "
            f"declares {stats.duration:.3f} s"
        )
    return stats


def iter_video_frames(src, max_seconds: float | None = None, stream_index: int | None = None,
                      max_pixels: int | None = None):
    """Decoded frames of the first (or given) video stream, streaming; stops after ``max_seconds``."""
    inp = open_input(src, max_pixels)
    with inp:
        streams = [s for s in inp.streams.video if not _is_attached_pic(s)]
        if stream_index is not None:
            streams = [s for s in streams if s.index == stream_index]
        if not streams:
            return
        try:
            for frame in inp.decode(streams[0]):
                if max_seconds is not None and frame.time is not None and frame.time > max_seconds:
                    break
                yield frame
        except av.FFmpegError as exc:
            raise _media_error(src, exc) from None


def read_audio(src, max_seconds: float | None = None, stream_index: int | None = None):
    """(float32 (channels, n), rate) of the first (or given) audio stream, or None if there is none."""
    inp = open_input(src)
    with inp:
        streams = list(inp.streams.audio)
        if stream_index is not None:
            streams = [s for s in streams if s.index == stream_index]
        if not streams:
            return None
        s = streams[0]
        rate = s.codec_context.sample_rate
        reader = FloatPlanarReader(rate, s.codec_context.layout.name)
        chunks, n = [], 0
        limit = None if max_seconds is None else int(max_seconds * rate)
        try:
            for frame in inp.decode(s):
                for c in reader.convert(frame):
                    chunks.append(c)
                    n += c.shape[-1]
                if n * s.codec_context.layout.nb_channels > limits.MAX_AUDIO_VALUES:
                    raise LimitExceededError(
                        f"{os.fspath(src)}: more than {limits.MAX_AUDIO_VALUES} audio samples to analyse "
                        f"({n / rate:.0f} s so far); give max_seconds")
                if limit is not None and n >= limit:
                    break
            else:
                for c in reader.convert(None):
                    chunks.append(c)
        except av.FFmpegError as exc:
            raise _media_error(src, exc) from None
        if not chunks:
            return None
        samples = np.concatenate(chunks, axis=1)
        return (samples if limit is None else samples[:, :limit]), rate


def probe(src, max_pixels: int | None = None) -> dict:
    """Streams, duration and container tags of a media file (MediaError if it cannot be opened)."""
    inp = open_input(src, max_pixels)
    with inp:
        return {
            "format": inp.format.name,
            "metadata": dict(inp.metadata),
            "duration": inp.duration / av.time_base if inp.duration else None,
            "streams": [
                {"index": s.index, "type": s.type, "codec": s.codec_context.name if s.codec_context else None,
                 "attached_pic": _is_attached_pic(s)}
                for s in inp.streams
            ],
        }
