"""One audit event per labeled item, and its canonical JSON form.

An event records *who it was for* (references only, never identity documents), *what was produced*
(a content id and the SHA-256 of the published output, never the content), and *which labels were
applied* (label text, schedules, metadata record, watermark payload and key **id**, never key bytes).

``canonical_json`` is the one serialisation that is hashed: UTF-8, sorted keys, no whitespace,
no NaN/Infinity. Re-serialising a parsed record gives the same bytes, so a hash can be re-checked
from what a store returns.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from ..errors import InvalidArgumentError, InvalidTypeError

SCHEMA_VERSION = 2
#: v1 bodies (no publication fields) are still written for events without them, so their bytes and
#: hashes are unchanged; v2 adds the optional ``output_path``, ``supersedes`` and ``reason``.
_V2_FIELDS = ("output_path", "supersedes", "reason")
MEDIA_TYPES = ("video", "image", "audio", "text", "stream")
KINDS = ("item", "stream_start", "stream_end")
STATUSES = ("published", "failed")
# Field names that would suggest a secret is being logged. Record ``key_id`` instead.
_FORBIDDEN_NAMES = frozenset({"key", "secret", "secret_key", "key_bytes", "secret_bytes", "private_key", "password"})
_MAX_BODY_BYTES = 64 * 1024  # events hold hashes and metadata, not content
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def canonical_json(obj: Any) -> bytes:
    """The hashed serialisation: UTF-8 JSON, sorted keys, compact separators, finite numbers only."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def utc_timestamp(value: datetime | str | None = None, *, naive_is_utc: bool = False) -> str:
    """A fixed-width UTC timestamp ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (sorts as text in time order).

    Naive times are refused unless ``naive_is_utc`` (used for export bounds such as ``2026-01-01``).
    """
    if value is None:
        value = datetime.now(timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidArgumentError(f"time_utc: not an ISO 8601 time: {value!r}") from None
        if value.tzinfo is None and naive_is_utc:
            value = value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None:
            raise InvalidArgumentError(f"time_utc: needs a UTC offset (e.g. 'Z'): {value.isoformat()!r}")
    elif isinstance(value, datetime):
        if value.tzinfo is None and naive_is_utc:
            value = value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None:
            raise InvalidArgumentError("time_utc: naive datetime; pass a timezone-aware one (UTC)")
    else:
        raise InvalidTypeError(f"time_utc: expected datetime or ISO string, got {type(value).__name__}")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_json_value(value: Any, where: str) -> None:
    """Only plain JSON values; no bytes (content or key material), no Key objects."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidArgumentError(f"{where}: NaN/Infinity cannot be recorded")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json_value(v, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidTypeError(f"{where}: keys must be str, got {type(k).__name__}")
            if k.lower() in _FORBIDDEN_NAMES:
                raise InvalidArgumentError(
                    f"{where}.{k}: secrets are never recorded in the audit log; record the key id as 'key_id'"
                )
            _check_json_value(v, f"{where}.{k}")
        return
    if type(value).__name__ == "Key":
        raise InvalidTypeError(f"{where}: a Key cannot be recorded; record key.id as 'key_id'")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidTypeError(f"{where}: bytes cannot be recorded (no content or key material); record a hash or id")
    raise InvalidTypeError(f"{where}: {type(value).__name__} is not a JSON value")


def _opt_ref(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name}: expected str or None, got {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{name}: empty reference; pass None when there is none")
    return value


def _hex64(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name}: expected a SHA-256 hex string, got {type(value).__name__}")
    v = value.lower()
    if not _HEX64.match(v):
        raise InvalidArgumentError(f"{name}: expected 64 hex digits (SHA-256), got {len(value)} characters")
    return v


@dataclass(frozen=True)
class AuditEvent:
    """One labeled item (a file, image, audio clip) or one live-stream session start/end.

    Required: ``user_ref`` (the id or pseudonym from the host's real-name verification, never
    documents), ``content_id`` (the ProduceID), ``media_type`` (one of MEDIA_TYPES) and
    ``output_sha256`` (SHA-256 hex of the published output; for ``kind='stream_end'``, of the
    concatenated segment hashes, which may also be listed in ``segment_sha256``; may be None only for
    ``kind='stream_start'``).

    ``labels`` describes what was applied, e.g.::

        {"visible": {"text": "AI生成", "schedule": "corner, whole duration"},
         "audible": {"prompt": "AI生成", "at_s": [0.0]},
         "metadata": {"Label": "1", "ContentProducer": "...", "ProduceID": "..."},
         "watermark": {"payload": "00ab...", "key_id": key.id}}

    ``consent_ref``: consent of a real person whose face or voice was edited. ``recipient_ref``:
    recipient of content delivered without a visible label at the user's request. ``status``:
    ``'published'`` or ``'failed'`` (output not published). ``host``: free-form host fields.
    ``event_id`` and ``time_utc`` default to a new UUID and the current UTC time.

    Publication fields (schema v2, all optional): ``output_path`` is the absolute path the output is
    published at (set by :func:`synthmark.audit.publish`; what ``AuditLog.reconcile`` checks);
    ``supersedes`` is the event id of an earlier ``'published'`` record that a ``'failed'`` event
    withdraws (the output was never published), with the ``reason``.
    """

    user_ref: str
    content_id: str
    media_type: str
    output_sha256: str | None
    labels: dict = field(default_factory=dict)
    consent_ref: str | None = None
    recipient_ref: str | None = None
    kind: str = "item"
    status: str = "published"
    segment_sha256: tuple = ()
    host: dict = field(default_factory=dict)
    tool_version: str = ""
    event_id: str = ""
    time_utc: str = ""
    output_path: str | None = None
    supersedes: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        from .. import __version__

        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen dataclass)
        for name in ("user_ref", "content_id"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidTypeError(f"{name}: expected str, got {type(value).__name__}")
            if not value.strip():
                raise InvalidArgumentError(f"{name}: must not be empty")
        set_("consent_ref", _opt_ref(self.consent_ref, "consent_ref"))
        for name in _V2_FIELDS:
            value = _opt_ref(getattr(self, name), name)
            if value is not None and (len(value) > 4096 or "\x00" in value):
                raise InvalidArgumentError(f"{name}: at most 4096 characters, no NUL")
            set_(name, value)
        if self.output_path is not None and not self.output_path.startswith("/") and not re.match(r"^[A-Za-z]:[\\/]", self.output_path):
            raise InvalidArgumentError(f"output_path: must be absolute, got {self.output_path!r}")
        if self.supersedes is not None and self.status != "failed":
            raise InvalidArgumentError("supersedes: only a status='failed' event withdraws an earlier record")
        set_("recipient_ref", _opt_ref(self.recipient_ref, "recipient_ref"))
        if self.media_type not in MEDIA_TYPES:
            raise InvalidArgumentError(f"media_type: expected one of {MEDIA_TYPES}, got {self.media_type!r}")
        if self.kind not in KINDS:
            raise InvalidArgumentError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if self.status not in STATUSES:
            raise InvalidArgumentError(f"status: expected one of {STATUSES}, got {self.status!r}")
        if self.output_sha256 is None:
            if self.kind != "stream_start":
                raise InvalidArgumentError("output_sha256: required (SHA-256 of the published output)")
        else:
            set_("output_sha256", _hex64(self.output_sha256, "output_sha256"))
        if isinstance(self.segment_sha256, (str, bytes)) or not isinstance(self.segment_sha256, (list, tuple)):
            raise InvalidTypeError("segment_sha256: expected a sequence of SHA-256 hex strings")
        set_("segment_sha256", tuple(_hex64(h, f"segment_sha256[{i}]") for i, h in enumerate(self.segment_sha256)))
        for name in ("labels", "host"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise InvalidTypeError(f"{name}: expected a dict, got {type(value).__name__}")
            _check_json_value(value, name)
            set_(name, json.loads(canonical_json(dict(value))))  # a private, JSON-normalised copy
        if not self.tool_version:
            set_("tool_version", f"synthmark {__version__}")
        if not self.event_id:
            set_("event_id", str(uuid.uuid4()))
        elif not isinstance(self.event_id, str) or len(self.event_id) > 128 or not self.event_id.isprintable():
            raise InvalidArgumentError("event_id: expected a printable str of at most 128 characters")
        set_("time_utc", utc_timestamp(self.time_utc or None))
        if len(self.to_json()) > _MAX_BODY_BYTES:
            raise InvalidArgumentError(
                f"event is larger than {_MAX_BODY_BYTES} bytes: record hashes and metadata, not content"
            )

    def withdrawal(self, reason: str) -> "AuditEvent":
        """A new status='failed' event that supersedes this one (its output was never published)."""
        return dataclasses.replace(self, event_id="", time_utc="", status="failed", supersedes=self.event_id,
                                   reason=reason)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["segment_sha256"] = list(self.segment_sha256)
        v2 = False
        for name in _V2_FIELDS:  # omitted when unset: such events keep the v1 body, byte for byte
            if d[name] is None:
                del d[name]
            else:
                v2 = True
        d["v"] = 2 if v2 else 1
        return d

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys, compact, UTF-8)."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping) -> "AuditEvent":
        d = dict(d)
        v = d.pop("v", SCHEMA_VERSION)
        if v not in (1, 2):
            raise InvalidArgumentError(f"audit event schema version {v} is not supported (expected 1 or 2)")
        if v == 1 and any(name in d for name in _V2_FIELDS):
            raise InvalidArgumentError(f"audit event schema version 1 has no {[n for n in _V2_FIELDS if n in d]}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise InvalidArgumentError(f"audit event has unknown fields: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def from_json(cls, data: bytes | str) -> "AuditEvent":
        return cls.from_dict(json.loads(data))
