"""Labeling whole files, and reading their labels back.

``label_file(src, dst, key=..., producer=..., content_id=...)`` decodes ``src`` with PyAV, applies the
visible label and the watermark to every video frame (or the image), the audible prompt and the
watermark to the audio, re-encodes into the format ``dst``'s extension names (see ``output_kind``), writes the one AIGC metadata
record, records the audit event, and only then publishes ``dst`` atomically. ``inspect_file(path)``
reads the record, checks its ``ReservedCode1`` and detects the watermark when given the key.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import limits
from .errors import (FrameTooSmallError, InvalidArgumentError, InvalidTypeError, MediaError, MetadataError,
                     OutputExistsError)
from .io.atomic import publish, remove_quietly, sha256_file, temp_path_for
from .keys import Key
from .labels import AudibleLabel, VisibleLabel
from .watermark.audio import AudioWatermarker, detect_audio
from .watermark.video import VideoWatermarker, detect_frames
from .metadata import AigcRecord, check_value, read_record, sniff, write_record
from .metadata.record import check_label

IMAGE_KINDS = ("png", "jpeg")
AUDIO_KINDS = ("wav", "mp3", "flac", "ogg")
AV_KINDS = ("mp4", "mov", "matroska", "webm")
#: the output format is the one dst's extension names (case-insensitive)
EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".m4a": "mp4", ".mov": "mov", ".qt": "mov", ".mkv": "matroska",
              ".mka": "matroska", ".webm": "webm", ".wav": "wav", ".mp3": "mp3", ".flac": "flac", ".ogg": "ogg",
              ".oga": "ogg", ".opus": "ogg", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg"}
_KIND_NAMES = {"png": "a PNG image", "jpeg": "a JPEG image", "wav": "WAV audio", "mp3": "MP3 audio",
               "flac": "FLAC audio", "ogg": "Ogg audio", "mp4": "an MP4 file", "mov": "a QuickTime file",
               "matroska": "a Matroska file", "webm": "a WebM file"}
#: seconds of audio buffered at the start so the audible prompt can be mixed in whole
AUDIBLE_HEAD_SECONDS = 3.0
# label_file's default prompt, shared by the calls: it keeps its rendered prompt per sample rate
# (rebuilding it cost ~5 ms per file). Read-only once built; never handed to callers.
_DEFAULT_AUDIBLE = AudibleLabel(mode="overlay", extend=True)


def payload_for(content_id: str) -> int:
    """The default 64-bit watermark payload of a content id: the first 8 bytes of its SHA-256."""
    return int.from_bytes(hashlib.sha256(content_id.encode("utf-8")).digest()[:8], "big")


def platform_label(record: AigcRecord | None = None, *, user_declared: bool = False,
                   detected: bool = False) -> str | None:
    """The ``Label`` a platform should show (rules, section 6); None means no AI notice.

    The record's own Label when it has one; "2" (possibly AI) when the uploader declares AI content;
    "3" (suspected AI) when only an explicit label or a watermark was detected. The strongest applies.
    """
    candidates = []
    if record is not None:
        candidates.append(record.label)
    if user_declared:
        candidates.append("2")
    if detected:
        candidates.append("3")
    return min(candidates) if candidates else None


def platform_record(existing: AigcRecord | None, *, propagator: str, propagate_id: str,
                    user_declared: bool = False, detected: bool = False) -> AigcRecord | None:
    """The record a distributing platform writes: producer fields kept, its own propagator fields set."""
    label = platform_label(existing, user_declared=user_declared, detected=detected)
    if label is None:
        return None
    if existing is None:
        return AigcRecord(label=label, content_propagator=propagator, propagate_id=propagate_id)
    return existing.relabeled(propagator, propagate_id, label=label)


@dataclass
class Report:
    """What ``label_file`` did (``action='label'``) or what ``inspect_file`` found (``'inspect'``).

    ``to_dict`` holds only the fields of that action: a label report has no detections, an inspect
    report nothing applied; without a key inspect says ``watermark_checked: false`` and leaves out
    the detections, the payload and ``record_verified``."""

    path: str
    format: str
    record: AigcRecord | None = None
    record_verified: bool | None = None
    detections: dict = field(default_factory=dict)
    platform_label: str | None = None
    payload: int | None = None
    applied: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    streams: list = field(default_factory=list)
    source: str | None = None
    video_frames: int = 0
    audio_samples: int = 0
    duration: float | None = None
    elapsed: float = 0.0
    action: str = "label"
    watermark_checked: bool = False  # inspect: a key was given, so the watermark and ReservedCode1 were checked

    def to_dict(self) -> dict:
        d = {"path": self.path}
        if self.action == "label":
            d["source"] = self.source
        d["format"] = self.format
        d["record"] = None if self.record is None else self.record.to_dict()
        if self.action == "inspect":
            d["watermark_checked"] = self.watermark_checked
            if self.watermark_checked:
                d["record_verified"] = self.record_verified
                d["detections"] = {
                    k: {"found": det.found, "payload": None if det.payload is None else f"{det.payload:016x}",
                        "false_alarm": det.false_alarm, "score": det.score}
                    for k, det in self.detections.items()
                }
        d["platform_label"] = self.platform_label
        if self.action == "label" or self.watermark_checked:
            d["payload"] = None if self.payload is None else f"{self.payload:016x}"
        if self.action == "label":
            d["applied"] = self.applied
        d["notes"] = self.notes
        d["streams"] = self.streams
        if self.action == "label":
            d["video_frames"] = self.video_frames
            d["audio_samples"] = self.audio_samples
        d["duration"] = self.duration
        d["elapsed"] = round(self.elapsed, 3)
        return d

    def summary(self) -> str:
        lines = [f"{self.path} ({self.format})"]
        if self.source:
            lines[0] = f"{self.source} -> {lines[0]}"
        if self.record is None:
            lines.append("  metadata: no AIGC record")
        else:
            r = self.record
            lines.append(f"  metadata: Label {r.label}, producer {r.content_producer or '-'}, ProduceID {r.produce_id or '-'}")
            if r.content_propagator:
                lines.append(f"            propagator {r.content_propagator}, PropagateID {r.propagate_id or '-'}")
            if self.record_verified is not None:
                lines.append(f"  ReservedCode1: {'verifies with this key' if self.record_verified else 'does NOT verify with this key'}")
            elif self.action == "inspect" and not self.watermark_checked:
                lines.append("  ReservedCode1: not checked (no key)")
        if self.action == "inspect" and not self.watermark_checked:
            lines.append("  watermark: not checked (no key given; pass the key (--key) to detect it)")
        for name, d in self.detections.items():
            if d.found:
                p = "unreadable" if d.payload is None else f"0x{d.payload:016x}"
                lines.append(f"  watermark ({name}): found, payload {p}, false-alarm probability {d.false_alarm:.2g}")
            else:
                lines.append(f"  watermark ({name}): not found (false-alarm probability at this score {d.false_alarm:.2g})")
        for layer, what in self.applied.items():
            lines.append(f"  applied {layer}: {what}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        shown = {None: "none (no AI notice)", "1": "1 (AI-generated)", "2": "2 (possibly AI-generated)",
                 "3": "3 (suspected AI-generated)"}[self.platform_label]
        lines.append(f"  platform Label: {shown}")
        return "\n".join(lines)


#: samples per watermarker call: decoders hand 1024-sample frames; the watermarker costs about half as
#: much per sample on 16384-sample blocks (0.34 s at 48 kHz of delay, bounded memory)
AUDIO_BLOCK = 16384


class _AudioChain:
    """Per audio stream: the audible prompt over the first seconds, then the watermark, streaming."""

    def __init__(self, rate: int, channels: int, audible, watermarker):
        self.rate, self.channels = rate, channels
        self.audible, self.wm = audible, watermarker
        self._head: list = []
        self._head_n = 0
        self._head_target = int(AUDIBLE_HEAD_SECONDS * rate) if audible is not None else 0
        self._head_done = audible is None
        self._pending: list = []  # chunks waiting for a full AUDIO_BLOCK
        self._pending_n = 0

    def _empty(self) -> np.ndarray:
        return np.zeros((self.channels, 0), np.float32)

    def _mark(self, x: np.ndarray, final: bool = False) -> np.ndarray:
        """Watermark whole AUDIO_BLOCKs of what came so far (and the rest too when ``final``); the
        watermarker's output does not depend on how its input is chunked."""
        if self.wm is None:
            return x
        if x.shape[-1]:
            self._pending.append(x)
            self._pending_n += x.shape[-1]
        ready = self._pending_n if final else self._pending_n - self._pending_n % AUDIO_BLOCK
        if not ready:
            return self._empty()
        buf = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending, axis=1)
        self._pending = [buf[:, ready:]] if ready < buf.shape[-1] else []
        self._pending_n = buf.shape[-1] - ready
        out = self.wm.process(buf[:, :ready].T)  # the audio API takes (n, channels); this chain is (channels, n)
        return self._empty() if out is None else out.reshape(out.shape[0], self.channels).T

    def _apply_head(self) -> np.ndarray:
        buf = np.concatenate(self._head, axis=1) if self._head else self._empty()
        self._head = []
        self._head_done = True
        if buf.shape[-1]:
            out = self.audible.apply(buf, self.rate)
            buf = buf if out is None else out
        return buf

    def process(self, x: np.ndarray) -> np.ndarray:
        if not self._head_done:
            self._head.append(x)
            self._head_n += x.shape[-1]
            if self._head_n < self._head_target:
                return self._empty()
            x = self._apply_head()
        return self._mark(x)

    def flush(self) -> np.ndarray:
        parts = [self._mark(self._empty() if self._head_done else self._apply_head(), final=True)]
        if self.wm is not None:
            tail = self.wm.flush()
            if tail is not None:
                parts.append(tail.reshape(tail.shape[0], self.channels).T)
        parts = [p for p in parts if p.shape[-1]]
        return np.concatenate(parts, axis=1) if parts else self._empty()


def _check_text(name: str, value) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name}: expected str, got {type(value).__name__}")
    if not value:
        raise InvalidArgumentError(f"{name}: must not be empty")
    return check_value(name, value)


def output_kind(kind: str, dst: Path, has_video: bool) -> str:
    """The format ``label_file`` writes: the one ``dst``'s extension names (the input's when it has none).

    Every medium is re-encoded anyway, so audio and video go into whichever container is named.
    Refused (InvalidArgumentError): an unknown extension; a still into anything but its own format (the
    source's metadata blocks do not map onto another format, and a still is not a video); audio or
    video into an image; video into an audio-only format or name (.m4a, .mka: the picture would be dropped)."""
    ext = dst.suffix.lower()
    if not ext:
        return kind
    out = EXTENSIONS.get(ext)
    if out is None:
        known = " ".join(sorted(EXTENSIONS))
        raise InvalidArgumentError(f"dst: unknown extension {dst.suffix!r}; the output format follows it "
                                   f"({known}), or give no extension to keep the input's format")
    if has_video and ext in _AUDIO_ONLY_EXTENSIONS:
        raise InvalidArgumentError(f"dst: {dst.name} names an audio-only file but the input has video; it would "
                                   f"drop the picture (name dst {_AUDIO_ONLY_EXTENSIONS[ext]})")
    if out == kind:
        return out
    what = f"dst: {dst.name} names {_KIND_NAMES[out]} but the input is {_KIND_NAMES[kind]}"
    if kind in IMAGE_KINDS:
        raise InvalidArgumentError(f"{what}; a still is written in its own format (its metadata blocks do not "
                                   f"map onto another), name dst {_KIND_EXT[kind]}")
    if out in IMAGE_KINDS:
        raise InvalidArgumentError(f"{what}; audio and video cannot be written as an image")
    if has_video and out in AUDIO_KINDS:
        raise InvalidArgumentError(f"{what} with video; {_KIND_NAMES[out]} would drop the picture")
    return out


_KIND_EXT = {"png": ".png", "jpeg": ".jpg"}
#: extensions of containers that also hold video, by convention audio only: the name a video would get instead
_AUDIO_ONLY_EXTENSIONS = {".m4a": ".mp4", ".mka": ".mkv"}


def _media_type(kind: str, has_video: bool) -> str:
    if kind in IMAGE_KINDS:
        return "image"
    return "video" if has_video else "audio"


def label_file(
    src,
    dst,
    *,
    key: Key,
    producer: str,
    content_id: str,
    progress: Callable[[float], None] | None = None,
    payload: int | None = None,
    label: str = "1",
    propagator: str | None = None,
    propagate_id: str | None = None,
    visible_label=None,
    audible_label=None,
    watermark_strength: float = 1.0,
    video_codec: str | None = None,
    crf: int | None = 18,
    video_bitrate: int | None = None,
    preset: str | None = "veryfast",
    audio_codec: str | None = None,
    audio_bitrate: int | None = None,
    user_ref: str | None = None,
    audit=None,
    overwrite: bool = False,
    max_pixels: int | None = limits.MAX_PIXELS,
    max_seconds: float | None = limits.MAX_SECONDS,
    edits=None,
    consent_ref: str | None = None,
) -> Report:
    """Label ``src`` fully and publish the result atomically at ``dst``; return a Report.

    ``producer`` and ``content_id`` become ``ContentProducer`` and ``ProduceID`` (and, on a first write,
    the propagator fields unless ``propagator``/``propagate_id`` are given). The watermark payload is
    ``payload`` or the first 8 bytes of SHA-256(content_id). ``ReservedCode1`` is the HMAC-SHA256 of the
    key over the producer fields and the payload. ``visible_label``/``audible_label`` take configured
    ``VisibleLabel``/``AudibleLabel`` objects (None: the defaults). Video is re-encoded with
    ``video_codec`` (default H.264; VP9 for WebM) at ``crf`` (or ``video_bitrate``), audio with
    ``audio_codec`` (default AAC; Opus for WebM). The output format is the one ``dst``'s extension names
(the input's when it has none; ``output_kind`` lists what is refused). ``progress(fraction)`` is called as the work advances.
    The audit event (stores in ``audit`` and registered sinks; it names ``dst`` as its output_path) is
    recorded durably before ``dst`` is published (``synthmark.audit.publish``); if the process dies in
    between, the next writable ``AuditLog`` opened on this host (or ``synthmark audit reconcile``)
    appends a ``'failed'`` record for it. ``src`` is never modified; on any failure nothing is left at ``dst``.
    Untrusted input is bounded: LimitExceededError, from the headers and before decoding, for frames over
    ``max_pixels`` pixels or media over ``max_seconds`` (None: no limit; see synthmark.limits).
    An existing ``dst`` is replaced only with ``overwrite=True`` (else OutputExistsError, before any work;
    a ``dst`` that appears while the job runs is not replaced either).

    ``user_ref`` (whom the content was generated for), ``edits`` (e.g. ``{"face"}``: what of a real
    person the content edits) and ``consent_ref`` go into the audit event; the host's
    :class:`synthmark.Policy` decides, before any work, whether a missing ``user_ref`` (when an audit
    record is written) or a missing ``consent_ref`` for such an edit is refused (the default).
    """
    t0 = time.perf_counter()
    if not isinstance(key, Key):
        raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
    producer = _check_text("producer", producer)
    content_id = _check_text("content_id", content_id)
    check_label(label)
    if propagator is not None:
        _check_text("propagator", propagator)
    if propagate_id is not None:
        _check_text("propagate_id", propagate_id)
    if payload is None:
        payload = payload_for(content_id)
    else:
        from ._checks import check_payload

        payload = check_payload(payload)
    from .audit.hooks import check_ready

    check_ready(audit)  # a wrong or read-only audit store fails here, before any labeling work
    from .audit import registered_sinks
    from .policy import get_policy

    policy_notes: list = []
    user_ref, edit_list = get_policy().check_job(
        user_ref=user_ref, edits=edits, consent_ref=consent_ref,
        recorded=audit is not None or bool(registered_sinks()), notes=policy_notes)
    max_pixels, max_seconds = limits.check_max_pixels(max_pixels), limits.check_max_seconds(max_seconds)
    src, dst = Path(src), Path(dst)
    kind = sniff(src)
    _check_still(src, kind, max_pixels)
    if dst.exists() and dst.resolve() == src.resolve():
        raise InvalidArgumentError("dst: must differ from src (the input is never modified)")
    if dst.is_dir():
        raise InvalidArgumentError(f"dst: is a directory: {dst}")
    if not overwrite and os.path.lexists(dst):
        raise OutputExistsError(f"dst: {dst} already exists (not overwritten: pass overwrite=True, or --force "
                                "on the command line)", errno=errno.EEXIST, filename=os.fspath(dst))
    if not dst.parent.exists():
        raise InvalidArgumentError(f"dst: directory does not exist: {dst.parent}")

    from .io.audio import AudioSettings
    from .io.transcode import MUXER, probe
    from .io.video import VideoSettings

    # one open of the source for its duration (label schedules that also mark the end) and its tags
    info = probe(src, max_pixels) if kind not in IMAGE_KINDS else None
    if info is not None:
        limits.check_duration(src, info["duration"], max_seconds)
    src_kind = kind
    kind = output_kind(src_kind, dst, info is not None and any(
        st["type"] == "video" and not st["attached_pic"] for st in info["streams"]))
    video_settings = VideoSettings(codec=video_codec, crf=crf, bitrate=video_bitrate, preset=preset)
    audio_settings = AudioSettings(codec=audio_codec, bitrate=audio_bitrate)
    video_settings.check(MUXER.get(kind))  # (None for a still: encoded as PNG/JPEG, the codec unused)
    audio_settings.check(MUXER.get(kind))
    report = Report(path=str(dst), format=kind, source=str(src), payload=payload)
    notes = report.notes
    try:
        existing = read_record(src, container_metadata=info["metadata"] if src_kind in AV_KINDS else None)
    except MetadataError as exc:
        existing = None
        notes.append(f"the source's AIGC record was malformed and is replaced ({exc})")
    record = AigcRecord(
        label=label, content_producer=producer, produce_id=content_id,
        content_propagator=propagator if propagator is not None else producer,
        propagate_id=propagate_id if propagate_id is not None else content_id,
    ).signed(key, payload)
    record = record.merged_over(existing)
    if existing is not None and record.content_producer != producer:
        notes.append(f"kept the producer fields of {existing.content_producer} (relabel as propagator)")

    visible = VisibleLabel() if visible_label is None else visible_label
    if not isinstance(visible, VisibleLabel):
        raise InvalidTypeError(f"visible_label: expected synthmark.VisibleLabel, got {type(visible).__name__}")
    # mixed in: inserting would shift the audio against the video; clips shorter than the prompt get padded
    audible = _DEFAULT_AUDIBLE if audible_label is None else audible_label
    if not isinstance(audible, AudibleLabel):
        raise InvalidTypeError(f"audible_label: expected synthmark.AudibleLabel, got {type(audible).__name__}")
    if audible.placements != ["start"]:
        raise InvalidArgumentError(
            f"audible_label: label_file streams the audio, so the prompt goes at the start only; got placement {audible.placements}"
        )
    vwm = VideoWatermarker(key, payload, strength=watermark_strength)

    tmp = temp_path_for(dst, suffix=dst.suffix or {"jpeg": ".jpg", "matroska": ".mkv"}.get(kind, "." + kind))
    try:
        has_video = False
        if kind in IMAGE_KINDS:
            has_video = True
            _label_image(src, tmp, kind, visible, vwm, report, max_pixels)
            write_record(tmp, record, merge=False)
        else:
            from .io.transcode import transcode

            clip_duration = info["duration"]

            def video_fn(frame):
                visible.apply(frame, t=frame.time if frame.time is not None else 0.0, duration=clip_duration)
                vwm.embed(frame)

            def audio_factory(rate, channels):
                return _AudioChain(rate, channels, audible, AudioWatermarker(key, payload, rate, channels))

            in_container = kind in AV_KINDS
            stats = transcode(
                src, tmp, kind, video_fn=video_fn, audio_factory=audio_factory,
                video=video_settings, audio=audio_settings,
                metadata={"AIGC": record.to_json()} if in_container else None,
                progress=progress, max_pixels=max_pixels, max_seconds=max_seconds,
            )
            report.video_frames, report.audio_samples = stats.video_frames, stats.audio_samples
            report.duration, report.streams = stats.duration, stats.streams
            has_video = stats.video_frames > 0
            if in_container:
                back = read_record(tmp)
                if back is None:
                    raise MetadataError(f"{kind}: the muxer dropped the AIGC record (read back nothing)")
                if back != record:
                    raise MetadataError(f"{kind}: the AIGC record read back differs from the one written")
            else:
                write_record(tmp, record, merge=False)
            if has_video:
                report.applied["visible label"] = f"{visible.text!r} {visible.position}, {visible.schedule}"
                report.applied["video watermark"] = f"payload 0x{payload:016x}"
            if stats.audio_samples:
                report.applied["audible prompt"] = f"{audible.kind} at the start ({audible.mode})"
                report.applied["audio watermark"] = f"payload 0x{payload:016x}"
        report.applied["metadata"] = f"AIGC record, Label {record.label}"
        report.record = record
        notes.extend(policy_notes)
        _record_and_publish(report, tmp, dst, kind, has_video, record, key, payload, audit, overwrite,
                            user_ref=user_ref, consent_ref=consent_ref, edits=edit_list)
    except BaseException:
        remove_quietly(tmp)
        raise
    report.platform_label = platform_label(record)
    report.elapsed = time.perf_counter() - t0
    return report


def _check_still(path, kind: str, max_pixels: int | None) -> None:
    """Refuse a PNG/JPEG over ``max_pixels`` from its header, before any decoder allocates the frame."""
    if kind in IMAGE_KINDS and max_pixels is not None:
        size = limits.still_dimensions(path, kind)
        if size is not None:
            limits.check_pixels(path, *size, max_pixels)


def _label_image(src, tmp, kind, visible, vwm, report, max_pixels) -> None:
    from .io.transcode import iter_video_frames
    from .io.video import encode_still, oriented
    from .metadata import carry

    data = Path(src).read_bytes()
    turn = carry.orientation(data, kind)
    frame = next(iter(iter_video_frames(src, max_pixels=max_pixels)), None)
    if frame is None:
        raise MediaError(f"{src}: no decodable picture")
    has_alpha = "a" in frame.format.name.replace("gray", "")
    work = oriented(frame.reformat(format="rgba" if has_alpha else "rgb24"), turn)
    if turn != 1:
        report.notes.append(f"EXIF Orientation {turn} applied to the pixels (the output has Orientation 1)")
    visible.apply(work)
    vwm.embed(work)
    report.applied["visible label"] = f"{visible.text!r} {visible.position}"
    report.applied["image watermark"] = f"payload 0x{report.payload:016x}"
    report.video_frames = 1
    encode_still(os.fspath(tmp), work, "png" if kind == "png" else "mjpeg")
    # the source's EXIF, ICC, XMP, IPTC, PNG text, dpi, ...; the record is then set inside its XMP
    Path(tmp).write_bytes(carry.carry(data, Path(tmp).read_bytes(), kind))


def _record_and_publish(report, tmp, dst, kind, has_video, record, key, payload, audit, overwrite, *,
                        user_ref, consent_ref, edits) -> None:
    """Durable audit record first (with dst as its output_path, marked in doubt), then the atomic
    rename onto dst (synthmark.audit.publish). A crash in between is settled by AuditLog.reconcile."""
    from .audit import AuditEvent, registered_sinks
    from .audit import publish as audit_publish

    if audit is None and not registered_sinks():  # nothing to record: no hashing, plain atomic publish
        try:
            publish(tmp, dst, replace=overwrite)
        except FileExistsError:
            raise OutputExistsError(f"dst: {dst} already exists (it appeared while labeling; not overwritten)",
                                    errno=errno.EEXIST, filename=os.fspath(dst)) from None
        return

    labels = {"metadata": {"Label": record.label, "ContentProducer": record.content_producer,
                           "ProduceID": record.produce_id}}
    for layer, what in report.applied.items():
        if layer != "metadata":
            labels[layer.replace(" ", "_")] = what
    if "video watermark" in report.applied or "audio watermark" in report.applied or "image watermark" in report.applied:
        labels["watermark"] = {"payload": f"{payload:016x}", "key_id": key.id}
    from .policy import UNATTRIBUTED

    host = {"format": kind, "edits": edits} if edits else {"format": kind}
    event = AuditEvent(user_ref=user_ref or UNATTRIBUTED, content_id=record.produce_id,  # (a sink added mid-job)
                       media_type=_media_type(kind, has_video), output_sha256=sha256_file(tmp), labels=labels,
                       host=host, consent_ref=consent_ref)
    # raises AuditError if a durable store failed (nothing is published; the caller removes tmp)
    result = audit_publish(tmp, dst, event, audit=audit, replace=overwrite)
    report.applied["audit"] = f"event {event.event_id} ({len(result.records)} durable store(s))"


def inspect_file(path, key: Key | None = None, *, max_seconds: float | None = 60.0,
                 user_declared: bool = False, max_pixels: int | None = limits.MAX_PIXELS) -> Report:
    """Read a file's labels: the AIGC record (and whether ``ReservedCode1`` verifies with ``key``),
    the watermark per medium (with ``key``; the first ``max_seconds`` are analysed), and the
    ``Label`` a platform should show. LimitExceededError for frames over ``max_pixels`` (from the headers,
    before decoding; None: no limit)."""
    t0 = time.perf_counter()
    if key is not None and not isinstance(key, Key):
        raise InvalidTypeError(f"key: expected synthmark.Key or None, got {type(key).__name__}")
    max_pixels = limits.check_max_pixels(max_pixels)
    if max_seconds is not None:
        max_seconds = limits.check_max_seconds(max_seconds)
    path = Path(path)
    kind = sniff(path)
    _check_still(path, kind, max_pixels)
    report = Report(path=str(path), format=kind, action="inspect", watermark_checked=key is not None)
    try:
        report.record = read_record(path)
    except MetadataError as exc:
        report.notes.append(f"malformed AIGC record: {exc}")
    from .io.transcode import iter_video_frames, probe, read_audio

    info = probe(path, max_pixels)
    report.duration = info["duration"]
    report.streams = [(s["index"], s["type"], s["codec"]) for s in info["streams"]]
    has_video = any(s["type"] == "video" for s in info["streams"])
    has_audio = any(s["type"] == "audio" for s in info["streams"])
    if key is not None:
        if has_video:
            frames = (f.to_ndarray(format="gray") if kind in IMAGE_KINDS else f
                      for f in iter_video_frames(path, max_seconds, max_pixels=max_pixels))
            report.detections["video" if kind not in IMAGE_KINDS else "image"] = detect_frames(frames, key=key)
        if has_audio:
            got = read_audio(path, max_seconds)
            if got is not None:
                samples, rate = got
                try:
                    report.detections["audio"] = detect_audio(samples.T, rate, key=key)  # (n, channels)
                except FrameTooSmallError as exc:
                    report.notes.append(f"audio watermark not checked: {exc}")
        found = [d for d in report.detections.values() if d.found and d.payload is not None]
        report.payload = found[0].payload if found else None
        if report.record is not None:
            candidates = [d.payload for d in found]
            if report.record.produce_id:
                candidates.append(payload_for(report.record.produce_id))
            report.record_verified = any(report.record.verify(key, p) for p in candidates)
    detected = any(d.found for d in report.detections.values())
    report.platform_label = platform_label(report.record, user_declared=user_declared, detected=detected)
    report.elapsed = time.perf_counter() - t0
    return report
