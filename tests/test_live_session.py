"""LiveSession: per-frame labels and watermark for live streams, audited start and end."""

from __future__ import annotations

import hashlib

import av
import numpy as np
import pytest

import synthmark as sm
from synthmark.errors import AuditError, InvalidArgumentError

from .test_audit import store_url  # noqa: F401  (SQLite and PostgreSQL stores)
from . import media

KEY = sm.Key.from_bytes(b"live-session-test-key-0123456789")


def frames(n=12, h=240, w=320, seed=3):
    """A camera pan over a real photograph (the mark follows the picture's motion)."""
    return [np.ascontiguousarray(f) for f in media.pan_zoom_clip("astronaut", w, h, n, seed=seed)]


def test_session_marks_frames_and_records_start_and_end(store_url):  # noqa: F811
    log = sm.AuditLog(store_url)
    src = frames()
    segments = [b"segment-0" * 100, b"segment-1" * 100]
    with sm.LiveSession(KEY, user_ref="user-7", content_id="live-1", audit=log, host={"room": "a"}) as live:
        start_count = len(list(log.records()))
        assert start_count == 1  # stream_start is durable before the first frame is marked
        out = [live.mark_frame(f.copy(), t=i / 25) for i, f in enumerate(src)]
        for s in segments:
            live.add_segment(s)
    recs = [r.event for r in log.records()]
    assert [e.kind for e in recs] == ["stream_start", "stream_end"]
    start, end = recs
    assert start.output_sha256 is None and start.user_ref == "user-7" and start.media_type == "stream"
    hashes = [hashlib.sha256(s).hexdigest() for s in segments]
    assert list(end.segment_sha256) == hashes
    assert end.output_sha256 == hashlib.sha256("".join(hashes).encode()).hexdigest()
    assert end.status == "published" and end.host["frames"] == len(src) and end.host["start_event"] == start.event_id
    assert end.labels["watermark"] == {"payload": f"{live.payload:016x}", "key_id": KEY.id, "media": ["video"]}
    assert KEY.secret_bytes().hex() not in log.export_text()
    assert log.verify()
    # the frames carry the visible label (top-left corner changed) and the watermark
    assert np.abs(out[0][:20, :60].astype(int) - src[0][:20, :60]).mean() > 20
    det = sm.detect_frames(out, key=KEY)
    assert det.found and det.payload == live.payload


def test_session_on_yuv_frames_and_audio():
    src = frames(8)
    live = sm.LiveSession(KEY, user_ref="u", content_id="live-2", audio=(48000, 2),
                          audible=sm.AudibleLabel(), visible=sm.VisibleLabel(schedule="start"))
    with live:
        marked = []
        for i, f in enumerate(src):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p")
            live.mark_frame(vf, t=i / 25)
            marked.append(vf.to_ndarray(format="rgb24"))
        prompt = live.audio_prompt(48000, 2)
        assert prompt.shape[1] == 2 and np.abs(prompt).max() > 0.05
        rng = np.random.default_rng(0)
        chunk = (0.1 * rng.standard_normal((4800, 2))).astype(np.float32)
        out = np.concatenate([live.mark_audio(chunk) for _ in range(20)] + [live.flush_audio()])
        assert out.shape == (4800 * 20, 2) and live.audio_latency > 0
    assert sm.detect_frames(marked, key=KEY).payload == live.payload


def test_failed_session_is_recorded_as_failed(tmp_path):
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    with pytest.raises(RuntimeError):
        with sm.LiveSession(KEY, user_ref="u", content_id="live-3", audit=log) as live:
            live.mark_frame(frames(1)[0])
            raise RuntimeError("encoder died")
    end = list(log.records())[-1].event
    assert end.kind == "stream_end" and end.status == "failed" and "RuntimeError" in end.reason
    assert log.verify()


def test_session_misuse_and_bad_stores(tmp_path):
    f = frames(1)[0]
    live = sm.LiveSession(KEY, user_ref="u", content_id="c")
    with pytest.raises(InvalidArgumentError, match="start"):
        live.mark_frame(f)
    with pytest.raises(InvalidArgumentError, match="start"):
        live.end()
    live.start()
    with pytest.raises(InvalidArgumentError, match="audio"):
        live.mark_audio(np.zeros((100, 2), np.float32))
    with pytest.raises(TypeError, match="segment"):
        live.add_segment(12)
    live.end()
    assert live.end() is None  # idempotent
    with pytest.raises(InvalidArgumentError, match="ended"):
        live.mark_frame(f)
    with pytest.raises(InvalidArgumentError, match="recipient_ref"):
        sm.LiveSession(KEY, user_ref="u", content_id="c", visible=None)
    with pytest.raises(InvalidArgumentError, match="payload"):
        sm.LiveSession(KEY, user_ref="u", content_id="c", payload=-1)
    with pytest.raises(InvalidArgumentError, match="user_ref"):
        sm.LiveSession(KEY, user_ref=" ", content_id="c")
    db = tmp_path / "ro.db"
    sm.AuditLog(f"sqlite:///{db}").close()  # create the store
    ro = sm.AuditLog(f"sqlite:///{db}", read_only=True)
    with pytest.raises(AuditError):
        sm.LiveSession(KEY, user_ref="u", content_id="c", audit=ro)


def test_many_segments_keep_the_event_small(tmp_path):
    from synthmark.session import MAX_LISTED_SEGMENTS

    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    with sm.LiveSession(KEY, user_ref="u", content_id="c", audit=log) as live:
        hashes = [live.add_segment(str(i).encode()) for i in range(MAX_LISTED_SEGMENTS + 1)]
    end = list(log.records())[-1].event
    assert end.segment_sha256 == () and end.host["segments"] == len(hashes)
    assert end.output_sha256 == hashlib.sha256("".join(hashes).encode()).hexdigest()
