"""Resource limits: decompression bombs and overlong media are refused from their headers, before
decoding, with a LimitExceededError that names the option raising the limit."""

from __future__ import annotations

import struct
import warnings
import zlib

import pytest

import synthmark as sm
from synthmark import samples
from synthmark.cli import main
from synthmark.errors import InvalidArgumentError, LimitExceededError, MediaError
from synthmark.io.transcode import probe


@pytest.fixture(scope="module")
def key():
    return sm.Key.from_bytes(b"limits-test-key-0123456789abcdef")


def _chunk(ctype, body):
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """The issue's bomb: a valid PNG declaring 16000x16000 RGB (768 MB decoded) in ~0.75-3 MB of zlib."""
    w = h = 16000
    c = zlib.compressobj(1)
    block = bytes((1 + 3 * w) * 500)
    idat = b"".join([c.compress(block) for _ in range(h // 500)] + [c.flush()])
    p = tmp_path_factory.mktemp("bomb") / "bomb.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                  + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    assert p.stat().st_size < 4 << 20
    return p


def label(src, dst, key, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sm.label_file(src, dst, key=key, producer="ACME", content_id="lim", **kw)


def test_png_bomb_is_refused_before_decoding(bomb, key, tmp_path, capsys):
    with pytest.raises(LimitExceededError, match=r"16000x16000 pixels \(256.0 MP\).*max_pixels") as info:
        label(bomb, tmp_path / "o.png", key)
    assert isinstance(info.value, MediaError) and isinstance(info.value, ValueError)
    with pytest.raises(LimitExceededError, match="16000x16000"):
        sm.inspect_file(bomb, key=key)
    with pytest.raises(LimitExceededError):
        sm.inspect_file(bomb)
    assert list(tmp_path.iterdir()) == []
    capsys.readouterr()
    assert main(["inspect", str(bomb)]) == 2
    assert "--max-pixels" in capsys.readouterr().err


def test_jpeg_and_video_frames_over_max_pixels(key, tmp_path):
    jpg = samples.make_image(tmp_path / "p.jpg", codec="mjpeg")  # 320x240
    clip = samples.make_clip(tmp_path / "c.mkv", seconds=0.4, width=160, height=120, fps=10)
    with pytest.raises(LimitExceededError, match="320x240"):
        label(jpg, tmp_path / "o.jpg", key, max_pixels=320 * 240 - 1)
    with pytest.raises(LimitExceededError, match="160x120"):
        label(clip, tmp_path / "o.mkv", key, max_pixels=160 * 120 - 1)
    with pytest.raises(LimitExceededError, match="160x120"):
        sm.inspect_file(clip, key=key, max_pixels=100)
    assert label(jpg, tmp_path / "o.jpg", key, max_pixels=320 * 240).record is not None
    assert label(clip, tmp_path / "o.mkv", key, max_pixels=None).record is not None
    for bad in (0, -1, 1.5, "1e6", True):
        with pytest.raises((InvalidArgumentError, TypeError)):
            sm.inspect_file(clip, max_pixels=bad)
    for bad in (0, -1.0, float("nan"), float("inf"), "10"):
        with pytest.raises((InvalidArgumentError, TypeError)):
            label(clip, tmp_path / "x.mkv", key, max_seconds=bad)


def test_duration_limit_declared_and_understated(key, tmp_path, capsys):
    clip = samples.make_clip(tmp_path / "c.mkv", seconds=1.0, width=160, height=120, fps=10)
    with pytest.raises(LimitExceededError, match="over the limit of 0.5 s"):
        label(clip, tmp_path / "o.mkv", key, max_seconds=0.5)
    # a container that understates its duration (Segment Info Duration 0.1 s, 8-byte float, in ms)
    data = bytearray(open(clip, "rb").read())
    i = data.find(b"\x44\x89\x88")
    assert i > 0
    data[i + 3:i + 11] = struct.pack(">d", 100.0)
    liar = tmp_path / "liar.mkv"
    liar.write_bytes(bytes(data))
    assert probe(liar)["duration"] < 0.5  # the declared duration passes: the decoded frames are caught
    with pytest.raises(LimitExceededError, match="over the limit of 0.5 s"):
        label(liar, tmp_path / "o.mkv", key, max_seconds=0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mkv", "liar.mkv"]
    keyfile = tmp_path / "k.key"
    sm.Key.generate().save(keyfile)
    capsys.readouterr()
    argv = ["label", clip, str(tmp_path / "o.mkv"), "--key", str(keyfile), "--producer", "ACME",
            "--content-id", "c", "--no-audit", "-q"]
    assert main(argv + ["--max-seconds", "0.5"]) == 2
    assert "--max-seconds" in capsys.readouterr().err
    assert main(argv + ["--max-seconds", "2"]) == 0

