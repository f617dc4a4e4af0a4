"""What label_file writes at dst: the format dst's extension names (or a clear refusal), and never over
an existing file unless asked."""

from __future__ import annotations

import warnings

import av
import pytest

import synthmark as sm
from synthmark import samples
from synthmark.cli import main
from synthmark.errors import InvalidArgumentError, OutputExistsError
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
        kw.setdefault("user_ref", "user-1")  # recorded when audit= is given (the default policy needs it)
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
    ("clip.mp4", "x.m4a", "would drop the picture"),   # MP4 / Matroska by container, audio-only by name
    ("clip.mp4", "x.MKA", "would drop the picture"),
    ("clip.mp4", "x.mp4.part", "unknown extension '.part'"),
])
def test_output_format_that_cannot_be_written_is_refused(src, dst, match, sources, key, tmp_path):
    with pytest.raises(InvalidArgumentError, match=match):
        label(sources[src], tmp_path / dst, key)
    assert list(tmp_path.iterdir()) == []


def test_existing_dst_is_not_overwritten_without_overwrite(sources, key, tmp_path):
    dst = tmp_path / "taken.mp4"
    dst.write_bytes(b"someone's file")
    with pytest.raises(OutputExistsError, match="already exists") as info:
        label(sources["clip.mp4"], dst, key)
    assert isinstance(info.value, FileExistsError) and info.value.filename == str(dst)
    link = tmp_path / "link.mp4"
    link.symlink_to(tmp_path / "nowhere.mp4")  # a dangling symlink is an existing name too
    with pytest.raises(OutputExistsError):
        label(sources["clip.mp4"], link, key)
    assert dst.read_bytes() == b"someone's file" and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.mp4", "taken.mp4"]
    report = label(sources["clip.mp4"], dst, key, overwrite=True)
    assert read_record(dst) == report.record


def test_dst_appearing_during_the_job_is_not_replaced(sources, key, tmp_path):
    dst = tmp_path / "late.mp4"

    def progress(fraction):
        if fraction == 1.0 and not dst.exists():
            dst.write_bytes(b"written meanwhile")

    with pytest.raises(OutputExistsError, match="already exists"):
        label(sources["clip.mp4"], dst, key, progress=progress)
    assert dst.read_bytes() == b"written meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.mp4"]
    audit = tmp_path / "audit.db"
    dst.unlink()
    with sm.AuditLog(audit) as log, pytest.raises(OutputExistsError):
        label(sources["clip.mp4"], dst, key, progress=progress, audit=log)
    assert dst.read_bytes() == b"written meanwhile"
    with sm.AuditLog(audit, read_only=True) as log:
        assert log.verify().ok
        assert not log.pending()  # the record of the unpublished output is withdrawn ('failed')


def test_cli_label_refuses_existing_output_without_force(sources, tmp_path, capsys):
    keyfile = tmp_path / "k.key"
    assert main(["keygen", str(keyfile)]) == 0
    out = tmp_path / "o.mp4"
    out.write_bytes(b"keep me")
    argv = ["label", sources["clip.mp4"], str(out), "--key", str(keyfile), "--producer", "ACME",
            "--content-id", "c", "--no-audit", "-q"]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("synthmark: error: ") and "already exists" in err and "--force" in err
    assert out.read_bytes() == b"keep me"
    assert main(argv + ["--force"]) == 0
    assert read_record(out).produce_id == "c"
