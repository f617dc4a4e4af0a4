"""Reports say what was checked and omit what does not apply (inspect without a key, label vs inspect)."""

from __future__ import annotations

import json

import pytest

import synthmark as sm
from synthmark import cli
from synthmark.samples import make_clip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    src = make_clip(d / "c.mp4", seconds=0.4, width=160, height=128)
    key = sm.Key.generate()
    key.save(d / "k.key")
    sm.label_file(src, d / "o.mp4", key=key, producer="ACME", content_id="c-1")
    return d, key


def test_inspect_without_key_says_the_watermark_was_not_checked(files, capsys):
    d, _ = files
    assert cli.main(["inspect", str(d / "o.mp4")]) == 0
    out = capsys.readouterr().out
    assert "watermark: not checked" in out and "--key" in out
    assert "ReservedCode1: not checked" in out
    assert "applied" not in out


def test_inspect_json_omits_what_does_not_apply(files, capsys):
    d, _ = files
    assert cli.main(["inspect", str(d / "o.mp4"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for absent in ("applied", "video_frames", "audio_samples", "source", "detections", "record_verified", "payload"):
        assert absent not in doc, absent
    assert doc["watermark_checked"] is False and doc["record"]["ProduceID"] == "c-1"
    assert doc["platform_label"] == "1" and doc["duration"] > 0 and doc["streams"]


def test_inspect_json_with_key(files, capsys):
    d, key = files
    assert cli.main(["inspect", str(d / "o.mp4"), "--json", "--key", str(d / "k.key")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["watermark_checked"] is True and doc["record_verified"] is True
    assert set(doc["detections"]) == {"video", "audio"} and "applied" not in doc and "video_frames" not in doc
    assert doc["payload"] == f"{sm.pipeline.payload_for('c-1'):016x}" or doc["payload"] is None


def test_label_report_has_no_detection_fields(files, tmp_path):
    d, key = files
    report = sm.label_file(d / "c.mp4", tmp_path / "p.mp4", key=key, producer="ACME", content_id="c-2")
    doc = report.to_dict()
    assert "detections" not in doc and "record_verified" not in doc and "watermark_checked" not in doc
    assert doc["video_frames"] > 0 and doc["audio_samples"] > 0 and doc["applied"] and doc["source"]
