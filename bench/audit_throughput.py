"""Durable audit events per second, per store, with one writer and with several threads; and the
latency auditing adds to each ``label_file`` call.

    PYTHONPATH=src python bench/audit_throughput.py [--n 2000] [--label-rounds 40] [--pg postgresql://...]

Each ``append`` returns only after its commit is durable (SQLite WAL + synchronous=FULL; PostgreSQL
synchronous_commit=on). ``--pg`` defaults to $SYNTHMARK_TEST_PG; a fresh schema is used and dropped.
The baseline is a bare INSERT+COMMIT with the same durability settings (no event model, no chain),
i.e. the floor our layer adds to.

Added latency per ``label_file`` call: the same small clip (0.4 s, 128x96, H.264 + AAC) is labeled
without audit (``audit=None``, no sinks: plain atomic rename) and with an SQLite / PostgreSQL
AuditLog, interleaved round by round (rotating the order) in one process; reported as the median of
the paired differences. The publish step alone (record marked in doubt + rename + clearing the mark,
vs the bare fsync + rename) is timed the same way on a 100 kB file: that is where all of the
difference comes from, and it does not grow with the clip.
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
from synthmark.audit import publish as audit_publish
from synthmark.io.atomic import publish as plain_publish


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


def label_file_overhead(stores: dict, rounds: int) -> None:
    """Median added latency of auditing per label_file call, and per publish step (see module doc)."""
    from synthmark.samples import make_clip

    with tempfile.TemporaryDirectory() as d:
        clip = make_clip(f"{d}/src.mp4", seconds=0.4, width=128, height=96, fps=10)
        key = sm.Key.generate()
        logs = {name: sm.AuditLog(url) for name, url in stores.items()}
        configs = [("no audit", None)] + list(logs.items())
        times: dict = {name: [] for name, _ in configs}
        for name, log in configs:  # warm up (JIT, codecs, connections)
            sm.label_file(clip, f"{d}/warm-{name}.mp4", key=key, producer="Bench", content_id=f"warm-{name}".replace(" ", "_"), audit=log, user_ref="bench-user")
        for r in range(rounds):
            k = r % len(configs)
            for name, log in configs[k:] + configs[:k]:
                dst = f"{d}/o-{name}-{r}.mp4".replace(" ", "_")
                t = time.perf_counter()
                rep = sm.label_file(clip, dst, key=key, producer="Bench", content_id=f"{name}-{r}".replace(" ", "_"), audit=log, user_ref="bench-user")
                times[name].append(time.perf_counter() - t)
                assert ("audit" in rep.applied) == (log is not None) and os.path.exists(dst)
        for name, log in logs.items():
            v = log.verify()
            assert v.ok and v.records == rounds + 1 and log.pending() == [], v.summary()
        base = times["no audit"]
        print(f"label_file, same clip, {rounds} interleaved rounds (ms): median / min")
        print(f"  {'no audit':<40} {statistics.median(base) * 1e3:8.2f} / {min(base) * 1e3:8.2f}")
        for name in logs:
            diff = [(a - b) * 1e3 for a, b in zip(times[name], base)]
            print(f"  {'audit ' + name:<40} {statistics.median(times[name]) * 1e3:8.2f} / {min(times[name]) * 1e3:8.2f}"
                  f"   added: median of paired differences {statistics.median(diff):+.2f} ms")

        # the publish step alone: where auditing adds its work
        data = os.urandom(100_000)
        n = rounds * 10
        step: dict = {name: [] for name, _ in configs}
        digest = hashlib.sha256(data).hexdigest()
        for r in range(n):
            k = r % len(configs)
            for name, log in configs[k:] + configs[:k]:
                tmp, dst = f"{d}/step.tmp", f"{d}/step-{name}-{r}.bin".replace(" ", "_")
                with open(tmp, "wb") as f:
                    f.write(data)
                t = time.perf_counter()
                if log is None:
                    plain_publish(tmp, dst)
                else:
                    ev = sm.AuditEvent(user_ref="u", content_id=f"step-{name}-{r}", media_type="video", output_sha256=digest)
                    audit_publish(tmp, dst, ev, audit=log)
                step[name].append(time.perf_counter() - t)
        for name, log in logs.items():
            assert log.verify().ok and log.pending() == []
            log.close()
        print(f"publish step, 100 kB output, {n} interleaved rounds (ms): median / p99")
        for name, _ in configs:
            lat = sorted(x * 1e3 for x in step[name])
            what = "fsync + rename (no audit)" if name == "no audit" else f"audit {name}: record + rename + settle"
            print(f"  {what:<40} {statistics.median(lat):8.2f} / {lat[int(len(lat) * 0.99)]:8.2f}")


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
    ap.add_argument("--label-rounds", dest="label_rounds", type=int, default=40,
                    help="rounds of the label_file latency comparison (0: skip it)")
    ap.add_argument("--only-label", dest="only_label", action="store_true", help="only the label_file comparison")
    args = ap.parse_args()
    if args.label_rounds:
        pg_schema = None
        with tempfile.TemporaryDirectory() as d:
            stores = {"SQLite": f"sqlite:///{d}/label.db"}
            if args.pg:
                import psycopg

                pg_schema = "sm_bench_" + uuid.uuid4().hex[:10]
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {pg_schema}")
                stores["PostgreSQL"] = args.pg + ("&" if "?" in args.pg else "?") + f"options=-csearch_path%3D{pg_schema}"
            try:
                label_file_overhead(stores, args.label_rounds)
            finally:
                if pg_schema:
                    with psycopg.connect(args.pg, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA {pg_schema} CASCADE")
    if args.only_label:
        return 0
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
