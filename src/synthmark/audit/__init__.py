"""Tamper-evident audit log of every labeling, and the hooks that feed it.

* :class:`AuditEvent` (events.py): one labeled item; references and hashes only, never content or keys.
* :class:`AuditLog` (store.py): SQLite (default) or PostgreSQL store, durable before ``append`` returns.
* chain.py: the hash chain (+ optional HMAC) and ``verify``.
* hooks.py: ``on_labeled(sink)``, ``emit(event, audit=None)`` and ``publish(tmp, dest, event, audit=None)``
  (what label_file and sessions call),
  :class:`JsonLinesSink`.
"""

from .chain import AuditRecord, VerifyResult
from .checkpoint import Checkpoint, FileWitness, load_checkpoints
from .events import AuditEvent, canonical_json
from .hooks import EmitResult, JsonLinesSink, emit, on_labeled, publish, registered_sinks, remove_on_labeled
from .store import MIN_RETENTION_DAYS, AuditLog, PendingPublication, PurgeResult, ReconcileResult, default_store_url

__all__ = [
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "Checkpoint",
    "FileWitness",
    "load_checkpoints",
    "EmitResult",
    "JsonLinesSink",
    "MIN_RETENTION_DAYS",
    "PendingPublication",
    "PurgeResult",
    "ReconcileResult",
    "VerifyResult",
    "canonical_json",
    "default_store_url",
    "emit",
    "on_labeled",
    "publish",
    "registered_sinks",
    "remove_on_labeled",
]
