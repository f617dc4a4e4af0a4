"""Built-in synthetic sample media: natural-looking moving pictures and speech-like audio.

Used by ``synthmark demo`` and by the tests; needs no input file and no download. The picture is a
slow camera pan over a procedurally generated landscape (smooth multi-scale noise, a sky gradient)
with an object moving across it; the audio is a voiced, syllable-paced harmonic signal with vibrato
and formant-like colouring, plus a little room noise.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np


def _smooth_noise(rng, h, w, octaves=5):
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        gh, gw = max(2, h >> (octaves - o)), max(2, w >> (octaves - o))
        g = rng.standard_normal((gh + 1, gw + 1)).astype(np.float32)
        ys = np.linspace(0, gh, h, dtype=np.float32)
        xs = np.linspace(0, gw, w, dtype=np.float32)
        y0, x0 = np.minimum(ys.astype(int), gh - 1), np.minimum(xs.astype(int), gw - 1)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)
        a, b = g[y0][:, x0], g[y0][:, x0 + 1]
        c, d = g[y0 + 1][:, x0], g[y0 + 1][:, x0 + 1]
        out += amp * ((a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy)
        total += amp
        amp *= 0.55
    return out / total


class SceneGenerator:
    """Yields RGB frames (uint8, HxWx3) of a panning landscape with a moving object."""

    def __init__(self, width=320, height=240, seed=7):
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        W = width * 2
        n = _smooth_noise(rng, height, W)
        n = (n - n.min()) / (np.ptp(n) + 1e-6)
        y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
        horizon = 0.45 + 0.12 * _smooth_noise(rng, 1, W, 3)[0][None, :]
        sky = np.stack([0.45 + 0.3 * y, 0.6 + 0.25 * y, 0.9 - 0.1 * y], -1) * np.ones((1, W, 1), np.float32)
        ground = np.stack([0.25 + 0.35 * n, 0.35 + 0.4 * n, 0.15 + 0.2 * n], -1)
        mask = (y > horizon)[..., None]
        img = np.where(mask, ground, sky + 0.05 * n[..., None])
        detail = _smooth_noise(rng, height, W, 7)[..., None]
        img = img + 0.06 * detail
        self._world = np.clip(img * 255, 0, 255).astype(np.uint8)
        self._yy, self._xx = np.mgrid[0:height, 0:width]

    def frame(self, i: int, fps: float = 25.0) -> np.ndarray:
        t = i / fps
        x0 = int((t * 20) % self.width)
        f = self._world[:, x0:x0 + self.width].copy()
        cx = self.width * (0.2 + 0.6 * ((t * 0.3) % 1.0))
        cy = self.height * (0.6 + 0.1 * np.sin(t * 2.0))
        r = self.height * 0.08
        d = (self._xx - cx) ** 2 + (self._yy - cy) ** 2
        ball = d < r * r
        shade = np.clip(1.2 - np.sqrt(d) / (r + 1e-6) * 0.5, 0.5, 1.2)
        f[ball] = np.clip(np.array([200, 60, 40])[None, :] * shade[ball][:, None], 0, 255).astype(np.uint8)
        return f


def speech_like(seconds: float, rate: int = 48000, channels: int = 2, seed: int = 3) -> np.ndarray:
    """float32 (channels, samples) voiced syllable-paced signal in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    f0 = 140 + 25 * np.sin(2 * np.pi * 0.7 * t) + 6 * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    sig = np.zeros(n)
    for k in range(1, 25):
        fk = k * 140
        formant = np.exp(-((fk - 700) / 300) ** 2) + 0.6 * np.exp(-((fk - 1200) / 400) ** 2) + 0.3 * np.exp(-((fk - 2600) / 500) ** 2)
        sig += (formant + 0.02) / k * np.sin(k * phase)
    syll = np.clip(np.sin(2 * np.pi * 3.2 * t) ** 2 * 1.3 - 0.15, 0, 1)
    env = syll * (0.6 + 0.4 * np.sin(2 * np.pi * 0.4 * t) ** 2)
    sig = sig * env + 0.01 * rng.standard_normal(n)
    sig = 0.5 * sig / (np.abs(sig).max() + 1e-9)
    out = np.stack([sig * (1 - 0.1 * c) for c in range(channels)]).astype(np.float32)
    return out


_AUDIO_FMT = {"aac": "fltp", "libopus": "flt", "libmp3lame": "fltp", "flac": "s16", "pcm_s16le": "s16", "libvorbis": "fltp"}


def _encode_audio(container, stream, samples: np.ndarray, rate: int):
    fmt = stream.codec_context.format.name if stream.codec_context.format else "fltp"
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    step = 1024
    pts = 0
    for s in range(0, samples.shape[1], step):
        chunk = samples[:, s:s + step]
        if fmt == "s16":
            arr = (np.clip(chunk, -1, 1) * 32767).astype(np.int16).T.reshape(1, -1).copy()
            frame = av.AudioFrame.from_ndarray(arr, format="s16", layout=layout)
        elif fmt == "flt":
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T.reshape(1, -1)), format="flt", layout=layout)
        else:
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        pts += chunk.shape[1]
        for p in stream.encode(frame):
            container.mux(p)
    for p in stream.encode(None):
        container.mux(p)


def make_clip(path, *, seconds: float = 2.0, width: int = 320, height: int = 240, fps: int = 25,
              vcodec: str = "libx264", acodec: str | None = "aac", rate: int = 48000, channels: int = 2,
              format: str | None = None, crf: int = 20, seed: int = 7) -> str:
    """Write a sample clip (video, plus audio unless ``acodec`` is None). Returns the path."""
    path = os.fspath(path)
    gen = SceneGenerator(width, height, seed)
    with av.open(path, "w", format=format) as c:
        vs = c.add_stream(vcodec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        if vcodec in ("libx264", "libx265"):
            vs.options = {"crf": str(crf), "preset": "veryfast"}
            if vcodec == "libx265":
                vs.options["x265-params"] = "log-level=error"
        elif vcodec == "libvpx-vp9":
            vs.options = {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8"}
        as_ = None
        if acodec:
            as_ = c.add_stream(acodec, rate=rate)
            as_.layout = "stereo" if channels == 2 else "mono"
        for i in range(int(round(seconds * fps))):
            fr = av.VideoFrame.from_ndarray(gen.frame(i, fps), format="rgb24").reformat(format="yuv420p")
            fr.pts = i
            for p in vs.encode(fr):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
        if as_ is not None:
            _encode_audio(c, as_, speech_like(seconds, rate, channels), rate)
    return path


def make_audio(path, *, codec: str, seconds: float = 2.0, rate: int = 48000, channels: int = 2,
               format: str | None = None) -> str:
    path = os.fspath(path)
    with av.open(path, "w", format=format) as c:
        s = c.add_stream(codec, rate=rate)
        s.layout = "stereo" if channels == 2 else "mono"
        if codec in _AUDIO_FMT:
            s.format = _AUDIO_FMT[codec]
        _encode_audio(c, s, speech_like(seconds, rate, channels), rate)
    return path


def make_image(path, *, width: int = 320, height: int = 240, codec: str = "png", seed: int = 7) -> str:
    """A still PNG (codec 'png') or JPEG (codec 'mjpeg') of the sample scene."""
    path = os.fspath(path)
    rgb = SceneGenerator(width, height, seed).frame(10)
    with av.open(path, "w", format="image2", options={"update": "1"}) as c:
        s = c.add_stream(codec, rate=1)
        s.width, s.height = width, height
        pix = "rgb24" if codec == "png" else "yuvj420p"
        s.pix_fmt = pix
        fr = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if pix != "rgb24":
            fr = fr.reformat(format=pix)
        fr.pts = 0
        for p in s.encode(fr):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def reencode_without_metadata(src, dst, *, crf: int = 23) -> str:
    """A plain re-encode (H.264 + AAC) that drops every metadata tag, as a re-upload would."""
    src, dst = os.fspath(src), os.fspath(dst)
    with av.open(src) as inp, av.open(dst, "w") as out:
        pairs = {}
        if inp.streams.video:
            iv = inp.streams.video[0]
            ov = out.add_stream("libx264", rate=iv.average_rate or 25)
            ov.width, ov.height, ov.pix_fmt = iv.codec_context.width, iv.codec_context.height, "yuv420p"
            ov.options = {"crf": str(crf), "preset": "veryfast"}
            pairs[iv.index] = ov
        if inp.streams.audio:
            ia = inp.streams.audio[0]
            oa = out.add_stream("aac", rate=ia.codec_context.sample_rate)
            oa.layout = "stereo" if ia.codec_context.layout.nb_channels == 2 else "mono"
            pairs[ia.index] = oa
        n = 0
        for packet in inp.demux(*[inp.streams[i] for i in pairs]):
            for frame in packet.decode():
                frame.pts = None
                if packet.stream.type == "video":
                    frame.pict_type = 0
                    frame.pts, frame.time_base = n, 1 / Fraction(pairs[packet.stream.index].average_rate or 25)
                    n += 1
                for p in pairs[packet.stream.index].encode(frame):
                    out.mux(p)
        for o in pairs.values():
            for p in o.encode(None):
                out.mux(p)
    return dst
