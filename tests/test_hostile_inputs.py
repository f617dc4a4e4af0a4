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
from synthmark.errors import MediaError, SynthmarkError
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
