"""Durable audit appends: our AuditLog (event model + hash chain + durable commit) vs a bare durable
INSERT+COMMIT with the same settings, side by side per store.

    PYTHONPATH=src python -m pytest bench/test_bench_audit.py --benchmark-group-by=group
    (PostgreSQL cases need SYNTHMARK_TEST_PG=postgresql://...; events/s = 1 / mean)

For the events/s table with latency percentiles see bench/audit_throughput.py.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
import uuid

import pytest

import synthmark as sm

PG_URL = os.environ.get("SYNTHMARK_TEST_PG")
_counter = itertools.count()


def _event() -> sm.AuditEvent:
    i = next(_counter)
    return sm.AuditEvent(user_ref="user-1", content_id=f"bench-{i}", media_type="video",
                         output_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                         labels={"watermark": {"payload": f"{i:016x}", "key_id": "0" * 16}})


@pytest.fixture
def pg_url():
    if not PG_URL:
        pytest.skip("set SYNTHMARK_TEST_PG=postgresql://... to benchmark the PostgreSQL store")
    import psycopg

    schema = "sm_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.benchmark(group="audit-append-sqlite")
def test_auditlog_append_sqlite(benchmark, tmp_path):
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    benchmark.pedantic(lambda ev: log.append(ev), setup=lambda: ((_event(),), {}), rounds=500)
    result = log.verify()
    assert result.ok and result.records == 500


@pytest.mark.benchmark(group="audit-append-sqlite")
def test_baseline_bare_insert_sqlite(benchmark, tmp_path):
    conn = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT)")

    def insert(body):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
        conn.execute("COMMIT")

    benchmark.pedantic(insert, setup=lambda: ((_event().to_json().decode(),), {}), rounds=500)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 500


@pytest.mark.benchmark(group="audit-append-postgresql")
def test_auditlog_append_postgresql(benchmark, pg_url):
    log = sm.AuditLog(pg_url)
    benchmark.pedantic(lambda ev: log.append(ev), setup=lambda: ((_event(),), {}), rounds=300)
    result = log.verify()
    assert result.ok and result.records == 300
    log.close()


@pytest.mark.benchmark(group="audit-append-postgresql")
def test_baseline_bare_insert_postgresql(benchmark, pg_url):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE TABLE t (seq BIGSERIAL PRIMARY KEY, body TEXT)")

        def insert(body):
            with conn.transaction():
                conn.execute("INSERT INTO t (body) VALUES (%s)", (body,))

        benchmark.pedantic(insert, setup=lambda: ((_event().to_json().decode(),), {}), rounds=300)
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 300
