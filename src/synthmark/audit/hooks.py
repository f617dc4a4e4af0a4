"""Log hooks: one way for every labeling path to report what it labeled.

For other modules (label_file, stream sessions, the CLI), the whole contract is::

    from synthmark.audit import AuditEvent, emit

    result = emit(event, audit=None)   # call BEFORE publishing the labeled output (os.replace)

``emit(event: AuditEvent, audit: AuditLog | Sequence[AuditLog] | None = None) -> EmitResult``

1. Durable stores first: ``audit`` (if given) and every AuditLog registered with ``on_labeled``,
   each appended (committed to disk) in turn.
2. Then every other registered sink (host callbacks, :class:`JsonLinesSink`), in registration order.
3. A failing sink never stops the others: every sink is tried and the failures are collected in
   ``EmitResult.errors`` (and logged on the ``synthmark.audit`` logger, without event content).
4. If a *durable store* failed, ``emit`` raises :class:`~synthmark.errors.AuditError` after trying
   all sinks (``exc.result`` holds the EmitResult): the caller must then NOT publish the output and
   should record the job as failed. Failures of non-durable sinks are reported, not raised.

For a file job, ``publish(tmp_path, dest_path, event, audit=None) -> EmitResult`` does the whole
order: check ``event.output_sha256`` against the finished temporary file, ``emit`` (durable first;
the record carries ``output_path`` = the absolute ``dest_path`` and each store marks it *in doubt*
in the same transaction), then atomically ``os.replace`` it onto ``dest_path``, fsync the directory
and clear the in-doubt marks (``AuditLog.settle``, cheap). If the rename fails it emits a second
event with ``status='failed'`` and ``supersedes`` = the first event id, and raises. If the process
is killed between the record and the rename, the mark stays: ``AuditLog.reconcile()`` (run when a
writable AuditLog opens, or ``synthmark audit reconcile``) then appends that ``'failed'`` event and
deletes the leftover temporary file. So after a crash and a reconcile, every record that claims an
output either has it at its path with its hash, or is withdrawn by a later ``'failed'`` record.

Sinks are registered with ``on_labeled(sink)`` (usable as a decorator) and removed with
``remove_on_labeled(sink)``. A sink is an :class:`AuditLog`, any object with ``append(event)``
(treated as a durable store when it is an AuditLog), or a callable ``sink(event)``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import AuditError, InvalidArgumentError, InvalidTypeError
from ..io.atomic import sha256_file
from .events import AuditEvent
from .store import AuditLog

_log = logging.getLogger("synthmark.audit")
_sinks: list[Any] = []
_sinks_lock = threading.Lock()


@dataclass
class EmitResult:
    """What happened to one event: the durable records written, and every sink failure."""

    event: AuditEvent
    records: list = field(default_factory=list)  # AuditRecord per durable store that succeeded
    stores: list = field(default_factory=list)  # the AuditLog of each of those records
    delivered: int = 0  # non-durable sinks that accepted the event
    errors: list = field(default_factory=list)  # (sink description, exception)

    @property
    def ok(self) -> bool:
        return not self.errors


def _describe(sink: Any) -> str:
    if isinstance(sink, AuditLog):
        return repr(sink)
    if isinstance(sink, JsonLinesSink):
        return repr(sink)
    return getattr(sink, "__qualname__", None) or type(sink).__name__


def on_labeled(sink):
    """Register a sink for every labeling event (returns it, so it works as a decorator)."""
    if not (isinstance(sink, AuditLog) or callable(sink) or callable(getattr(sink, "append", None))):
        raise InvalidTypeError(f"on_labeled: expected an AuditLog, a callable or an object with append(), got {type(sink).__name__}")
    with _sinks_lock:
        if not any(s is sink for s in _sinks):
            _sinks.append(sink)
    return sink


def remove_on_labeled(sink) -> bool:
    """Unregister a sink; returns whether it was registered."""
    with _sinks_lock:
        for i, s in enumerate(_sinks):
            if s is sink:
                del _sinks[i]
                return True
    return False


def registered_sinks() -> list:
    with _sinks_lock:
        return list(_sinks)


def _store_list(audit) -> list:
    if audit is None:
        return []
    if isinstance(audit, AuditLog):
        return [audit]
    if isinstance(audit, (list, tuple)) and all(isinstance(a, AuditLog) for a in audit):
        return list(audit)
    raise InvalidTypeError(f"audit: expected AuditLog, a list of them, or None, got {type(audit).__name__}")


def check_ready(audit: "AuditLog | Sequence[AuditLog] | None" = None) -> None:
    """Raise now (InvalidTypeError / AuditError) if ``audit`` or a registered AuditLog sink could not
    take a record, so a labeling job fails before its work rather than after it."""
    for store in _store_list(audit) + [s for s in registered_sinks() if isinstance(s, AuditLog)]:
        if store.read_only:
            raise AuditError(f"audit store {store.url} is opened read-only; it cannot record labeling events")


def emit(event: AuditEvent, audit: "AuditLog | Sequence[AuditLog] | None" = None, *,
         pending_temp: "str | os.PathLike | None" = None) -> EmitResult:
    """Deliver ``event`` to the durable store(s) first, then to every other sink. See module doc.

    ``pending_temp`` (used by :func:`publish`): the output is not published yet; each store marks
    the record in doubt, with this temporary file (see ``AuditLog.append(pending=True)``)."""
    if not isinstance(event, AuditEvent):
        raise InvalidTypeError(f"event: expected AuditEvent, got {type(event).__name__}")
    stores = _store_list(audit)
    registered = registered_sinks()
    for s in registered:
        if isinstance(s, AuditLog) and not any(s is t for t in stores):
            stores.append(s)
    others = [s for s in registered if not isinstance(s, AuditLog)]

    result = EmitResult(event)
    store_failed = False
    for store in stores:
        try:
            if pending_temp is None:
                result.records.append(store.append(event))
            else:
                result.records.append(store.append(event, pending=True, temp_path=os.fspath(pending_temp)))
            result.stores.append(store)
        except Exception as exc:  # noqa: BLE001 - collected and re-raised as AuditError below
            store_failed = True
            result.errors.append((_describe(store), exc))
            _log.error("audit store %s failed for event %s: %s", store.url, event.event_id, exc)
    for sink in others:
        try:
            if callable(getattr(sink, "append", None)) and not callable(sink):
                sink.append(event)
            else:
                sink(event)
            result.delivered += 1
        except Exception as exc:  # noqa: BLE001 - a host sink's failure must not lose the event for others
            result.errors.append((_describe(sink), exc))
            _log.warning("audit sink %s failed for event %s: %s: %s", _describe(sink), event.event_id,
                         type(exc).__name__, exc)
    if store_failed:
        failed = "; ".join(f"{who}: {exc}" for who, exc in result.errors)
        err = AuditError(f"event {event.event_id} was not durably recorded ({failed}); do not publish the output")
        err.result = result
        raise err
    return result


class JsonLinesSink:
    """Appends each event as one canonical-JSON line to a file (one ``write`` per line, O_APPEND,
    so several processes can share the file). ``fsync=True`` makes every line durable."""

    def __init__(self, path: str | os.PathLike, *, fsync: bool = False):
        self.path = os.fspath(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        except OSError as exc:
            raise AuditError(f"JSON-lines audit sink {self.path}: cannot open for appending: {exc.strerror}") from None
        os.close(fd)

    def __repr__(self) -> str:
        return f"JsonLinesSink({self.path!r})"

    def __call__(self, event: AuditEvent) -> None:
        line = json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                n = os.write(fd, data)
                if n != len(data):
                    raise AuditError(f"JSON-lines audit sink {self.path}: short write ({n} of {len(data)} bytes)")
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)

    append = __call__




_crash_counts: dict = {}


def _test_crash(point: str) -> None:
    """Test hook for the crash tests: ``SYNTHMARK_AUDIT_TEST_CRASH=POINT:N`` kills this process with
    SIGKILL the N-th time ``publish`` reaches POINT (``after-record``: the record is durable, the
    output not yet renamed; ``after-rename``: renamed, the in-doubt mark not yet cleared)."""
    spec = os.environ.get("SYNTHMARK_AUDIT_TEST_CRASH")
    if not spec:
        return
    where, _, nth = spec.partition(":")
    if where != point:
        return
    _crash_counts[point] = _crash_counts.get(point, 0) + 1
    if _crash_counts[point] >= int(nth or 1):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _withdraw(event: AuditEvent, stores: list, reason: str) -> None:
    """Deliver a status='failed' event superseding ``event`` to each store that recorded it and to
    every other registered sink (they were told of the original)."""
    try:
        emit(event.withdrawal(reason), stores)
    except AuditError as exc:  # the in-doubt mark stays where the append failed; reconcile withdraws it later
        _log.error("audit: could not record everywhere that event %s failed: %s", event.event_id, exc)


def publish(tmp_path: str | os.PathLike, dest_path: str | os.PathLike, event: AuditEvent,
            audit: "AuditLog | Sequence[AuditLog] | None" = None, *, replace: bool = True) -> EmitResult:
    """Record, then publish: see the module docstring. ``tmp_path`` must be complete and on the same
    filesystem as ``dest_path``; its SHA-256 must equal ``event.output_sha256``. ``event.output_path``
    is set to the absolute ``dest_path`` (if given, it must be that). The published file gets the
    permission bits of the file it replaces, or the umask default for a new file. Without ``replace``
    an existing ``dest_path`` is not replaced: OutputExistsError, and a status='failed' event supersedes."""
    from ..io.atomic import fsync_dir, move_into_place, prepare_publish

    tmp_path, dest_path = os.fspath(tmp_path), os.fspath(dest_path)
    if event.status != "published" or event.output_sha256 is None:
        raise InvalidArgumentError("publish: the event must have status='published' and an output_sha256")
    dest_abs = os.path.abspath(dest_path)
    if event.output_path is None:
        event = dataclasses.replace(event, output_path=dest_abs)
    elif event.output_path != dest_abs:
        raise InvalidArgumentError(f"publish: event.output_path {event.output_path!r} is not {dest_abs!r}")
    prepare_publish(tmp_path, dest_path)  # the output's bytes are on disk before its record
    if sha256_file(tmp_path) != event.output_sha256:
        raise InvalidArgumentError(f"publish: {tmp_path} does not match event.output_sha256 (file changed?)")
    try:
        result = emit(event, audit, pending_temp=tmp_path)
    except AuditError as err:  # a durable store failed: publish nothing, withdraw it from those that recorded it
        partial = getattr(err, "result", None)
        if partial is not None and partial.stores:
            _withdraw(event, partial.stores, "publish: another durable audit store failed; not published")
        raise
    _test_crash("after-record")
    try:
        move_into_place(tmp_path, dest_path, replace=replace)
    except BaseException as exc:
        _withdraw(event, result.stores, f"publish: {type(exc).__name__}")
        if isinstance(exc, FileExistsError):
            from ..errors import OutputExistsError

            raise OutputExistsError(f"{dest_path} already exists (not overwritten)", errno=exc.errno,
                                    filename=dest_path) from None
        if isinstance(exc, OSError):
            raise AuditError(f"publish: recorded event {event.event_id} but could not publish {dest_path}: "
                             f"{exc.strerror or exc}; a status='failed' event supersedes it") from None
        raise
    fsync_dir(os.path.dirname(dest_abs))  # (ignores the platforms that cannot fsync a directory)
    _test_crash("after-rename")
    for store in result.stores:
        try:
            store.settle(event.event_id)
        except Exception as exc:  # noqa: BLE001 - published: reconcile will find it in place and clear the mark
            _log.warning("audit store %s: could not clear the in-doubt mark of %s: %s", store.url, event.event_id, exc)
    return result
