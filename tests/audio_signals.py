"""Generated test audio: speech-like and music-like signals (no downloads), and codec round trips."""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np
import scipy.signal


def speech_like(seconds: float, fs: int = 48000, seed: int = 0) -> np.ndarray:
    """Formant-filtered glottal pulse trains with varying pitch, syllables and pauses. float32 mono."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)
    t = 0
    while t < n:
        syl = int(rng.uniform(0.12, 0.35) * fs)
        gap = int(rng.choice([rng.uniform(0.02, 0.08), rng.uniform(0.2, 0.5)], p=[0.8, 0.2]) * fs)
        seg = min(syl, n - t)
        f0 = rng.uniform(90, 220)
        f0_track = f0 * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * np.arange(seg) / fs))
        phase = np.cumsum(f0_track / fs)
        pulses = np.diff(np.floor(phase), prepend=0.0)
        src = scipy.signal.lfilter([1.0], [1.0, -0.97], pulses) + 0.02 * rng.standard_normal(seg)
        if rng.random() < 0.2:  # unvoiced fricative
            src = rng.standard_normal(seg) * 0.3
        y = src
        for fc, bw in ((rng.uniform(300, 900), 90), (rng.uniform(900, 2300), 120), (rng.uniform(2300, 3300), 180)):
            r = np.exp(-np.pi * bw / fs)
            a = [1, -2 * r * np.cos(2 * np.pi * fc / fs), r * r]
            y = y + 0.5 * scipy.signal.lfilter([1 - r], a, src)
        env = np.sin(np.pi * np.arange(seg) / seg) ** 0.7
        out[t:t + seg] += y * env
        t += seg + gap
    out *= 0.3 / (np.max(np.abs(out)) + 1e-12)
    return out.astype(np.float32)


def music_like(seconds: float, fs: int = 48000, seed: int = 1) -> np.ndarray:
    """Chord progression of harmonic tones with envelopes, a bass line and percussion. float32 mono."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    tt = np.arange(n) / fs
    out = np.zeros(n)
    beat = 0.5
    roots = [220.0, 174.6, 261.6, 196.0]
    for i in range(int(seconds / (4 * beat)) + 1):
        s0 = int(i * 4 * beat * fs)
        s1 = min(n, int((i + 1) * 4 * beat * fs))
        if s0 >= n:
            break
        root = roots[i % 4]
        seg_t = tt[s0:s1] - tt[s0]
        env = np.exp(-seg_t * 1.2)
        for ratio in (1.0, 1.26, 1.5, 2.0):
            f = root * ratio
            for h in range(1, 8):
                if f * h > fs / 2 - 1000:
                    break
                out[s0:s1] += 0.1 / h * np.sin(2 * np.pi * f * h * seg_t + rng.uniform(0, 6.28)) * env
        out[s0:s1] += 0.25 * np.sin(2 * np.pi * root / 4 * seg_t)
    for j in range(int(seconds / beat)):  # percussion: kick + hat
        s = int(j * beat * fs)
        m = min(n - s, int(0.15 * fs))
        if m <= 0:
            break
        k = np.arange(m) / fs
        out[s:s + m] += 0.6 * np.sin(2 * np.pi * (60 + 80 * np.exp(-k * 30)) * k) * np.exp(-k * 25)
        hs = s + int(beat / 2 * fs)
        hm = min(n - hs, int(0.05 * fs))
        if hm > 0:
            out[hs:hs + hm] += 0.15 * rng.standard_normal(hm) * np.exp(-np.arange(hm) / fs * 80)
    out *= 0.5 / (np.max(np.abs(out)) + 1e-12)
    return out.astype(np.float32)


def codec_roundtrip(x: np.ndarray, fs: int, codec: str, bitrate: int) -> np.ndarray:
    """Encode float32 (n,) or (n, ch) with PyAV in memory and decode back to float32 (n', ch) at fs."""
    import av

    x2 = x.reshape(len(x), -1)
    ch = x2.shape[1]
    layout = "mono" if ch == 1 else "stereo"
    fmt_name = {"libmp3lame": "mp3", "aac": "adts", "libopus": "ogg", "pcm_mulaw": "wav"}[codec]
    buf = io.BytesIO()
    enc_rate = 48000 if codec == "libopus" else fs
    with av.open(buf, "w", format=fmt_name) as out:
        st = out.add_stream(codec, rate=enc_rate)
        st.bit_rate = bitrate
        st.layout = layout
        resampler = av.AudioResampler(format=st.codec_context.format.name, layout=layout, rate=enc_rate)
        hop = 4096
        for i in range(0, len(x2), hop):
            fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(x2[i:i + hop].T), format="fltp", layout=layout)
            fr.sample_rate = fs
            for rf in resampler.resample(fr):
                for p in st.encode(rf):
                    out.mux(p)
        for rf in resampler.resample(None):
            for p in st.encode(rf):
                out.mux(p)
        for p in st.encode(None):
            out.mux(p)
    buf.seek(0)
    chunks = []
    with av.open(buf, "r") as inp:
        back = av.AudioResampler(format="fltp", layout=layout, rate=fs)
        for fr in inp.decode(audio=0):
            for rf in back.resample(fr):
                chunks.append(rf.to_ndarray())
        for rf in back.resample(None):
            chunks.append(rf.to_ndarray())
    y = np.concatenate(chunks, axis=1).T.astype(np.float32)
    return y


def atempo(x: np.ndarray, fs: int, tempo: float) -> np.ndarray:
    """Pitch-preserving tempo change of float32 mono by FFmpeg's atempo filter (through PyAV);
    tempo 1.02 plays 2% faster (2% fewer samples)."""
    import av
    import av.filter

    graph = av.filter.Graph()
    src = graph.add_abuffer(format="flt", sample_rate=fs, layout="mono", time_base=Fraction(1, fs))
    tempo_f = graph.add("atempo", f"{tempo:.6f}")
    sink = graph.add("abuffersink")
    src.link_to(tempo_f)
    tempo_f.link_to(sink)
    graph.configure()
    out = []
    hop = 4096
    for i in range(0, len(x), hop):
        fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[i:i + hop], np.float32).reshape(1, -1), format="flt",
                                        layout="mono")
        fr.sample_rate = fs
        fr.pts = i
        fr.time_base = Fraction(1, fs)
        graph.push(fr)
        out += _pull(graph)
    graph.push(None)
    out += _pull(graph)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in out]).astype(np.float32)


def _pull(graph) -> list:
    import av

    frames = []
    while True:
        try:
            frames.append(graph.pull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return frames


def phone_chain(x: np.ndarray, fs: int) -> np.ndarray:
    """A telephone path: resample to 8 kHz, G.711 mu-law (pcm_mulaw through PyAV), back to fs."""
    g = np.gcd(fs, 8000)
    x8 = scipy.signal.resample_poly(x, 8000 // g, fs // g).astype(np.float32)
    y8 = codec_roundtrip(np.clip(x8, -1, 1), 8000, "pcm_mulaw", 64_000)[:, 0]
    return scipy.signal.resample_poly(y8, fs // g, 8000 // g).astype(np.float32)
