"""The command line on bad input: one clear "synthmark: error:" line, never a traceback."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import synthmark as sm
from synthmark import cli
from synthmark.errors import InvalidArgumentError, InvalidTypeError, SynthmarkError
from synthmark.io.atomic import atomic_output
from synthmark.samples import make_clip

SRC = str(Path(sm.__file__).resolve().parent.parent)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    src = make_clip(d / "c.mp4", seconds=0.4, width=160, height=128)
    key = d / "k.key"
    sm.Key.generate().save(key)
    return Path(src), key


def _label(clip, dst, *extra):
    src, key = clip
    return cli.main(["label", str(src), str(dst), "--key", str(key), "--producer", "ACME", "--content-id", "c-1",
                     "--no-audit", "-q", *extra])


def _one_error_line(err: str) -> str:
    assert err.startswith("synthmark: error:"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("option, value, words", [
    ("--video-codec", "nosuchcodec", ["nosuchcodec", "video"]),
    ("--video-codec", "aac", ["aac", "not a video encoder"]),
    ("--audio-codec", "nosuchcodec", ["nosuchcodec", "audio"]),
    ("--audio-codec", "libx264", ["libx264", "not an audio encoder"]),
    ("--crf", "99", ["crf", "99", "0..51", "libx264"]),
    ("--crf", "-1", ["crf", "-1", "0..51"]),
    ("--video-bitrate", "0", ["video_bitrate", "0"]),
    ("--audio-bitrate", "-5", ["audio_bitrate", "-5"]),
])
def test_label_bad_encoder_options(clip, tmp_path, capsys, option, value, words):
    dst = tmp_path / "o.mp4"
    assert _label(clip, dst, option, value) == 2
    err = _one_error_line(capsys.readouterr().err)
    for w in words:
        assert w in err
    assert not dst.exists() and os.listdir(tmp_path) == []


def test_crf_range_follows_the_codec(clip, tmp_path, capsys):
    # VP9's scale is 0..63: 60 is valid there, refused for H.264
    assert _label(clip, tmp_path / "o.mp4", "--crf", "60", "--video-codec", "libvpx-vp9") == 0
    assert _label(clip, tmp_path / "p.mp4", "--crf", "60") == 2
    assert "0..51" in capsys.readouterr().err
    with pytest.raises(InvalidArgumentError, match="crf"):
        sm.label_file(clip[0], tmp_path / "p.mp4", key=sm.Key.load(clip[1]), producer="A", content_id="x", crf=70)
    with pytest.raises(InvalidTypeError, match="crf"):
        sm.label_file(clip[0], tmp_path / "p.mp4", key=sm.Key.load(clip[1]), producer="A", content_id="x", crf="18")


@pytest.mark.parametrize("value", ["zz", "0x", "-1", str(1 << 64)])
def test_label_bad_payload_message(clip, tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exc:
        _label(clip, tmp_path / "o.mp4", "--payload", value)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "lambda" not in err and "--payload" in err and value in err and "64-bit" in err


def test_label_payload_hex_accepted(clip, tmp_path):
    assert _label(clip, tmp_path / "o.mp4", "--payload", "0xdeadbeef") == 0
    assert sm.read_record(tmp_path / "o.mp4").verify(sm.Key.load(clip[1]), 0xDEADBEEF)


def test_dst_that_cannot_be_created_names_the_given_path(clip, capsys):
    dst = "/proc/synthmark-out.mp4"
    assert _label(clip, dst) != 0
    err = _one_error_line(capsys.readouterr().err)
    assert dst in err and ".part" not in err
    src, key = clip
    with pytest.raises(SynthmarkError) as exc:
        sm.label_file(src, dst, key=sm.Key.load(key), producer="A", content_id="x")
    assert isinstance(exc.value, OSError) and exc.value.filename == dst and ".part" not in str(exc.value)


@pytest.mark.parametrize("name", [
    "a." + "b" * 250,                 # a 250-byte extension
    "é" * 124 + ".mp4",               # multi-byte characters
    "x" * 251 + ".",
])
def test_atomic_output_long_names(tmp_path, name):
    assert len(os.fsencode(name)) == 252
    dst = tmp_path / name
    with atomic_output(dst) as tmp:
        assert len(os.fsencode(tmp.name)) <= 255
        tmp.write_bytes(b"data")
    assert dst.read_bytes() == b"data" and os.listdir(tmp_path) == [name]


def test_label_long_name(clip, tmp_path):
    dst = tmp_path / ("ü" * 124 + ".mp4")
    assert _label(clip, dst) == 0
    assert sm.read_record(dst).produce_id == "c-1" and os.listdir(tmp_path) == [dst.name]


def test_audit_export_into_a_closed_pipe(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    with sm.AuditLog(url) as log:
        log.append_many(sm.AuditEvent(user_ref="u", content_id=f"c-{i}", media_type="video",
                                      output_sha256=hashlib.sha256(b"%d" % i).hexdigest(), labels={})
                        for i in range(1500))
    env = dict(os.environ, PYTHONPATH=SRC)
    cmd = f"{sys.executable} -m synthmark audit export --store {url} | head -c 100 >/dev/null"
    res = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd}; echo status=$?"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.stderr == "", res.stderr
    # what a command killed by SIGPIPE reports (yes | head), so a pipeline can still tell it was cut short
    assert res.stdout.strip() == "status=141"


@pytest.mark.parametrize("dst, extra, words", [
    ("o.mp4", ["--video-codec", "libvpx"], ["video_codec", "libvpx", "mp4"]),      # VP8 has no MP4 mapping
    ("o.webm", ["--video-codec", "libx264"], ["video_codec", "libx264", "webm"]),
    ("o.webm", ["--audio-codec", "aac"], ["audio_codec", "aac", "webm"]),
    ("o.mp3", ["--audio-codec", "aac"], ["audio_codec", "aac", "mp3"]),
    ("o.ogg", ["--audio-codec", "aac"], ["audio_codec", "aac", "ogg"]),   # (was 'cannot decode tone.wav')
    ("o.flac", ["--audio-codec", "libopus"], ["audio_codec", "libopus", "flac"]),
])
def test_encoder_the_container_cannot_hold(clip, tmp_path, capsys, dst, extra, words):
    """Refused before any work with the option's name (was a ValueError traceback from PyAV's add_stream)."""
    src = clip[0]
    if dst.endswith((".mp3", ".ogg", ".flac")):  # audio only: the clip's video would be dropped
        src = tmp_path.parent / "tone.wav"
        from synthmark.samples import make_audio
        make_audio(src, codec="pcm_s16le", seconds=0.5)
    assert _label((src, clip[1]), tmp_path / dst, *extra) == 2
    err = _one_error_line(capsys.readouterr().err)
    for w in words:
        assert w in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("extra, words", [
    (["--preset", "nosuch"], ["libx264", "preset", "nosuch"]),
    (["--video-codec", "mjpeg"], ["mjpeg"]),                     # no yuv420p: the encoder refuses to open
])
def test_encoder_that_does_not_open_is_not_blamed_on_the_input(clip, tmp_path, capsys, extra, words):
    """An encoder that refuses its settings is reported as such (it said 'cannot decode c.mp4: Invalid
    argument (corrupt, truncated or unsupported)', blaming a sound input)."""
    assert _label(clip, tmp_path / "o.mp4", *extra) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert "cannot decode" not in err and "corrupt" not in err
    for w in words:
        assert w in err
    assert os.listdir(tmp_path) == []
    with pytest.raises(InvalidArgumentError, match="encoder"):
        sm.label_file(clip[0], tmp_path / "o.mp4", key=sm.Key.load(clip[1]), producer="A", content_id="x",
                      preset="nosuch")
