"""Live streams: label frames and audio as a real-time server produces them, and audit the session.

A :class:`LiveSession` is the streaming counterpart of ``label_file``: per video frame it composites
the visible label and embeds the watermark in place (on RGB/BGR arrays, Y planes or ``av.VideoFrame``
in yuv420p/nv12); per audio chunk it returns the watermarked chunk (constant latency, see
``AudioWatermarker``). The audit log gets a durable ``stream_start`` event before the first frame is
marked and a ``stream_end`` event carrying the SHA-256 of every published segment (e.g. HLS/DASH
segments handed to :meth:`add_segment`) when the session ends.

    with sm.LiveSession(key, user_ref="u-42", content_id="live-7", audit=log) as live:
        for frame in frames:             # numpy RGB or av.VideoFrame
            live.mark_frame(frame, t)     # t: seconds since the session started
        live.add_segment(segment_bytes)  # whatever the server publishes
"""

from __future__ import annotations

import hashlib
import os
import threading

from ._checks import check_payload
from .errors import InvalidArgumentError, InvalidTypeError
from .io.atomic import sha256_file
from .keys import Key
from .labels import AudibleLabel, VisibleLabel
from .watermark.audio import AudioWatermarker
from .watermark.video import VideoWatermarker

__all__ = ["LiveSession"]

# stream_end lists segment hashes up to this many (an event body is capped at 64 KiB); beyond it the
# record keeps only the digest of all of them, in order, plus the count.
MAX_LISTED_SEGMENTS = 700


class LiveSession:
    """Labels one live stream and records its start and end in the audit log (see module doc).

    ``visible``: the visible label (default: "AI生成" shown for the whole session, since viewers may
    join at any time; pass ``VisibleLabel(schedule="start")`` for the legal minimum of 2 s), or None for
    audio-only streams. ``audio``: ``(sample_rate, channels)`` to watermark audio chunks. ``audible``:
    the audible prompt offered by :meth:`audio_prompt` (play it at the start of the stream or of each
    turn). ``audit``: an AuditLog, a list of them, or None (registered hooks still receive the events).
    """

    def __init__(
        self,
        key: Key,
        *,
        user_ref: str | None = None,
        content_id: str,
        payload: int | None = None,
        visible: VisibleLabel | None | str = "default",
        watermark_video: bool = True,
        audio: tuple[int, int] | None = None,
        audible: AudibleLabel | None = None,
        audit=None,
        consent_ref: str | None = None,
        recipient_ref: str | None = None,
        host: dict | None = None,
        edits=None,
    ) -> None:
        from .audit.events import AuditEvent
        from .audit.hooks import check_ready

        if not isinstance(key, Key):
            raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
        if not isinstance(content_id, str) or not content_id.strip():
            raise InvalidArgumentError("content_id: expected a non-empty str")
        if visible == "default":
            visible = VisibleLabel(schedule="persistent")
        if visible is not None and not isinstance(visible, VisibleLabel):
            raise InvalidTypeError(f"visible: expected VisibleLabel or None, got {type(visible).__name__}")
        if audible is not None and not isinstance(audible, AudibleLabel):
            raise InvalidTypeError(f"audible: expected AudibleLabel or None, got {type(audible).__name__}")
        if recipient_ref is None and visible is None and audible is None:
            raise InvalidArgumentError(
                "a stream without an explicit label (visible or audible) needs recipient_ref: the rules require "
                "logging who received unlabeled content")
        check_ready(audit)  # a store that cannot record fails before the stream starts
        from .audit import registered_sinks
        from .policy import get_policy

        # the host's policy: user_ref (when a record is written) and consent for face/voice edits
        user_ref, edit_list = get_policy().check_job(
            user_ref=user_ref, edits=edits, consent_ref=consent_ref,
            recorded=audit is not None or bool(registered_sinks()))
        if user_ref is None:  # nothing records the session: the event is built (and checked) all the same
            from .policy import UNATTRIBUTED

            user_ref = UNATTRIBUTED
        host = dict(host or {})
        if edit_list:
            host["edits"] = edit_list
        self.key_id = key.id
        self.content_id = content_id
        if payload is None:
            from .pipeline import payload_for  # the same default payload as label_file

            payload = payload_for(content_id)
        self.payload = check_payload(payload)
        self.visible = visible
        self.audible = audible
        self._video = VideoWatermarker(key, self.payload) if watermark_video else None
        self._audio = None
        if audio is not None:
            if not (isinstance(audio, tuple) and len(audio) == 2):
                raise InvalidTypeError("audio: expected (sample_rate, channels)")
            self._audio = AudioWatermarker(key, self.payload, audio[0], audio[1])
        self._audit = audit
        self._lock = threading.Lock()
        self._segments: list[str] = []
        self._frames = 0
        self._ended = False
        # validates every reference now, so a bad user_ref fails before anything is marked
        self._start_event = AuditEvent(
            user_ref=user_ref, content_id=content_id, media_type="stream", output_sha256=None,
            labels=self._labels(), consent_ref=consent_ref, recipient_ref=recipient_ref, kind="stream_start",
            host=host)
        self._started = False

    # -- audit ---------------------------------------------------------------------------------------
    def _labels(self) -> dict:
        labels = {"watermark": {"payload": f"{self.payload:016x}", "key_id": self.key_id,
                                "media": [m for m, on in (("video", self._video), ("audio", self._audio)) if on]}}
        if self.visible is not None:
            labels["visible_label"] = {"text": self.visible.text, "position": self.visible.position,
                                       "schedule": self.visible.schedule}
        if self.audible is not None:
            labels["audible_prompt"] = {"kind": self.audible.kind, "placement": list(self.audible.placements)}
        return labels

    def start(self) -> "LiveSession":
        """Record ``stream_start`` durably (raises AuditError if a store fails). Idempotent."""
        from .audit.hooks import emit

        with self._lock:
            if self._ended:
                raise InvalidArgumentError("session: already ended")
            if not self._started:
                emit(self._start_event, self._audit)
                self._started = True
        return self

    def end(self, *, failed: bool = False, reason: str | None = None):
        """Record ``stream_end`` with the segment hashes; returns the EmitResult. Idempotent: a second call
        returns None. ``failed`` marks a session whose output did not go out as planned."""
        import dataclasses

        from .audit.hooks import emit

        with self._lock:
            if self._ended:
                return None
            if not self._started:
                raise InvalidArgumentError("session: end() before start()")
            segments = tuple(self._segments)
            digest = hashlib.sha256("".join(segments).encode("ascii")).hexdigest()
            host = dict(self._start_event.host, frames=self._frames, segments=len(segments),
                        start_event=self._start_event.event_id)
            event = dataclasses.replace(
                self._start_event, kind="stream_end", output_sha256=digest, event_id="", time_utc="",
                status="failed" if failed else "published", reason=reason if failed else None,
                segment_sha256=segments if len(segments) <= MAX_LISTED_SEGMENTS else (), host=host)
            result = emit(event, self._audit)  # raises AuditError: the session stays open, end() may be retried
            self._ended = True
            return result

    def __enter__(self) -> "LiveSession":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._ended and self._started:
            self.end(failed=exc_type is not None, reason=None if exc_type is None else f"{exc_type.__name__} in the session")

    # -- media ---------------------------------------------------------------------------------------
    def _check_live(self) -> None:
        if not self._started:
            raise InvalidArgumentError("session: call start() (or use 'with') before marking media")
        if self._ended:
            raise InvalidArgumentError("session: already ended")

    def mark_frame(self, frame, t: float | None = None, *, pixel_format: str | None = None):
        """Visible label (per its schedule at ``t`` seconds since the start; always when ``t`` is None)
        and watermark, in place. Returns the frame."""
        self._check_live()
        if self.visible is not None:
            self.visible.apply(frame, t, pixel_format=pixel_format)
        if self._video is not None:
            self._video.embed(frame)
        with self._lock:
            self._frames += 1
        return frame

    def mark_audio(self, chunk):
        """The watermarked chunk (delayed by ``audio_latency`` samples; call :meth:`flush_audio` at the end)."""
        self._check_live()
        if self._audio is None:
            raise InvalidArgumentError("session: created without audio=(sample_rate, channels)")
        return self._audio.process(chunk)

    def flush_audio(self):
        if self._audio is None:
            raise InvalidArgumentError("session: created without audio=(sample_rate, channels)")
        return self._audio.flush()

    @property
    def audio_latency(self) -> int:
        return 0 if self._audio is None else self._audio.latency

    def audio_prompt(self, sample_rate: int, channels: int | None = None):
        """The audible prompt's samples (float32), to play at the start of the stream or of a turn."""
        if self.audible is None:
            raise InvalidArgumentError("session: created without an audible label")
        return self.audible.prompt(sample_rate, channels)

    def add_segment(self, segment) -> str:
        """Hash one published segment (bytes, or a path to a file) for the ``stream_end`` record."""
        if isinstance(segment, (bytes, bytearray, memoryview)):
            digest = hashlib.sha256(segment).hexdigest()
        elif isinstance(segment, (str, os.PathLike)):
            digest = sha256_file(segment)
        else:
            raise InvalidTypeError(f"segment: expected bytes or a path, got {type(segment).__name__}")
        with self._lock:
            if self._ended:
                raise InvalidArgumentError("session: already ended")
            self._segments.append(digest)
        return digest

    def __repr__(self) -> str:
        return (f"LiveSession(content_id={self.content_id!r}, key_id={self.key_id!r}, frames={self._frames}, "
                f"segments={len(self._segments)}, started={self._started}, ended={self._ended})")
