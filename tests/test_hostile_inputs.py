"""Inputs as other tools and attackers produce them: a WAV streamed through a pipe, container tags
that are not UTF-8, an Ogg page without packets. Each is read, or refused with a synthmark error."""

from __future__ import annotations

import struct
import warnings

import av
import numpy as np
import pytest

import synthmark as sm
from synthmark import samples
from synthmark.cli import main
from synthmark.errors import MediaError
from synthmark.io.remux import remux
from synthmark.metadata import read_record, riff_wav, write_record


@pytest.fixture(scope="module")
def key():
    return sm.Key.from_bytes(b"hostile-inputs-test-key-01234567")


class _Pipe:
    """A write-only sink: the muxer cannot seek back, as when FFmpeg writes to a pipe."""

    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        self.data += b
        return len(b)


def streamed_wav(seconds=2.0, rate=16000) -> tuple[bytes, np.ndarray]:
    t = np.arange(int(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)[None]
    sink = _Pipe()
    with av.open(sink, "w", format="wav") as c:
        s = c.add_stream("pcm_s16le", rate=rate)
        s.layout = "mono"
        fr = av.AudioFrame.from_ndarray(x, format="flt", layout="mono")
        fr.sample_rate, fr.pts = rate, 0
        for p in list(s.encode(fr)) + list(s.encode(None)):
            c.mux(p)
    return bytes(sink.data), x


def test_streamed_wav_is_read_labeled_and_given_real_sizes(key, tmp_path):
    data, _ = streamed_wav()
    assert data[4:8] == b"\xff\xff\xff\xff" and b"data\xff\xff\xff\xff" in data  # as FFmpeg writes to a pipe
    src = tmp_path / "streamed.wav"
    src.write_bytes(data)
    assert read_record(src) is None
    samples_before = data[data.index(b"data") + 8:]
    # the record written in place: real RIFF and data sizes, samples untouched
    copy = tmp_path / "copy.wav"
    copy.write_bytes(data)
    rec = sm.AigcRecord(label="1", content_producer="ACME", produce_id="w-1")
    write_record(copy, rec)
    out = copy.read_bytes()
    assert struct.unpack("<I", out[4:8])[0] == len(out) - 8
    chunks = {cid: body for cid, body, _s, _e in riff_wav.iter_chunks(out)}
    assert chunks[b"data"] == samples_before and read_record(copy).produce_id == "w-1"
    # and labeled whole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report = sm.label_file(src, tmp_path / "labeled.wav", key=key, producer="ACME", content_id="w-2")
    assert report.audio_samples == len(samples_before) // 2
    info = sm.inspect_file(tmp_path / "labeled.wav", key=key)
    assert info.record == report.record and info.record_verified
    assert sm.inspect_file(src).record is None


def test_truncated_wav_with_a_real_size_is_still_an_error(tmp_path):
    data, _ = streamed_wav(seconds=0.5)
    n = len(data) - data.index(b"data") - 8
    fixed = data.replace(b"data\xff\xff\xff\xff", b"data" + struct.pack("<I", n + 1000))
    p = tmp_path / "short.wav"
    p.write_bytes(fixed)
    with pytest.raises(MediaError, match="truncated"):
        read_record(p)


@pytest.fixture(scope="module")
def labeled_clips(key, tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    out = {}
    for name, kw in {"r.mkv": {}, "r.webm": dict(vcodec="libvpx-vp9", acodec="libopus"), "r.mp4": {}}.items():
        plain = samples.make_clip(d / ("plain_" + name), seconds=0.4, width=128, height=96, fps=10, **kw)
        src = d / name
        remux(plain, src, {"r.mkv": "matroska", "r.webm": "webm", "r.mp4": "mp4"}[name], {"title": "Cafe"})
        dst = d / ("L" + name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sm.label_file(src, dst, key=key, producer="ACME", content_id="x")
        out[name] = dst
    return out


@pytest.mark.parametrize("name", ["r.mkv", "r.webm", "r.mp4"])
@pytest.mark.parametrize("where", ["record", "title"])
def test_non_utf8_container_tags_give_clean_results(name, where, labeled_clips, key, tmp_path, capsys):
    b = bytearray(labeled_clips[name].read_bytes())
    if where == "record":  # the reproducer: a 0xFF byte inside the AIGC record's JSON
        b[b.find(b'"Label"') + 1] = 0xFF
    else:  # a foreign title in latin-1
        i = b.find(b"Cafe")
        b[i:i + 4] = "Caf\u00e9".encode("latin-1")
    bad = tmp_path / ("bad_" + name)
    bad.write_bytes(bytes(b))
    if where == "record":
        with pytest.raises(sm.errors.MetadataError):
            read_record(bad)
        report = sm.inspect_file(bad, key=key)
        assert report.record is None and any("malformed" in n for n in report.notes)
        assert report.detections["video"].found  # the watermark still speaks
    else:
        assert read_record(bad).produce_id == "x"
        assert sm.inspect_file(bad, key=key).record_verified
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sm.label_file(bad, tmp_path / ("again_" + name), key=key, producer="ACME", content_id="y")
    capsys.readouterr()
    assert main(["inspect", str(bad)]) == 0
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("codec", ["libopus"])  # (this FFmpeg has no Vorbis encoder but the experimental one)
def test_ogg_page_without_packets_is_a_media_error(codec, key, tmp_path, capsys):
    a = samples.make_audio(tmp_path / "a.ogg", codec=codec, seconds=1.0)
    d = open(a, "rb").read()
    p = d.find(b"OggS", 4)  # the reproducer: a copy of the second page's header with 0 segments
    h = bytearray(d[p:p + 27])
    h[26] = 0
    bad = tmp_path / "bad.ogg"
    bad.write_bytes(d[:p] + bytes(h) + d[p:])
    with pytest.raises(MediaError, match="malformed"):
        read_record(bad)
    with pytest.raises(MediaError):
        sm.inspect_file(bad, key=key)
    with pytest.raises(MediaError), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sm.label_file(bad, tmp_path / "out.ogg", key=key, producer="ACME", content_id="o")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ogg", "bad.ogg"]
    capsys.readouterr()
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("synthmark: error: ") and "Traceback" not in err


def test_audio_stream_with_zero_channels_is_a_media_error(key, tmp_path):
    """Found by the fuzzer (bench/fuzz_long.py): an Opus track whose header declares 0 channels reached
    PyAV's resampler, whose ValueError escaped inspect_file(key=) and label_file."""
    clip = samples.make_clip(tmp_path / "c.webm", seconds=0.4, width=128, height=96, fps=10,
                             vcodec="libvpx-vp9", acodec="libopus")
    data = open(clip, "rb").read()
    assert data.count(b"OpusHead\x01\x02") == 1  # the codec header: version 1, 2 channels
    bad = tmp_path / "zero.webm"
    bad.write_bytes(data.replace(b"OpusHead\x01\x02", b"OpusHead\x01\x00"))
    with pytest.raises(MediaError, match="channel layout"):
        sm.inspect_file(bad, key=key)
    with pytest.raises(MediaError, match="channel layout"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sm.label_file(bad, tmp_path / "o.webm", key=key, producer="ACME", content_id="z")


def test_audio_whose_channel_count_changes_mid_stream(key, tmp_path):
    """Found by the fuzzer (bench/fuzz_long.py): a mono MP3 with stereo frames further on. PyAV's
    resampler followed the new layout, so the chunks no longer stacked (a bare ValueError from
    inspect_file(key=)) and the encoder was handed the wrong channel count."""
    mono = samples.make_audio(tmp_path / "m.mp3", codec="libmp3lame", seconds=1.0, rate=16000, channels=1)
    stereo = samples.make_audio(tmp_path / "s.mp3", codec="libmp3lame", seconds=1.0, rate=16000, channels=2)
    mixed = tmp_path / "mixed.mp3"
    tail = open(stereo, "rb").read()
    assert tail[:3] == b"ID3"  # its ID3v2 tag goes: the stereo frames follow the mono ones directly
    size = (tail[6] << 21) | (tail[7] << 14) | (tail[8] << 7) | tail[9]
    mixed.write_bytes(open(mono, "rb").read() + tail[10 + size:])
    with av.open(str(mixed)) as c:
        assert {f.layout.nb_channels for f in c.decode(audio=0)} == {1, 2}
    from synthmark.io.audio import FloatPlanarReader

    with av.open(str(mixed)) as c:  # the reader keeps the stream's first layout: the chunks stack
        reader = FloatPlanarReader(16000, "mono")
        chunks = [x for f in c.decode(audio=0) for x in reader.convert(f)] + list(reader.convert(None))
    assert {x.shape[0] for x in chunks} == {1} and sum(x.shape[1] for x in chunks) > 1.9 * 16000
    assert sm.inspect_file(mixed, key=key).format == "mp3"
    # label_file decodes it whole, then refuses it as truncated: FFmpeg estimates 2.3 s from the first
    # frames' bit rate and the streams end 0.1 s earlier. A clean MediaError, not a ValueError.
    with pytest.raises(MediaError, match="truncated"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sm.label_file(mixed, tmp_path / "o.mp3", key=key, producer="ACME", content_id="mix")
