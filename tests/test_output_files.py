"""What label_file writes at dst: the format dst's extension names (or a clear refusal), and never over
an existing file unless asked."""

from __future__ import annotations

import warnings

import av
import pytest

import synthmark as sm
from synthmark import samples
from synthmark.errors import InvalidArgumentError
from synthmark.metadata import read_record, sniff


@pytest.fixture(scope="module")
def key():
    return sm.Key.from_bytes(b"output-files-test-key-0123456789")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    return {
        "clip.mp4": samples.make_clip(d / "clip.mp4", seconds=0.6, width=160, height=120, fps=10),
        "photo.jpg": samples.make_image(d / "photo.jpg", codec="mjpeg"),
        "still.png": samples.make_image(d / "still.png", codec="png"),
        "tone.wav": samples.make_audio(d / "tone.wav", codec="pcm_s16le", seconds=1.0),
    }


def label(src, dst, key, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sm.label_file(src, dst, key=key, producer="ACME", content_id="out-1", **kw)


def codecs(path):
    with av.open(str(path)) as c:
        return sorted(s.codec_context.name for s in c.streams if s.type in ("video", "audio"))


@pytest.mark.parametrize("src, dst, kind, want", [
    ("clip.mp4", "x.mkv", "matroska", ["aac", "h264"]),
    ("clip.mp4", "x.WEBM", "webm", ["opus", "vp9"]),
    ("clip.mp4", "x.mov", "mov", ["aac", "h264"]),
    ("tone.wav", "x.mp3", "mp3", ["mp3float"]),  # (the decoder's name)
    ("tone.wav", "x.m4a", "mp4", ["aac"]),
    ("clip.mp4", "noextension", "mp4", ["aac", "h264"]),
])
def test_output_format_follows_dst_extension(src, dst, kind, want, sources, key, tmp_path):
    out = tmp_path / dst
    report = label(sources[src], out, key)
    assert sniff(out) == kind and report.format == kind
    assert codecs(out) == want
    assert read_record(out) == report.record
    assert sorted(p.name for p in tmp_path.iterdir()) == [dst]


@pytest.mark.parametrize("src, dst, match", [
    ("photo.jpg", "x.mp4", "names an MP4 file but the input is a JPEG image"),
    ("photo.jpg", "x.png", "names a PNG image but the input is a JPEG image"),
    ("still.png", "x.jpeg", "names a JPEG image but the input is a PNG image"),
    ("clip.mp4", "x.png", "cannot be written as an image"),
    ("tone.wav", "x.jpg", "cannot be written as an image"),
    ("clip.mp4", "x.wav", "would drop the picture"),
    ("clip.mp4", "x.mp4.part", "unknown extension '.part'"),
])
def test_output_format_that_cannot_be_written_is_refused(src, dst, match, sources, key, tmp_path):
    with pytest.raises(InvalidArgumentError, match=match):
        label(sources[src], tmp_path / dst, key)
    assert list(tmp_path.iterdir()) == []
