"""Signed checkpoints of an audit log's head, for an external witness.

A store cannot prove on its own that its newest records were not cut off: whoever can delete rows can
also delete (or, without the MAC key, rewrite; with it, replay an older) head marker, and a log
emptied outright looks like a new one. A checkpoint states ``(seq, head_hash, time_utc)`` of the
chain and, for a signed log, a MAC under the log's MAC key; handed to storage the log's writers
cannot rewrite (another host, a write-once bucket, the host's own log), it lets ``verify`` show that
the chain still holds that record with that hash. This is how Certificate Transparency logs publish
signed tree heads: the log signs, others keep what it signed.

A witness is a callable ``witness(checkpoint)`` or a path: a JSON-lines file, appended and fsynced
(:class:`FileWitness`). :func:`load_checkpoints` reads such a file back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import AuditError, InvalidTypeError
from .chain import mac_key
from .events import canonical_json

_DOMAIN = b"synthmark/audit-checkpoint/v1\x00"
_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at ``time_utc``: record ``seq`` has hash ``head_hash``. ``mac`` (signed logs):
    HMAC-SHA256 under the log MAC key over the other fields; ``key_id`` names that key."""

    seq: int
    head_hash: str
    time_utc: str
    key_id: str | None = None
    mac: str | None = None
    v: int = _VERSION

    def _material(self) -> bytes:
        return _DOMAIN + canonical_json({"v": self.v, "seq": self.seq, "head_hash": self.head_hash,
                                         "time_utc": self.time_utc, "key_id": self.key_id})

    def to_json(self) -> str:
        return canonical_json(asdict(self)).decode("ascii")

    @classmethod
    def from_dict(cls, d) -> "Checkpoint":
        if not isinstance(d, dict):
            raise AuditError(f"checkpoint: expected a JSON object, got {type(d).__name__}")
        try:
            cp = cls(seq=d["seq"], head_hash=d["head_hash"], time_utc=d["time_utc"], key_id=d.get("key_id"),
                     mac=d.get("mac"), v=d.get("v", _VERSION))
        except KeyError as exc:
            raise AuditError(f"checkpoint: missing field {exc.args[0]!r}") from None
        if cp.v != _VERSION or isinstance(cp.seq, bool) or not isinstance(cp.seq, int) or cp.seq < 0 \
                or not isinstance(cp.head_hash, str) or len(cp.head_hash) != 64 or not isinstance(cp.time_utc, str) \
                or not (cp.key_id is None or isinstance(cp.key_id, str)) or not (cp.mac is None or isinstance(cp.mac, str)):
            raise AuditError("checkpoint: malformed (version, seq, head_hash, time_utc, key_id or mac)")
        return cp

    def verify_mac(self, key) -> bool:
        """Whether ``mac`` is this checkpoint's MAC under ``key`` (the log's key)."""
        if type(key).__name__ != "Key":
            raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
        return self._mac_ok(mac_key(key.secret_bytes()))

    def _mac_ok(self, log_mac_key: bytes) -> bool:
        if self.mac is None:
            return False
        want = hmac.new(log_mac_key, self._material(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, self.mac)


def make_checkpoint(seq: int, head_hash: str, time_utc: str, log_mac_key: bytes | None,
                    key_id: str | None) -> Checkpoint:
    cp = Checkpoint(seq=seq, head_hash=head_hash, time_utc=time_utc, key_id=key_id)
    if log_mac_key is None:
        return cp
    mac = hmac.new(log_mac_key, cp._material(), hashlib.sha256).hexdigest()
    return Checkpoint(seq=seq, head_hash=head_hash, time_utc=time_utc, key_id=key_id, mac=mac)


class FileWitness:
    """Appends each checkpoint as one JSON line to ``path`` and fsyncs it. Put the file on storage the
    log's writers cannot rewrite, or it bounds nothing."""

    def __init__(self, path):
        self.path = Path(path)

    def __call__(self, cp: Checkpoint) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (cp.to_json() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def __repr__(self) -> str:
        return f"FileWitness({str(self.path)!r})"


def as_witness(w):
    """A callable witness from a callable or a path."""
    if isinstance(w, (str, os.PathLike)):
        return FileWitness(w)
    if callable(w):
        return w
    raise InvalidTypeError(f"witness: expected a callable or a file path, got {type(w).__name__}")


def load_checkpoints(path) -> list[Checkpoint]:
    """The checkpoints in a JSON-lines file written by :class:`FileWitness` (or one JSON object per line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditError(f"checkpoint file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"checkpoint file unreadable: {path}: {exc.__class__.__name__}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(Checkpoint.from_dict(json.loads(line)))
        except ValueError:
            raise AuditError(f"checkpoint file {path}, line {n}: not JSON") from None
        except AuditError as exc:
            raise AuditError(f"checkpoint file {path}, line {n}: {exc}") from None
    if not out:
        raise AuditError(f"checkpoint file {path} holds no checkpoint")
    return out
