"""Durable audit stores: SQLite (default, embedded) and PostgreSQL (production, psycopg 3).

``AuditLog(url)`` opens (and creates) the store and checks that it is writable, so a bad URL, an
unreachable server or a read-only path raises :class:`~synthmark.errors.AuditError` at construction,
before any labeling work starts.

URLs:
  * ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (SQLAlchemy's convention), or a
    plain file path. WAL journal with ``synchronous=FULL``: ``append`` returns after the commit is
    on disk.
  * ``postgresql://user:password@host:port/dbname`` (or ``postgres://``); libpq query parameters
    pass through (e.g. ``?options=-csearch_path%3Dmy_schema``). ``synchronous_commit=on``.

Appends from many threads and processes keep one chain: each append is one transaction that takes
an exclusive write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL a transaction-scoped advisory lock
named after the schema-qualified table), reads the head hash and inserts the next record before
committing.

Publications in doubt: :func:`synthmark.audit.publish` records an output *before* renaming it to its
final name. The record's append also inserts a row in ``synthmark_audit_pending`` (same transaction:
output path, SHA-256, temp path, owner host/pid); the row is deleted once the rename is done
(``settle``, a cheap non-durable delete). A process killed in between leaves the row behind, and
``AuditLog.reconcile()`` (run by every writable ``AuditLog(url)`` when it opens, and by ``synthmark
audit reconcile``) settles it: the output is at its path with its hash -> nothing to add; otherwise a
``status='failed'`` event that ``supersedes`` the record is appended to the chain (history is never
rewritten). Rows of a process still running, or of another host, are left alone. The pending table
is bookkeeping, not evidence: the chain stays the record.

PostgreSQL privileges: the labeling service needs only SELECT and INSERT on ``synthmark_audit``,
SELECT, INSERT, UPDATE on ``synthmark_audit_meta`` and SELECT, INSERT, DELETE on
``synthmark_audit_pending`` (no UPDATE/DELETE on the records). Give DELETE on ``synthmark_audit``
only to the role that runs ``synthmark audit purge``. The first ``AuditLog(url)`` creates the tables
(needs CREATE on the schema) unless they exist; a store created before the pending table existed
gets it on the first writable open (or: ``CREATE TABLE synthmark_audit_pending`` as below, by an admin).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import logging
import os
import re
import socket
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import IO, Iterator

from .._process import own_start, owner_alive
from ..errors import AuditError, InvalidArgumentError, InvalidTypeError
from ..io.atomic import sha256_file
from .chain import (GENESIS_HASH, AuditRecord, VerifyResult, build_record, head_disagreement, head_marker, iter_pages,
                    mac_key, verify_rows)
from .checkpoint import Checkpoint, as_witness, make_checkpoint
from .events import AuditEvent, utc_timestamp

DEFAULT_STORE = "./synthmark-audit.db"
MIN_RETENTION_DAYS = 180


def _utc_now() -> datetime:
    """The clock purge() measures retention against (one place, so tests can move it)."""
    return datetime.now(timezone.utc)
_FORMAT = "synthmark-audit-v1"
_TABLE = "synthmark_audit"
_META = "synthmark_audit_meta"
_PENDING = "synthmark_audit_pending"
_PENDING_COLUMNS = "event_id, seq, output_path, output_sha256, temp_path, hostname, pid, pid_start, created_at"
_PENDING_DDL = (
    f"CREATE TABLE IF NOT EXISTS {_PENDING} (event_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
    "output_path TEXT NOT NULL, output_sha256 TEXT NOT NULL, temp_path TEXT, hostname TEXT NOT NULL, "
    "pid BIGINT NOT NULL, pid_start TEXT, created_at TEXT NOT NULL)"
)
_log = logging.getLogger("synthmark.audit")
_COLUMNS = "seq, kind, event_id, event_time, recorded_at, body, prev_hash, hash, mac"
_abandoned: list = []  # connections inherited across fork: never used or closed in the child


def default_store_url() -> str:
    """``$SYNTHMARK_AUDIT`` if set, else ``./synthmark-audit.db``."""
    return os.environ.get("SYNTHMARK_AUDIT") or DEFAULT_STORE


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages)."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


# the newest record and the head marker in one statement (the writer compares them)
_HEAD_SQL = (f"SELECT (SELECT seq FROM {_TABLE} ORDER BY seq DESC LIMIT 1), "
             f"(SELECT hash FROM {_TABLE} ORDER BY seq DESC LIMIT 1), (SELECT v FROM {_META} WHERE k = 'head')")


def _head_row(r) -> tuple[int, str, str | None]:
    if r is None or r[0] is None:
        return 0, GENESIS_HASH, (None if r is None else r[2])
    return int(r[0]), r[1], r[2]


def _row(r) -> AuditRecord:
    return AuditRecord(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])


class _Backend:
    """SQL shared by both stores; subclasses supply connection, placeholder and locking."""

    ph = "?"

    def q(self, sql: str) -> str:
        return sql.replace("?", self.ph)

    # -- implemented by subclasses: write_txn() context manager, query(sql, params), close()

    def head(self, cur) -> tuple[int, str, str | None]:
        """(seq, hash) of the newest record ((0, GENESIS_HASH) when empty) and the stored head marker."""
        cur.execute(_HEAD_SQL)
        return _head_row(cur.fetchone())

    def insert(self, cur, recs: list, head: str, pending: list = (), settled: list = ()) -> None:
        """Insert ``recs`` and move the head marker to the last one (same transaction); also insert
        the in-doubt rows ``pending`` and delete those of the withdrawn event ids ``settled``."""
        cur.executemany(
            self.q(f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            [(r.seq, r.kind, r.event_id, r.event_time, r.recorded_at, r.body, r.prev_hash, r.hash, r.mac) for r in recs],
        )
        cur.execute(
            self.q(f"INSERT INTO {_META} (k, v) VALUES ('head', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"),
            (head,),
        )
        if pending:
            cur.executemany(self.q(f"INSERT INTO {_PENDING} ({_PENDING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                            pending)
        if settled:
            cur.executemany(self.q(f"DELETE FROM {_PENDING} WHERE event_id = ?"), [(e,) for e in settled])

    def page(self, after: int, limit: int, kind: str | None = None) -> list[AuditRecord]:
        where = "seq > ?" + (" AND kind = ?" if kind else "")
        params = (after, kind, limit) if kind else (after, limit)
        return [_row(r) for r in self.query(f"SELECT {_COLUMNS} FROM {_TABLE} WHERE {where} ORDER BY seq LIMIT ?", params)]

    def get(self, event_id: str) -> AuditRecord | None:
        rows = self.query(f"SELECT {_COLUMNS} FROM {_TABLE} WHERE event_id = ?", (event_id,))
        return _row(rows[0]) if rows else None

    def meta(self) -> dict:
        return {k: v for k, v in self.query(f"SELECT k, v FROM {_META}", ())}


class _SqliteBackend(_Backend):
    def __init__(self, path: str, shown: str, read_only: bool):
        self.path, self.shown, self.read_only = path, shown, read_only
        self.conn = self._connect()

    def _connect(self):
        try:
            if self.read_only:
                if not os.path.exists(self.path):
                    raise AuditError(f"audit store {self.shown}: no such file")
                conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, timeout=30, isolation_level=None, check_same_thread=False
                )
                try:
                    conn.execute(f"SELECT count(*) FROM {_META}").fetchone()
                except sqlite3.OperationalError as exc:
                    if "no such table" in str(exc):
                        raise AuditError(f"audit store {self.shown}: holds no synthmark audit log") from None
                    raise
                return conn
            d = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(d):
                raise AuditError(f"audit store {self.shown}: directory {d} does not exist")
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise AuditError(f"audit store {self.shown}: cannot use WAL journal (got {mode!r})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")  # also proves the file is writable
            try:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {_TABLE} (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
                    "event_id TEXT NOT NULL UNIQUE, event_time TEXT NOT NULL, recorded_at TEXT NOT NULL, "
                    "body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT)"
                )
                conn.execute(f"CREATE INDEX IF NOT EXISTS {_TABLE}_time ON {_TABLE} (event_time)")
                conn.execute(f"CREATE TABLE IF NOT EXISTS {_META} (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
                conn.execute(f"INSERT OR IGNORE INTO {_META} (k, v) VALUES ('format', ?)", (_FORMAT,))
                conn.execute(_PENDING_DDL)  # (added in place to stores created before it existed)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return conn
        except sqlite3.Error as exc:
            raise AuditError(f"audit store {self.shown}: cannot open for {'reading' if self.read_only else 'writing'}: {exc}") from None

    def query(self, sql: str, params: tuple) -> list:
        try:
            return self.conn.execute(self.q(sql), params).fetchall()
        except sqlite3.Error as exc:
            raise AuditError(f"audit store {self.shown}: {exc}") from None

    def write_txn(self):
        return _SqliteTxn(self)

    def pending_rows(self) -> list:
        try:
            return self.conn.execute(f"SELECT {_PENDING_COLUMNS} FROM {_PENDING} ORDER BY seq").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []  # a store written only by versions before the pending table (read-only here)
            raise AuditError(f"audit store {self.shown}: {exc}") from None
        except sqlite3.Error as exc:
            raise AuditError(f"audit store {self.shown}: {exc}") from None

    def settle(self, event_id: str) -> None:
        """Delete an in-doubt row without waiting for the disk (losing it only costs a reconcile check)."""
        try:
            self.conn.execute("PRAGMA synchronous=NORMAL")
            try:
                self.conn.execute(f"DELETE FROM {_PENDING} WHERE event_id = ?", (event_id,))
            finally:
                self.conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise AuditError(f"audit store {self.shown}: {exc}") from None

    def reconnect(self):
        _abandoned.append(self.conn)
        self.conn = self._connect()

    def close(self):
        self.conn.close()


class _SqliteTxn:
    def __init__(self, b: _SqliteBackend):
        self.b = b

    def __enter__(self):
        if self.b.read_only:
            raise AuditError(f"audit store {self.b.shown} is opened read-only")
        try:
            self.b.conn.execute("BEGIN IMMEDIATE")
            cur = self.b.conn.cursor()
            head = self.b.head(cur)
        except sqlite3.Error as exc:
            if self.b.conn.in_transaction:
                self.b.conn.execute("ROLLBACK")
            raise AuditError(f"audit store {self.b.shown}: cannot start a write: {exc}") from None
        return cur, head

    def __exit__(self, et, ev, tb):
        try:
            self.b.conn.execute("COMMIT" if et is None else "ROLLBACK")
        except sqlite3.Error as exc:
            if et is None:
                try:
                    self.b.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise AuditError(f"audit store {self.b.shown}: commit failed: {exc}") from None
        if isinstance(ev, sqlite3.Error):
            raise AuditError(f"audit store {self.b.shown}: write failed: {ev}") from None
        return False


class _PgBackend(_Backend):
    ph = "%s"

    def __init__(self, url: str, shown: str, read_only: bool):
        self.url, self.shown, self.read_only = url, shown, read_only
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise AuditError("PostgreSQL audit store needs psycopg 3: pip install 'psycopg[binary]'") from None
        self.conn = self._connect()

    def _connect(self):
        import psycopg

        try:
            conn = psycopg.connect(self.url, connect_timeout=5, autocommit=True)
        except psycopg.Error as exc:
            msg = " ".join(str(exc).split())
            raise AuditError(f"audit store {self.shown}: cannot connect: {msg}") from None
        try:
            conn.execute("SET synchronous_commit = on")
            if self.read_only:
                conn.execute("SET default_transaction_read_only = on")
                try:
                    conn.execute(f"SELECT count(*) FROM {_META}").fetchone()
                except psycopg.errors.UndefinedTable:
                    conn.close()
                    raise AuditError(f"audit store {self.shown}: holds no synthmark audit log") from None
                return conn
            with conn.transaction():
                exists = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                    (_TABLE, _META, _PENDING),
                ).fetchone()[0]
                if not exists:  # (CREATE ... IF NOT EXISTS would still need CREATE on the schema)
                    conn.execute("SELECT pg_advisory_xact_lock(7211939458510043137)")  # serialises creation
                    conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {_TABLE} (seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
                        "event_id TEXT NOT NULL UNIQUE, event_time TEXT NOT NULL, recorded_at TEXT NOT NULL, "
                        "body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT)"
                    )
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {_TABLE}_time ON {_TABLE} (event_time)")
                    conn.execute(f"CREATE TABLE IF NOT EXISTS {_META} (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
                    conn.execute(
                        f"INSERT INTO {_META} (k, v) VALUES ('format', %s) ON CONFLICT (k) DO NOTHING", (_FORMAT,)
                    )
                    conn.execute(_PENDING_DDL)
                ok = conn.execute(
                    f"SELECT has_table_privilege('{_TABLE}', 'INSERT') AND has_table_privilege('{_META}', 'UPDATE') "
                    f"AND has_table_privilege('{_PENDING}', 'INSERT') AND has_table_privilege('{_PENDING}', 'DELETE')"
                ).fetchone()[0]
                if not ok:
                    raise AuditError(
                        f"audit store {self.shown}: this role may not write (needs INSERT on {_TABLE}, "
                        f"INSERT/UPDATE on {_META} and INSERT/DELETE on {_PENDING})"
                    )
        except (psycopg.Error, AuditError) as exc:
            conn.close()
            if isinstance(exc, AuditError):
                raise
            msg = " ".join(str(exc).split())
            raise AuditError(f"audit store {self.shown}: cannot open for {'reading' if self.read_only else 'writing'}: {msg}") from None
        return conn

    def query(self, sql: str, params: tuple) -> list:
        import psycopg

        try:
            return self.conn.execute(self.q(sql), params).fetchall()
        except psycopg.Error as exc:
            raise AuditError(f"audit store {self.shown}: {' '.join(str(exc).split())}") from None

    def write_txn(self):
        return _PgTxn(self)

    def insert(self, cur, recs: list, head: str, pending: list = (), settled: list = ()) -> None:
        with self.conn.pipeline():  # all statements in one round trip
            super().insert(cur, recs, head, pending, settled)

    def pending_rows(self) -> list:
        import psycopg

        try:
            return self.conn.execute(f"SELECT {_PENDING_COLUMNS} FROM {_PENDING} ORDER BY seq").fetchall()
        except psycopg.errors.UndefinedTable:
            return []  # a store written only by versions before the pending table (read-only here)
        except psycopg.Error as exc:
            raise AuditError(f"audit store {self.shown}: {' '.join(str(exc).split())}") from None

    def settle(self, event_id: str) -> None:
        """Delete an in-doubt row in one round trip, without waiting for the WAL flush."""
        import psycopg
        from psycopg import sql

        stmt = sql.SQL("BEGIN; SET LOCAL synchronous_commit = off; DELETE FROM {} WHERE event_id = {}; COMMIT").format(
            sql.Identifier(_PENDING), sql.Literal(event_id))
        try:
            self.conn.execute(stmt)
        except psycopg.Error as exc:
            try:
                self.conn.execute("ROLLBACK")
            except psycopg.Error:
                pass
            raise AuditError(f"audit store {self.shown}: {' '.join(str(exc).split())}") from None

    def reconnect(self):
        _abandoned.append(self.conn)
        self.conn = self._connect()

    def close(self):
        self.conn.close()


class _PgTxn:
    """BEGIN + advisory lock + head read in one round trip; INSERT + head marker; COMMIT (3 round trips)."""

    def __init__(self, b: _PgBackend):
        self.b = b

    def __enter__(self):
        import psycopg

        if self.b.read_only:
            raise AuditError(f"audit store {self.b.shown} is opened read-only")
        cur = self.b.conn.cursor()
        try:
            # no parameters: simple query protocol, several statements, the last one's rows come back
            cur.execute(
                f"BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.{_TABLE}', 0)); "
                + _HEAD_SQL
            )
            while cur.nextset():  # results of BEGIN and LOCK come first
                pass
            r = cur.fetchone()
        except psycopg.Error as exc:
            self._rollback()
            raise AuditError(f"audit store {self.b.shown}: cannot start a write: {' '.join(str(exc).split())}") from None
        return cur, _head_row(r)

    def _rollback(self):
        import psycopg

        try:
            self.b.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass

    def __exit__(self, et, ev, tb):
        import psycopg

        if et is not None:
            self._rollback()
            if isinstance(ev, psycopg.Error):
                raise AuditError(f"audit store {self.b.shown}: write failed: {' '.join(str(ev).split())}") from None
            return False
        try:
            self.b.conn.execute("COMMIT")
        except psycopg.Error as exc:
            self._rollback()
            raise AuditError(f"audit store {self.b.shown}: commit failed: {' '.join(str(exc).split())}") from None
        return False


def _open_backend(url: str, read_only: bool) -> _Backend:
    if not isinstance(url, (str, os.PathLike)):
        raise InvalidTypeError(f"audit store url: expected str, got {type(url).__name__}")
    url = os.fspath(url)
    shown = redact_url(url)
    if not url.strip():
        raise AuditError("audit store url is empty")
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", url, re.S)
    if m is None:
        if ":memory:" in url:
            raise AuditError("audit store ':memory:' is not durable; give a file path")
        return _SqliteBackend(url, shown, read_only)
    scheme, rest = m.group(1).lower(), m.group(2)
    if scheme == "sqlite":
        if not rest.startswith("/") or rest in ("/", "") or "?" in rest or ":memory:" in rest:
            raise AuditError(
                f"malformed SQLite audit store URL {shown!r}: use sqlite:///relative.db or sqlite:////absolute.db"
            )
        return _SqliteBackend(rest[1:], shown, read_only)
    if scheme in ("postgresql", "postgres"):
        if not rest or rest.startswith("?"):
            raise AuditError(f"malformed PostgreSQL audit store URL {shown!r}: use postgresql://user:pw@host:port/db")
        return _PgBackend(url, shown, read_only)
    raise AuditError(f"unsupported audit store URL scheme {scheme!r} in {shown!r}: use sqlite:///path or postgresql://...")


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    through_seq: int | None
    anchor: AuditRecord | None


class _Slot:
    __slots__ = ("event", "pending", "record", "error", "done")

    def __init__(self, event, pending=None):
        self.event, self.pending, self.record, self.error, self.done = event, pending, None, None, False


@dataclass(frozen=True)
class PendingPublication:
    """A record whose output publication is not confirmed yet (``AuditLog.pending()``)."""

    event_id: str
    seq: int
    output_path: str
    output_sha256: str
    temp_path: str | None
    hostname: str
    pid: int
    pid_start: str | None
    created_at: str


@dataclass
class ReconcileResult:
    """What ``AuditLog.reconcile()`` found: event ids confirmed ``published`` (the output is at its
    path with its hash), the ``failed`` records it appended (one per unpublished output), and the
    entries it left alone (``in_flight``: owner process still running; ``other_hosts``)."""

    published: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # AuditRecord of each appended status='failed' event
    in_flight: list = field(default_factory=list)
    other_hosts: list = field(default_factory=list)
    removed_temp: list = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.published)} confirmed published", f"{len(self.failed)} recorded as failed"]
        if self.in_flight:
            parts.append(f"{len(self.in_flight)} still in flight")
        if self.other_hosts:
            parts.append(f"{len(self.other_hosts)} from other hosts left alone")
        return "reconcile: " + ", ".join(parts)


_live_logs: "weakref.WeakSet[AuditLog]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # Locks may have been held by threads that do not exist in the child, and queued events belong
    # to the parent: start clean. The connection is replaced on first use (see AuditLog._backend).
    for log in list(_live_logs):
        log._lock = threading.RLock()
        log._qlock = threading.Lock()
        log._queue = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class AuditLog:
    """An append-only, hash-chained audit log in SQLite or PostgreSQL.

    ``AuditLog(url=None, *, key=None, min_retention_days=180, read_only=False, reconcile=True)``.
    ``url`` defaults to ``$SYNTHMARK_AUDIT`` or ``./synthmark-audit.db``. ``key`` (a
    :class:`synthmark.Key`) adds an HMAC to every record; a log created with a key records its
    ``key.id`` (never the bytes) and then refuses appends without the same key. Safe to share
    between threads; each process opens its own connection (also after ``fork``).

    A writable log runs :meth:`reconcile` when it opens (``reconcile=False`` to skip; the result is
    in ``last_reconcile``), so outputs left unpublished by a killed process on this host get their
    ``'failed'`` record before new work starts.

    Every write first checks that the stored head marker names the newest record (with its MAC on a
    signed log); if not, records were deleted or altered and the write is refused (AuditError)
    rather than chaining new records over the gap. ``witness`` (a callable, a file path, or a list
    of them) receives a signed :class:`~synthmark.audit.Checkpoint` of the head after every
    ``checkpoint_every`` records this object writes (see :meth:`checkpoint`); a failing witness is
    logged (``last_checkpoint_error``) and never fails the append, whose record is already durable.
    """

    def __init__(self, url: str | None = None, *, key=None, min_retention_days: int = MIN_RETENTION_DAYS,
                 read_only: bool = False, reconcile: bool = True, witness=None, checkpoint_every: int = 1):
        if key is not None and type(key).__name__ != "Key":
            raise InvalidTypeError(f"key: expected synthmark.Key or None, got {type(key).__name__}")
        if isinstance(min_retention_days, bool) or not isinstance(min_retention_days, int):
            raise InvalidTypeError("min_retention_days: expected int")
        if min_retention_days < MIN_RETENTION_DAYS:
            raise InvalidArgumentError(
                f"min_retention_days: {min_retention_days} is below the required {MIN_RETENTION_DAYS} days"
            )
        if witness is None:
            witness = []
        elif isinstance(witness, (str, os.PathLike)) or callable(witness):
            witness = [witness]
        elif not isinstance(witness, (list, tuple)):
            raise InvalidTypeError(f"witness: expected a callable, a file path or a list of them, got {type(witness).__name__}")
        self._witnesses = [as_witness(w) for w in witness]
        if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise InvalidArgumentError(f"checkpoint_every: expected an int >= 1, got {checkpoint_every!r}")
        self.checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self.last_checkpoint_error: Exception | None = None
        self._url = default_store_url() if url is None else os.fspath(url)
        self._shown = redact_url(self._url)
        self.min_retention_days = min_retention_days
        self.read_only = read_only
        self._lock = threading.RLock()  # held while using the connection
        self._qlock = threading.Lock()  # guards the group-commit queue
        self._queue: list[_Slot] = []
        self._pid = os.getpid()
        self._b = _open_backend(self._url, read_only)
        _live_logs.add(self)
        self._mac_key = mac_key(key.secret_bytes()) if key is not None else None
        self._key_id = key.id if key is not None else None
        self.last_reconcile: ReconcileResult | None = None
        try:
            self._setup_signing()
            if reconcile and not read_only:
                self.last_reconcile = self.reconcile()
        except BaseException:
            self._b.close()
            raise

    def _setup_signing(self) -> None:
        meta = self._b.meta()
        if meta.get("format") != _FORMAT:
            raise AuditError(f"audit store {self._shown} holds an unknown format {meta.get('format')!r}")
        signed_by = meta.get("mac_key_id")
        if self._key_id is None:
            self._signed = signed_by is not None
            if self._signed and not self.read_only:
                raise AuditError(
                    f"audit store {self._shown} is signed with key id {signed_by}; pass key= to append to it"
                )
            return
        if signed_by is not None:
            if signed_by != self._key_id:
                raise AuditError(f"audit store {self._shown} is signed with key id {signed_by}, not {self._key_id}")
            self._signed = True
            return
        if self.read_only:
            raise AuditError(f"audit store {self._shown} is not signed; open it without key=")
        with self._txn() as (cur, (seq, _)):
            if seq:
                raise AuditError(f"audit store {self._shown} was created without a log key; cannot sign it now")
            cur.execute(self._b.q(f"INSERT INTO {_META} (k, v) VALUES ('mac_key_id', ?)"), (self._key_id,))
        self._signed = True

    # ----------------------------------------------------------------------------------------- basics

    @property
    def url(self) -> str:
        """The store URL with any password redacted."""
        return self._shown

    @property
    def key_id(self) -> str | None:
        return self._key_id

    def __repr__(self) -> str:
        return f"AuditLog({self._shown!r}{', signed' if self._signed else ''})"

    def _backend(self) -> _Backend:
        if os.getpid() != self._pid:  # forked: the inherited connection belongs to the parent
            self._b.reconnect()
            self._pid = os.getpid()
        return self._b

    def close(self) -> None:
        with self._lock:
            if os.getpid() == self._pid:
                self._b.close()

    def __del__(self) -> None:
        b = getattr(self, "_b", None)
        if b is not None and getattr(self, "_pid", None) == os.getpid():
            try:
                b.close()
            except Exception:  # noqa: BLE001 - interpreter shutdown or a dead server: nothing to do
                pass

    def __enter__(self) -> "AuditLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------- writes

    @contextlib.contextmanager
    def _txn(self):
        """The backend's write transaction, after checking that the head marker names the newest
        record: a log whose tail was cut (or whose marker was altered) is not written on top of."""
        with self._backend().write_txn() as (cur, (seq, prev, marker)):
            why = head_disagreement(seq, prev, marker, self._mac_key)
            if why is not None:
                raise AuditError(
                    f"audit store {self._shown}: refusing to write: {why}; records were deleted or the store was "
                    "altered ('synthmark audit verify' names what; restore the store from a backup)"
                )
            yield cur, (seq, prev)

    def append(self, event: AuditEvent, *, pending: bool = False, temp_path=None) -> AuditRecord:
        """Append one event; returns its record once the commit is durable. Raises AuditError.

        Group commit: when several threads append at once, the one holding the write lock commits
        every event queued meanwhile in one transaction (one fsync); each call still returns only
        after its own record is durable. If that batch fails, its events are retried one by one so
        a bad event (e.g. a duplicate id) fails alone.

        ``pending=True`` (what :func:`synthmark.audit.publish` uses): the output at
        ``event.output_path`` is not published yet; the same transaction marks the record in doubt
        (with ``temp_path``, the complete temporary output) until :meth:`settle` is called after
        the rename, or :meth:`reconcile` decides. A ``'failed'`` event that ``supersedes`` a record
        clears that record's mark in its own transaction.
        """
        if not isinstance(event, AuditEvent):
            raise InvalidTypeError(f"event: expected AuditEvent, got {type(event).__name__}")
        row = None
        if pending:
            if event.status != "published" or event.output_path is None or event.output_sha256 is None:
                raise InvalidArgumentError("append(pending=True): the event needs status='published', output_path "
                                           "and output_sha256")
            start = own_start()
            row = (event.output_path, event.output_sha256, None if temp_path is None else os.path.abspath(temp_path),
                   socket.gethostname(), os.getpid(), start or None)
        slot = _Slot(event, row)
        with self._qlock:
            self._queue.append(slot)
        with self._lock:
            if not slot.done:
                with self._qlock:
                    batch, self._queue = self._queue, []
                self._commit_group(batch)
        if slot.error is not None:
            raise slot.error
        return slot.record

    def append_many(self, events) -> list[AuditRecord]:
        """Append several events in one transaction (all or none); returns their records once durable."""
        events = list(events)
        for i, ev in enumerate(events):
            if not isinstance(ev, AuditEvent):
                raise InvalidTypeError(f"events[{i}]: expected AuditEvent, got {type(ev).__name__}")
        if not events:
            return []
        with self._lock:
            return self._write(events)

    def _commit_group(self, batch: list) -> None:
        if len(batch) > 1:
            try:
                for slot, rec in zip(batch, self._write([s.event for s in batch], [s.pending for s in batch])):
                    slot.record, slot.done = rec, True
                return
            except Exception:  # noqa: BLE001 - retried one by one below; each slot gets its own outcome
                pass
        for slot in batch:
            try:
                slot.record = self._write([slot.event], [slot.pending])[0]
            except Exception as exc:  # noqa: BLE001 - handed to the thread that appended this event
                slot.error = exc
            slot.done = True

    def _write(self, events: list, pending: list | None = None, only_if_pending: bool = False) -> list[AuditRecord]:
        """One transaction: lock, read head, insert ``events`` chained after it, commit (durable).

        ``pending[i]`` (or None): the in-doubt row of ``events[i]``. ``only_if_pending``: write only
        if every superseded record is still in doubt (else nothing, returns []): two reconcilers
        never both withdraw one record."""
        b = self._backend()
        with self._txn() as (cur, (seq, prev)):
            settled = [ev.supersedes for ev in events if ev.supersedes is not None]
            if only_if_pending:
                for eid in settled:
                    cur.execute(b.q(f"SELECT 1 FROM {_PENDING} WHERE event_id = ?"), (eid,))
                    if cur.fetchone() is None:
                        return []
            recorded = utc_timestamp()  # taken under the lock: non-decreasing along the chain on one host
            recs = []
            rows = []
            for i, ev in enumerate(events):
                rec = build_record(seq + 1, "event", ev.event_id, ev.time_utc, recorded, ev.to_dict(), prev,
                                   self._mac_key)
                recs.append(rec)
                seq, prev = rec.seq, rec.hash
                if pending is not None and pending[i] is not None:
                    rows.append((ev.event_id, rec.seq, *pending[i], recorded))
            try:
                b.insert(cur, recs, head_marker(recs[-1], self._mac_key), rows, settled)
            except Exception as exc:
                if "unique" in str(exc).lower() and "event_id" in str(exc).lower():
                    which = events[0].event_id if len(events) == 1 else "in this batch"
                    raise AuditError(f"audit event {which} is already recorded") from None
                raise
        self._since_checkpoint += len(recs)
        if self._witnesses and self._since_checkpoint >= self.checkpoint_every:
            cp = make_checkpoint(recs[-1].seq, recs[-1].hash, utc_timestamp(), self._mac_key, self._key_id)
            try:
                self._hand(cp, self._witnesses)
            except AuditError as exc:  # the record is durable; the next write tries again
                self.last_checkpoint_error = exc
                _log.warning("audit: %s", exc)
        return recs

    def _hand(self, cp: Checkpoint, witnesses) -> None:
        for w in witnesses:
            try:
                w(cp)
            except Exception as exc:  # noqa: BLE001 - any witness failure is reported the same way
                raise AuditError(f"audit checkpoint witness {w!r} failed: {exc.__class__.__name__}: {exc}") from None
        self._since_checkpoint = 0
        self.last_checkpoint_error = None

    def checkpoint(self, witness=None) -> Checkpoint:
        """A checkpoint of the current head (MAC'd on a signed log), handed to the log's witnesses and
        to ``witness`` (a callable or file path) if given; returns it. Refuses (AuditError) when the
        head marker disagrees with the newest record: a checkpoint must not bless a cut tail."""
        with self._lock:
            seq, h, marker = _head_row(self._backend().query(_HEAD_SQL, ())[0])
            why = head_disagreement(seq, h, marker, self._mac_key)
            if why is not None:
                raise AuditError(f"audit store {self._shown}: no checkpoint: {why}")
            cp = make_checkpoint(seq, h, utc_timestamp(), self._mac_key, self._key_id)
            extra = [] if witness is None else [as_witness(witness)]
            self._hand(cp, self._witnesses + extra)
        return cp

    def __call__(self, event: AuditEvent) -> AuditRecord:  # so an AuditLog can be an on_labeled sink directly
        return self.append(event)

    # ----------------------------------------------------------------------------------------- publications in doubt

    def settle(self, event_id: str) -> None:
        """The output of ``event_id`` (appended with ``pending=True``) is now published: clear its
        in-doubt mark. Not durable on purpose (cheap): if the mark survives a crash, ``reconcile``
        finds the output in place with its hash and clears it without adding a record."""
        with self._lock:
            if self.read_only:
                raise AuditError(f"audit store {self._shown} is opened read-only")
            self._backend().settle(event_id)

    def pending(self) -> list[PendingPublication]:
        """Records whose output publication is not confirmed (in flight, or left by a crash)."""
        with self._lock:
            rows = self._backend().pending_rows()
        return [PendingPublication(r[0], int(r[1]), r[2], r[3], r[4], r[5], int(r[6]), r[7], r[8]) for r in rows]

    def reconcile(self, *, all_hosts: bool = False, grace_seconds: float = 300.0,
                  remove_temp: bool = True) -> ReconcileResult:
        """Settle the records whose publication is in doubt; returns a :class:`ReconcileResult`.

        For each in-doubt record of this host whose process is no longer running: if its output is
        at ``output_path`` with the recorded SHA-256 it was published (the mark is cleared);
        otherwise a ``status='failed'`` event with ``supersedes`` = that event id is appended (the
        chain keeps both and still verifies) and its leftover temporary file is deleted
        (``remove_temp``). Records of running processes are left alone; so are those of other hosts
        unless ``all_hosts`` (outputs on a shared file system), and then only when older than
        ``grace_seconds``. Safe to run concurrently: a record is withdrawn at most once.
        """
        if self.read_only:
            raise AuditError(f"audit store {self._shown} is opened read-only; reconcile needs to write")
        result = ReconcileResult()
        me = socket.gethostname()
        now = time.time()
        for p in self.pending():
            if p.hostname != me:
                age = now - datetime.fromisoformat(p.created_at.replace("Z", "+00:00")).timestamp()
                if not all_hosts:
                    result.other_hosts.append(p.event_id)
                    continue
                if age < grace_seconds:
                    result.in_flight.append(p.event_id)
                    continue
            elif owner_alive(p.pid, p.pid_start):
                result.in_flight.append(p.event_id)
                continue
            reason = None
            try:
                if not os.path.isfile(p.output_path):
                    reason = "the output is missing: the process ended between its record and the rename"
                elif sha256_file(p.output_path) != p.output_sha256:
                    reason = "the file at the output path has other content: the rename never happened"
            except OSError as exc:
                reason = f"the output cannot be read ({exc.strerror or exc})"
            if reason is None:
                self.settle(p.event_id)
                result.published.append(p.event_id)
                continue
            rec = self.get(p.event_id)
            if rec is None or rec.kind != "event":  # purged meanwhile (only possible for ancient rows)
                self.settle(p.event_id)
                continue
            orig = rec.event
            failed = orig.withdrawal(f"reconcile: {reason}")
            with self._lock:
                recs = self._write([failed], only_if_pending=True)
            if not recs:
                continue  # another reconciler got there first
            result.failed.append(recs[0])
            _log.warning("audit: event %s withdrawn by failed event %s: %s", orig.event_id, failed.event_id, reason)
            if remove_temp and p.temp_path and p.temp_path != p.output_path:
                try:
                    os.unlink(p.temp_path)
                    result.removed_temp.append(p.temp_path)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    _log.warning("audit: could not remove leftover temporary output %s: %s", p.temp_path, exc)
        return result

    def purge(self, older_than_days: int, *, now: datetime | None = None) -> PurgeResult:
        """Delete the oldest records older than ``older_than_days`` and append an anchor record.

        Refuses (InvalidArgumentError) when ``older_than_days`` is below ``min_retention_days``.
        Only a prefix of the chain is deleted (up to the first record still inside the window), so
        the remaining chain verifies from the anchor's statement. ``now`` (an aware datetime, default
        the clock) purges as of an earlier time; a ``now`` later than the clock is refused, not
        clamped: it would purge records younger than the retention minimum, and a caller who asks for
        it should learn that nothing was purged on its terms.
        """
        if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
            raise InvalidTypeError(f"older_than_days: expected int, got {type(older_than_days).__name__}")
        if older_than_days < self.min_retention_days:
            raise InvalidArgumentError(
                f"refusing to purge: --older-than {older_than_days} days is below the minimum retention of "
                f"{self.min_retention_days} days; younger records are never purged"
            )
        clock = _utc_now()
        if now is None:
            now = clock
        elif not isinstance(now, datetime):
            raise InvalidTypeError(f"now: expected an aware datetime or None, got {type(now).__name__}")
        elif now.tzinfo is None:
            raise InvalidArgumentError(f"now: needs a UTC offset (e.g. tzinfo=timezone.utc): {now.isoformat()!r}")
        elif now > clock:
            raise InvalidArgumentError(
                f"now: {now.isoformat()} is later than the current time {clock.isoformat()}; a future now would "
                f"purge records younger than the {self.min_retention_days}-day retention minimum"
            )
        cutoff = utc_timestamp(now - timedelta(days=older_than_days))
        with self._lock:
            b = self._backend()
            with self._txn() as (cur, (head_seq, head_hash)):
                cur.execute(b.q(f"SELECT MIN(seq) FROM {_TABLE} WHERE recorded_at >= ?"), (cutoff,))
                young = cur.fetchone()[0]
                through = head_seq if young is None else int(young) - 1
                cur.execute(b.q(f"SELECT MIN(seq) FROM {_TABLE} WHERE seq <= ?"), (through,))
                oldest = cur.fetchone()[0]
                if oldest is None:
                    return PurgeResult(0, None, None)
                cur.execute(b.q(f"SELECT hash FROM {_TABLE} WHERE seq = ?"), (through,))
                through_hash = cur.fetchone()[0]
                cur.execute(b.q(f"DELETE FROM {_TABLE} WHERE seq <= ?"), (through,))
                purged = cur.rowcount
                recorded = utc_timestamp()
                stmt = {
                    "anchor": "purge",
                    "purged_from_seq": int(oldest),
                    "purged_through_seq": through,
                    "purged_through_hash": through_hash,
                    "purged_count": purged,
                    "older_than_days": older_than_days,
                    "cutoff_utc": cutoff,
                }
                anchor = build_record(
                    head_seq + 1, "anchor", f"anchor-{head_seq + 1}-{recorded}", recorded, recorded, stmt,
                    head_hash, self._mac_key,
                )
                b.insert(cur, [anchor], head_marker(anchor, self._mac_key))
            return PurgeResult(purged, through, anchor)

    # ----------------------------------------------------------------------------------------- reads

    def _page(self, after: int, limit: int, kind: str | None = None) -> list[AuditRecord]:
        with self._lock:
            return self._backend().page(after, limit, kind)

    def records(self, since=None, until=None) -> Iterator[AuditRecord]:
        """Records in chain order; ``since``/``until`` (datetime or ISO string, UTC) filter on event
        time, ``since`` inclusive and ``until`` exclusive. Anchor records are included."""
        lo = utc_timestamp(since, naive_is_utc=True) if since is not None else None
        hi = utc_timestamp(until, naive_is_utc=True) if until is not None else None
        for rec in iter_pages(self._page):
            if (lo is None or rec.event_time >= lo) and (hi is None or rec.event_time < hi):
                yield rec

    def __iter__(self) -> Iterator[AuditRecord]:
        return self.records()

    def get(self, event_id: str) -> AuditRecord | None:
        """The record of ``event_id``, or None."""
        if not isinstance(event_id, str):
            raise InvalidTypeError(f"event_id: expected str, got {type(event_id).__name__}")
        with self._lock:
            return self._backend().get(event_id)

    def verify(self, key=None, *, checkpoints=None) -> VerifyResult:
        """Walk the whole chain; the result names the first altered, deleted or reordered record.

        MACs are checked with the key the log was opened with, or ``key`` here. ``checkpoints``
        (Checkpoints, e.g. from :func:`~synthmark.audit.load_checkpoints` on a witness's file): the
        chain must still hold each one's record with its hash (else its tail was cut or rewritten);
        their MACs are checked when a key is at hand. Without checkpoints a log emptied outright, or
        (unsigned) cut and re-marked, cannot be told from a genuine one.
        """
        mk = self._mac_key
        if key is not None:
            if type(key).__name__ != "Key":
                raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
            signed_by = self._b.meta().get("mac_key_id")
            if signed_by is not None and signed_by != key.id:
                raise AuditError(f"audit store {self._shown} is signed with key id {signed_by}, not {key.id}")
            mk = mac_key(key.secret_bytes())
        with self._lock:
            head = self._backend().meta().get("head")  # read first: appends during the walk only add after it
        anchors = list(iter_pages(lambda a, n: self._page(a, n, "anchor")))
        result = verify_rows(iter_pages(self._page), anchors, mk, signed=self._signed, head=head)
        if result.ok and head is None and result.records:
            result = dataclasses.replace(
                result, ok=False, bad_seq=result.last_seq + 1,
                reason=f"the store's head marker is missing (deleted) while records seq {result.first_seq}.."
                       f"{result.last_seq} remain: newer records may have been deleted with it")
        if not result.ok or checkpoints is None:
            return result
        return self._check_checkpoints(result, list(checkpoints), anchors, mk)

    def _check_checkpoints(self, result: VerifyResult, checkpoints: list, anchors: list, mk) -> VerifyResult:
        signed_by = self._b.meta().get("mac_key_id")
        purged = {}
        for a in anchors:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                d = json.loads(a.body)
                purged[int(d["purged_through_seq"])] = str(d["purged_through_hash"])
        last = result.last_seq or 0
        notes = list(result.notes)

        def broken(seq, why):
            return dataclasses.replace(result, ok=False, bad_seq=seq, reason=why)

        for cp in sorted(checkpoints, key=lambda c: -c.seq):  # the newest first: it bounds the most
            if not isinstance(cp, Checkpoint):
                raise InvalidTypeError(f"checkpoints: expected Checkpoint items, got {type(cp).__name__}")
            said = f"the checkpoint of {cp.time_utc} (seq {cp.seq}, hash {cp.head_hash[:16]}...)"
            if cp.key_id != signed_by:
                return broken(cp.seq, f"{said} is of a log signed by {cp.key_id or 'no key'}, this one by "
                                      f"{signed_by or 'no key'}")
            if signed_by is not None:
                if mk is None:
                    notes.append("checkpoint MACs not checked (no key)")
                elif not cp._mac_ok(mk):
                    return broken(cp.seq, f"{said} MAC does not verify with the log key (forged or altered)")
            if cp.seq == 0:
                continue
            if cp.seq > last:
                return broken(last + 1, f"{said} was seen by a witness, but the store ends at "
                                        f"{'seq ' + str(last) if last else 'no record'}: records seq {last + 1}.."
                                        f"{cp.seq} were deleted (tail truncated)")
            if result.first_seq is not None and cp.seq < result.first_seq:
                if cp.seq in purged and purged[cp.seq] != cp.head_hash:
                    return broken(cp.seq, f"{said} disagrees with the purge anchor's hash for that record")
                continue  # purged; the anchor's statement is what remains of it
            rows = self._page(cp.seq - 1, 1)
            if not rows or rows[0].seq != cp.seq or rows[0].hash != cp.head_hash:
                return broken(cp.seq, f"{said}: the store's record seq {cp.seq} has another hash (rewritten)")
        return dataclasses.replace(result, checkpoints=len(checkpoints), notes=tuple(dict.fromkeys(notes)))

    def export(self, fp: IO[str], since=None, until=None, format: str = "jsonl") -> int:
        """Write records to a text stream as JSON lines or CSV; returns the number written."""
        if format not in ("jsonl", "csv"):
            raise InvalidArgumentError(f"format: expected 'jsonl' or 'csv', got {format!r}")
        n = 0
        if format == "jsonl":
            for rec in self.records(since, until):
                fp.write(json.dumps(rec.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
            return n
        fields = ["seq", "kind", "event_id", "event_time", "recorded_at", "user_ref", "consent_ref", "recipient_ref",
                  "content_id", "media_type", "output_sha256", "status", "event_kind", "tool_version", "labels",
                  "host", "segment_sha256", "anchor", "prev_hash", "hash", "mac", "output_path", "supersedes",
                  "reason"]
        w = csv.DictWriter(fp, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for rec in self.records(since, until):
            d = rec.data
            row = {k: getattr(rec, k) for k in ("seq", "kind", "event_id", "event_time", "recorded_at", "prev_hash",
                                                 "hash", "mac")}
            if rec.kind == "event":
                for k in ("user_ref", "consent_ref", "recipient_ref", "content_id", "media_type", "output_sha256",
                          "status", "tool_version", "output_path", "supersedes", "reason"):
                    row[k] = d.get(k)
                row["event_kind"] = d.get("kind")
                row["labels"] = json.dumps(d.get("labels", {}), ensure_ascii=False, sort_keys=True)
                row["host"] = json.dumps(d.get("host", {}), ensure_ascii=False, sort_keys=True)
                row["segment_sha256"] = " ".join(d.get("segment_sha256", []))
            else:
                row["anchor"] = json.dumps(d, sort_keys=True)
            w.writerow(row)
            n += 1
        return n

    def export_text(self, since=None, until=None, format: str = "jsonl") -> str:
        buf = io.StringIO()
        self.export(buf, since, until, format)
        return buf.getvalue()
