"""Fuzz harness shared by tests/test_fuzz.py (short hypothesis run in the default suite) and
bench/fuzz_long.py (long multi-process run): a seed corpus built in code, structure-aware byte
mutations described as plain op lists (shrinkable by hypothesis, replayable from a seed), the file
targets (read_record, inspect_file with and without key, label_file) and the array targets at the
native boundary.

The oracle: a target either returns or raises a SynthmarkError. Any other exception is a finding; so
are a crash of the process, a hang and a memory blow-up (the long run watches those from outside).
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np

import synthmark as sm
from synthmark import samples
from synthmark.errors import SynthmarkError

KEY = sm.Key.from_bytes(b"fuzz-harness-key-0123456789abcde")
#: the 32-bit values that break size and count fields
INTERESTING32 = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE,
                 0xFFFFFFFF)
OPS = ("flip", "byte", "u16", "u32", "delete", "duplicate", "insert", "truncate", "splice")


# ---- seed corpus ---------------------------------------------------------------------------------

def _camera_jpeg() -> bytes:
    from PIL import Image

    img = Image.fromarray(samples.SceneGenerator(96, 64, 3).frame(2))
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0110] = 6, "Canon", "EOS"
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, exif=exif, xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>", dpi=(72, 72))
    return buf.getvalue()


def _text_png() -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "fuzz")
    info.add_itxt("Description", "\u00fc", zip=True)
    buf = io.BytesIO()
    Image.fromarray(samples.SceneGenerator(64, 48, 5).frame(1)).save(buf, "PNG", pnginfo=info, dpi=(96, 96))
    return buf.getvalue()


def _streamed_wav() -> bytes:
    data = bytearray(Path(_tmp_audio("pcm_s16le", "wav", 0.3, 8000)).read_bytes())
    data[4:8] = b"\xff\xff\xff\xff"
    i = data.find(b"data")
    data[i + 4:i + 8] = b"\xff\xff\xff\xff"
    return bytes(data)


_WORK: Path | None = None


def _tmp_audio(codec, ext, seconds, rate):
    p = _WORK / f"a_{codec}.{ext}"
    if not p.exists():
        samples.make_audio(p, codec=codec, seconds=seconds, rate=rate, channels=1)
    return p


def build_corpus(work: Path) -> dict[str, bytes]:
    """Small valid files of every format synthmark reads, plain and labeled (with an AIGC record)."""
    global _WORK
    _WORK = Path(work)
    _WORK.mkdir(parents=True, exist_ok=True)
    def once(path, make):  # (files already there are kept: parallel workers share the directory)
        return path if path.exists() else Path(make(path))

    plain = {
        "still.png": once(_WORK / "still.png", lambda p: samples.make_image(p, width=128, height=96, codec="png")),
        "still.jpg": once(_WORK / "still.jpg", lambda p: samples.make_image(p, width=128, height=96, codec="mjpeg")),
        "tone.wav": _tmp_audio("pcm_s16le", "wav", 0.3, 8000),
        "tone.mp3": _tmp_audio("libmp3lame", "mp3", 0.3, 16000),
        "tone.flac": _tmp_audio("flac", "flac", 0.3, 8000),
        "tone.ogg": _tmp_audio("libopus", "ogg", 0.3, 8000),
    }
    for name, kw in {"clip.mp4": {}, "clip.mov": {}, "clip.mkv": dict(acodec="libmp3lame"),
                     "clip.webm": dict(vcodec="libvpx-vp9", acodec="libopus")}.items():
        plain[name] = once(_WORK / name, lambda p, kw=kw: samples.make_clip(p, seconds=0.3, width=128, height=96,
                                                                             fps=10, **kw))
    corpus = {name: p.read_bytes() for name, p in plain.items()}
    corpus["camera.jpg"] = _camera_jpeg()
    corpus["text.png"] = _text_png()
    corpus["streamed.wav"] = _streamed_wav()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, p in plain.items():
            out = _WORK / ("labeled_" + name)
            if not out.exists():
                sm.label_file(p, out, key=KEY, producer="FuzzCo", content_id="seed-" + name, overwrite=True)
            corpus["labeled_" + name] = out.read_bytes()
    return corpus


# ---- mutations -----------------------------------------------------------------------------------

def _fix_png_crcs(data: bytes) -> bytes:
    """Recompute every chunk CRC so mutations reach the chunk parsers instead of the CRC check."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out, pos = bytearray(data), 8
    while pos + 12 <= len(out):
        (n,) = struct.unpack(">I", out[pos:pos + 4])
        end = pos + 12 + n
        if end > len(out):
            break
        out[end - 4:end] = struct.pack(">I", zlib.crc32(bytes(out[pos + 4:end - 4])))
        pos = end
    return bytes(out)


def _ogg_crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_OGG_TABLE = _ogg_crc_table()


def _fix_ogg_crcs(data: bytes) -> bytes:
    """Recompute the CRC of every Ogg page (so mutations reach mutagen's and FFmpeg's page parsers)."""
    out, pos = bytearray(data), 0
    while True:
        pos = out.find(b"OggS", pos)
        if pos < 0 or pos + 27 > len(out):
            return bytes(out)
        nseg = out[pos + 26]
        if pos + 27 + nseg > len(out):
            return bytes(out)
        end = pos + 27 + nseg + sum(out[pos + 27:pos + 27 + nseg])
        if end > len(out):
            return bytes(out)
        out[pos + 22:pos + 26] = b"\0\0\0\0"
        crc = 0
        for b in out[pos:end]:
            crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_TABLE[((crc >> 24) & 0xFF) ^ b]
        out[pos + 22:pos + 26] = struct.pack("<I", crc)
        pos = end


def apply_ops(data: bytes, ops, donor: bytes = b"", fix_checksums: bool = True) -> bytes:
    """Apply mutation ops ``(name, where, value)`` (``where``, ``value``: ints in [0, 2**32)) in order."""
    b = bytearray(data)
    for name, where, value in ops:
        n = len(b)
        pos = where % (n + 1)
        if name == "flip" and n:
            b[pos % n] ^= 1 << (value % 8)
        elif name == "byte" and n:
            b[pos % n] = (0, 0xFF, 0x7F, 0x80, value & 0xFF)[value % 5]
        elif name == "u16" and n >= 2:
            p = pos % (n - 1)
            b[p:p + 2] = struct.pack("<>"[value & 1] + "H", INTERESTING32[value % 8] & 0xFFFF)
        elif name == "u32" and n >= 4:
            p = pos % (n - 3)
            b[p:p + 4] = struct.pack("<>"[value & 1] + "I", INTERESTING32[value % len(INTERESTING32)])
        elif name == "delete":
            del b[pos:pos + 1 + value % 64]
        elif name == "duplicate":
            b[pos:pos] = b[pos:pos + 1 + value % 256]
        elif name == "insert":
            b[pos:pos] = bytes((value >> (8 * (i % 4))) & 0xFF for i in range(1 + value % 16))
        elif name == "truncate":
            del b[pos:]
        elif name == "splice" and donor:
            s = value % len(donor)
            b[pos:pos + 64] = donor[s:s + 1 + (value >> 8) % 512]
    out = bytes(b)
    if fix_checksums:
        out = _fix_ogg_crcs(_fix_png_crcs(out)) if out[:4] in (b"\x89PNG", b"OggS") else out
    return out


def random_ops(rng, max_ops: int = 6):
    return [(OPS[rng.randrange(len(OPS))], rng.randrange(1 << 32), rng.randrange(1 << 32))
            for _ in range(1 + rng.randrange(max_ops))]


# ---- targets -------------------------------------------------------------------------------------

FILE_TARGETS = ("read_record", "inspect", "inspect_key", "label")


def run_file_target(target: str, path: Path, out_dir: Path) -> str:
    """Run one reader on ``path``; 'ok' or the SynthmarkError's class name. Anything else propagates."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if target == "read_record":
                sm.read_record(path)
            elif target == "inspect":
                sm.inspect_file(path, max_seconds=2.0)
            elif target == "inspect_key":
                sm.inspect_file(path, key=KEY, max_seconds=2.0)
            elif target == "label":
                dst = out_dir / ("out" + path.suffix)
                sm.label_file(path, dst, key=KEY, producer="FuzzCo", content_id="fuzz", overwrite=True,
                              max_seconds=30.0, max_pixels=4_000_000)
            else:
                raise ValueError(target)
    except SynthmarkError as exc:
        return type(exc).__name__
    return "ok"


ARRAY_TARGETS = ("visible", "video_embed", "video_detect", "audio_embed", "audio_detect", "composite", "mix_prompt",
                 "decode")
_DTYPES = (np.uint8, np.int16, np.float32, np.float64, np.int32, np.uint16, np.complex64, np.bool_, object)


def make_array(rng, max_elems: int = 200_000, like: str | None = None) -> np.ndarray:
    """An array of random rank (0-5), shape (zeros and ones included), dtype, layout and values; half of
    the time shaped ``like`` a picture ('video': (H, W[, C]) uint8) or a signal ('audio': (n[, C]) float32
    or int16), so the fuzzing gets past the type checks into the kernels."""
    if like is not None and rng.random() < 0.5:
        if like == "video":
            shape = [rng.randrange(0, 300), rng.randrange(0, 300)] + [rng.choice((1, 3, 4))] * rng.randrange(2)
            dtype = np.uint8
        else:
            shape = [rng.choice((0, 1, 100, 4096, 16000, 50000, 120000))] + [rng.choice((1, 2, 6))] * rng.randrange(2)
            dtype = rng.choice((np.float32, np.int16))
    else:
        ndim = rng.randrange(6)
        shape = [rng.choice((0, 1, 2, 3, 4, 7, 16, 33, 64, 100, 257)) for _ in range(ndim)]
        dtype = _DTYPES[rng.randrange(len(_DTYPES))]
    while shape and int(np.prod(shape)) > max_elems:
        shape[rng.randrange(len(shape))] //= 2
    values = rng.choice(("zeros", "random", "extreme", "nan"))
    base = np.random.default_rng(rng.randrange(1 << 32))
    a = np.zeros(shape, np.float64)
    if values == "random":
        a = base.standard_normal(shape) * 100
    elif values == "extreme":
        a = base.choice([0.0, 1.0, -1.0, 255.0, 1e30, -1e30, 65535.0], size=shape)
    elif values == "nan":
        a = base.choice([np.nan, np.inf, -np.inf, 0.0], size=shape)
    with np.errstate(all="ignore"):
        a = np.array(a, dtype=dtype)  # (a 0-d array stays an array)
    layout = rng.choice(("c", "f", "strided", "readonly", "reversed"))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim:
        a = np.repeat(a, 2, axis=0)[::2]
    elif layout == "reversed" and a.ndim:
        a = a[::-1]
    elif layout == "readonly":
        a.flags.writeable = False
    return a


def run_array_target(target: str, rng) -> str:
    """Feed one random array (and random parameters) to a public array API; 'ok' or a SynthmarkError name."""
    from synthmark import _core

    a = make_array(rng, like="audio" if target.startswith(("audio", "mix")) else "video")
    rate = rng.choice((8000, 16000, 44100, 48000, 1, 0, -8000, 10**9))
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if target == "visible":
                sm.VisibleLabel().apply(a, t=rng.choice((0.0, 1.0, 1e300, -1.0, float("nan"))), duration=rng.choice((None, 1.0, 0.0)))
            elif target == "video_embed":
                sm.VideoWatermarker(KEY, 1234).embed(a)
            elif target == "video_detect":
                sm.detect_frames([a], key=KEY)
            elif target == "audio_embed":
                sm.watermark_audio(a, rate, key=KEY, payload=99)
            elif target == "audio_detect":
                sm.detect_audio(a, rate, key=KEY)
            elif target == "composite":
                m = make_array(rng, 10_000)
                _core.composite_packed(a, m, m, rng.randrange(-5, 50), rng.randrange(-5, 50), [255, 0, 0], [0, 0, 0])
            elif target == "mix_prompt":
                _core.mix_prompt(a, make_array(rng, 10_000), rng.randrange(-100, 1000), rng.choice((0.5, 1e30, float("nan"))))
            elif target == "decode":
                _core.PayloadCode().decode(a)
            else:
                raise ValueError(target)
    except SynthmarkError as exc:
        return type(exc).__name__
    except (TypeError, ValueError, _core.PayloadError) as exc:
        if target in ("composite", "mix_prompt", "decode"):
            return type(exc).__name__  # _core is internal: its argument checks raise builtins by design
        raise
    return "ok"


def write_input(data: bytes, directory: Path, seed_name: str) -> Path:
    """The mutated bytes under the seed's extension (the readers sniff the content, label_file's output
    format follows the name)."""
    p = directory / ("input" + os.path.splitext(seed_name)[1])
    p.write_bytes(data)
    return p
