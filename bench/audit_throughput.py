"""Durable audit events per second, per store, with one writer and with several threads.

    PYTHONPATH=src python bench/audit_throughput.py [--n 2000] [--pg postgresql://...]

Each ``append`` returns only after its commit is durable (SQLite WAL + synchronous=FULL; PostgreSQL
synchronous_commit=on). ``--pg`` defaults to $SYNTHMARK_TEST_PG; a fresh schema is used and dropped.
The baseline is a bare INSERT+COMMIT with the same durability settings (no event model, no chain),
i.e. the floor our layer adds to.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid

import synthmark as sm
from synthmark.audit import emit


def events(n: int, tag: str) -> list:
    return [
        sm.AuditEvent(user_ref=f"user-{i % 13}", content_id=f"{tag}-{i}", media_type="video",
                      output_sha256=hashlib.sha256(f"{tag}{i}".encode()).hexdigest(),
                      labels={"visible": {"text": "AI生成"}, "watermark": {"payload": f"{i:016x}", "key_id": "0" * 16}})
        for i in range(n)
    ]


def single_writer(url: str, n: int) -> tuple[float, list]:
    log = sm.AuditLog(url)
    evs = events(n, "single")
    lat = []
    t0 = time.perf_counter()
    for ev in evs:
        t = time.perf_counter()
        emit(ev, audit=log)
        lat.append(time.perf_counter() - t)
    dt = time.perf_counter() - t0
    assert log.verify().ok
    log.close()
    return n / dt, lat


def batched(url: str, n: int, size: int = 100) -> float:
    log = sm.AuditLog(url)
    evs = events(n, "batch")
    t0 = time.perf_counter()
    for k in range(0, n, size):
        log.append_many(evs[k:k + size])
    dt = time.perf_counter() - t0
    assert log.verify().ok
    return n / dt


def threaded(url: str, n: int, threads: int = 4, shared: bool = False) -> float:
    logs = [sm.AuditLog(url)] * threads if shared else [sm.AuditLog(url) for _ in range(threads)]
    chunks = [events(n // threads, f"t{k}") for k in range(threads)]

    def work(k):
        for ev in chunks[k]:
            logs[k].append(ev)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.perf_counter() - t0
    assert logs[0].verify().ok
    return (n // threads) * threads / dt


def sqlite_baseline(path: str, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT)")
    body = "x" * 600
    t0 = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
        conn.execute("COMMIT")
    dt = time.perf_counter() - t0
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == n
    return n / dt


def pg_baseline(url: str, n: int) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE TABLE t (seq BIGSERIAL PRIMARY KEY, body TEXT)")
        body = "x" * 600
        t0 = time.perf_counter()
        for _ in range(n):
            with conn.transaction():
                conn.execute("INSERT INTO t (body) VALUES (%s)", (body,))
        dt = time.perf_counter() - t0
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == n
    return n / dt


def report(name: str, rate: float, lat: list | None = None) -> None:
    extra = ""
    if lat:
        lat_ms = sorted(x * 1e3 for x in lat)
        extra = f"  emit latency median {statistics.median(lat_ms):.2f} ms, p99 {lat_ms[int(len(lat_ms) * 0.99)]:.2f} ms"
    print(f"{name:<52} {rate:9.0f} events/s{extra}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--pg", default=os.environ.get("SYNTHMARK_TEST_PG"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        rate, lat = single_writer(f"sqlite:///{d}/a.db", args.n)
        report("SQLite  AuditLog, 1 writer (durable)", rate, lat)
        report("SQLite  AuditLog, 4 threads, own connections", threaded(f"sqlite:///{d}/b.db", args.n))
        report("SQLite  AuditLog, 4 threads, shared (group commit)", threaded(f"sqlite:///{d}/b2.db", args.n, shared=True))
        report("SQLite  AuditLog.append_many, batches of 100", batched(f"sqlite:///{d}/b3.db", args.n))
        report("SQLite  bare INSERT+COMMIT baseline", sqlite_baseline(f"{d}/c.db", args.n))
    if not args.pg:
        print("PostgreSQL: skipped (no --pg / SYNTHMARK_TEST_PG)")
        return 0
    import psycopg

    schema = "sm_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = args.pg + ("&" if "?" in args.pg else "?") + f"options=-csearch_path%3D{schema}"
    try:
        n = max(args.n // 2, 100)
        rate, lat = single_writer(url, n)
        report("PostgreSQL AuditLog, 1 writer (durable)", rate, lat)
        report("PostgreSQL AuditLog, 4 threads, own connections", threaded(url, n))
        report("PostgreSQL AuditLog, 4 threads, shared (group commit)", threaded(url, n, shared=True))
        report("PostgreSQL AuditLog.append_many, batches of 100", batched(url, n))
        report("PostgreSQL bare INSERT+COMMIT baseline", pg_baseline(url, n))
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
