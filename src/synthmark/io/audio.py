"""Audio side of the file pipeline: settings, float32 planar chunks in and out of PyAV frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

_DEFAULT_CODEC = {"webm": "libopus", "ogg": "libopus", "mp3": "libmp3lame", "flac": "flac", "wav": "pcm_s16le"}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: rates the audio watermark works at; other sources are resampled to 48 kHz
WATERMARK_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)


@dataclass
class AudioSettings:
    """How the labeled audio is re-encoded. ``codec`` None: the container's default (AAC; Opus for
    WebM/Ogg; the source PCM format for WAV; MP3, FLAC for those files)."""

    codec: str | None = None
    bitrate: int | None = None
    options: dict = field(default_factory=dict)

    def codec_for(self, muxer: str, source_codec: str) -> str:
        if self.codec:
            return self.codec
        if muxer == "wav" and source_codec.startswith("pcm_"):
            return source_codec
        return _DEFAULT_CODEC.get(muxer, "aac")

    def check(self, muxer: str | None = None) -> None:
        """Refuse an unknown encoder, one the ``muxer`` container cannot hold, or a bitrate <= 0 (before
        any work)."""
        from .video import _check_bitrate, check_container_holds, check_encoder

        if self.codec is not None:
            codec = check_encoder(self.codec, "audio", "audio_codec")
            if muxer is not None:
                check_container_holds(muxer, codec, "audio_codec")
        _check_bitrate(self.bitrate, "audio_bitrate")


def add_audio_encoder(out, istream, settings: AudioSettings, muxer: str):
    cc = istream.codec_context
    codec = settings.codec_for(muxer, cc.name)
    rate = cc.sample_rate
    if rate not in WATERMARK_RATES or (codec == "libopus" and rate not in _OPUS_RATES):
        rate = 48000
    ostream = out.add_stream(codec, rate=rate)
    n = cc.layout.nb_channels
    ostream.layout = {1: "mono", 2: "stereo"}.get(n, cc.layout)  # WAV decodes as "2 channels": name it
    if settings.bitrate:
        ostream.bit_rate = int(settings.bitrate)
    elif codec == "aac":
        # 96 kb/s per channel: FFmpeg's AAC at 64 kb/s per channel halves the audio watermark's margin
        ostream.bit_rate = max(96000 * min(cc.layout.nb_channels, 2), cc.bit_rate or 0)
    elif codec == "libmp3lame":
        # likewise for MP3 (LAME's default is 128 kb/s stereo, 64 per channel): measured on the file-job
        # sample (12 s, MP3 source, 12 payloads), the payload is read from the labeled MP3 in 8/12 at
        # 128 kb/s and 12/12 at 192 kb/s, and after a further AAC re-encode likewise. MP3 tops out at
        # 320 kb/s (160 at 16-24 kHz, 64 at 8 kHz; LAME clamps to its format's maximum)
        ostream.bit_rate = min(320000, max(96000 * min(cc.layout.nb_channels, 2), cc.bit_rate or 0))
    if settings.options:
        ostream.options = {k: str(v) for k, v in settings.options.items()}
    ostream.time_base = Fraction(1, rate)
    return ostream


class FloatPlanarReader:
    """Converts decoded audio frames to float32 (channels, n) arrays at a fixed rate and layout."""

    def __init__(self, rate: int, layout: str):
        self.rate, self.layout = rate, layout
        self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        self._input = None  # (format, layout, rate) of the frames the resampler was built for

    def convert(self, frame: av.AudioFrame | None):
        if frame is not None:
            now = (frame.format.name, frame.layout.name, frame.sample_rate)
            if self._input is not None and now != self._input:
                # the stream changed mid-way (a mono MP3 with stereo frames): PyAV's resampler would then
                # follow the input's layout, so flush it and start one for the new input, same output
                yield from self._out(self._resampler.resample(None))
                self._resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
            self._input = now
        yield from self._out(self._resampler.resample(frame))

    @staticmethod
    def _out(frames):
        for f in frames:
            yield f.to_ndarray().astype(np.float32, copy=False)


class FloatPlanarWriter:
    """Turns float32 (channels, n) chunks into frames with running sample timestamps and encodes them."""

    def __init__(self, ostream, start_pts: int = 0):
        self.ostream = ostream
        self.rate = ostream.codec_context.sample_rate
        self.layout = ostream.codec_context.layout.name
        self.pts = start_pts

    def encode(self, samples: np.ndarray):
        if samples is None or samples.shape[-1] == 0:
            return []
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=self.layout)
        frame.sample_rate = self.rate
        frame.time_base = Fraction(1, self.rate)
        frame.pts = self.pts
        self.pts += samples.shape[-1]
        return self.ostream.encode(frame)

    def flush(self):
        return self.ostream.encode(None)
