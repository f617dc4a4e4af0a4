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


# -- the latency auditing adds to label_file (same clip, same run; see also audit_throughput.py) -----

@pytest.fixture(scope="module")
def small_clip(tmp_path_factory):
    from synthmark.samples import make_clip

    return make_clip(tmp_path_factory.mktemp("clip") / "src.mp4", seconds=0.4, width=128, height=96, fps=10)


def _label_rounds(benchmark, clip, out, log, rounds=20):
    key = sm.Key.generate()
    n = itertools.count()
    sm.label_file(clip, out / "warm.mp4", key=key, producer="Bench", content_id="warm", audit=log, user_ref="bench-user")

    def one():
        i = next(n)
        return sm.label_file(clip, out / f"o{i}.mp4", key=key, producer="Bench", content_id=f"c{i}", audit=log, user_ref="bench-user")

    report = benchmark.pedantic(one, rounds=rounds)
    assert ("audit" in report.applied) == (log is not None) and report.video_frames == 4
    if log is not None:
        assert log.verify().records == rounds + 1 and log.pending() == []


@pytest.mark.benchmark(group="label-file-audit")
def test_label_file_baseline_no_audit(benchmark, small_clip, tmp_path):
    _label_rounds(benchmark, small_clip, tmp_path, None)


@pytest.mark.benchmark(group="label-file-audit")
def test_label_file_audit_sqlite(benchmark, small_clip, tmp_path):
    _label_rounds(benchmark, small_clip, tmp_path, sm.AuditLog(f"sqlite:///{tmp_path}/a.db"))


@pytest.mark.benchmark(group="label-file-audit")
def test_label_file_audit_postgresql(benchmark, small_clip, tmp_path, pg_url):
    _label_rounds(benchmark, small_clip, tmp_path, sm.AuditLog(pg_url))


def _publish_rounds(benchmark, tmp_path, log, rounds=200):
    from synthmark.audit import publish as audit_publish
    from synthmark.io.atomic import publish as plain_publish

    data = os.urandom(100_000)
    digest = hashlib.sha256(data).hexdigest()
    n = itertools.count()

    def setup():
        i = next(n)
        tmp = tmp_path / f"t{i}.tmp"
        tmp.write_bytes(data)
        return (tmp, tmp_path / f"o{i}.bin", i), {}

    def step(tmp, dst, i):
        if log is None:
            plain_publish(tmp, dst)
        else:
            audit_publish(tmp, dst, sm.AuditEvent(user_ref="u", content_id=f"s{i}", media_type="video",
                                                  output_sha256=digest), audit=log)

    benchmark.pedantic(step, setup=setup, rounds=rounds)
    assert len(list(tmp_path.glob("o*.bin"))) == rounds
    if log is not None:
        assert log.verify().records == rounds and log.pending() == []


@pytest.mark.benchmark(group="publish-step-audit")
def test_publish_baseline_fsync_rename(benchmark, tmp_path):
    _publish_rounds(benchmark, tmp_path, None)


@pytest.mark.benchmark(group="publish-step-audit")
def test_publish_audit_sqlite(benchmark, tmp_path):
    _publish_rounds(benchmark, tmp_path, sm.AuditLog(f"sqlite:///{tmp_path}/a.db"))


@pytest.mark.benchmark(group="publish-step-audit")
def test_publish_audit_postgresql(benchmark, tmp_path, pg_url):
    _publish_rounds(benchmark, tmp_path, sm.AuditLog(pg_url))
