"""Audit log: durability, tamper evidence, retention, concurrency, crash safety, CLI, hooks.

Every store test runs against SQLite and PostgreSQL. PostgreSQL needs SYNTHMARK_TEST_PG (a URL to a
database where we may create schemas; .ci/run starts a local server and sets it). Under CI the
PostgreSQL cases fail when it is missing instead of being skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import synthmark as sm
from synthmark import cli
from synthmark.audit import store as audit_store
from synthmark.audit import JsonLinesSink, emit, on_labeled, remove_on_labeled
from synthmark.errors import AuditError, InvalidArgumentError, InvalidTypeError

SRC = str(Path(sm.__file__).resolve().parent.parent)
PG_URL = os.environ.get("SYNTHMARK_TEST_PG")


def _pg_url_with_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/audit.db"
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("SYNTHMARK_TEST_PG is not set: CI must test the PostgreSQL audit store (see .ci/run)")
        pytest.skip("PostgreSQL store not tested here: set SYNTHMARK_TEST_PG=postgresql://... (required when CI is set)")
    import psycopg

    schema = "sm_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_url_with_schema(PG_URL, schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def raw_sql(url: str, sql: str, params: tuple = ()) -> list:
    """Run SQL on the store behind AuditLog's back (to tamper with it)."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        try:
            cur = conn.execute(sql, params)
            return cur.fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []


def make_event(i: int = 0, **kw) -> sm.AuditEvent:
    fields = dict(
        user_ref=f"user-{i % 7}",
        content_id=f"produce-{i}",
        media_type="video",
        output_sha256=hashlib.sha256(f"output {i}".encode()).hexdigest(),
        labels={"visible": {"text": "AI生成", "schedule": "corner"}, "watermark": {"payload": f"{i:016x}", "key_id": "0123456789abcdef"}},
    )
    fields.update(kw)
    return sm.AuditEvent(**fields)


def run_py(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------------------------------- events


def test_event_fields_and_canonical_json():
    key = sm.Key.generate()
    ev = make_event(1, consent_ref="consent-9", recipient_ref="recipient-3", labels={"watermark": {"key_id": key.id}},
                    host={"job": 5})
    assert ev.time_utc.endswith("Z") and len(ev.time_utc) == 27
    assert ev.tool_version.startswith("synthmark ")
    data = ev.to_json()
    assert data == sm.AuditEvent.from_json(data).to_json()  # canonical: stable through a round trip
    assert key.secret_bytes().hex() not in data.decode()
    assert json.loads(data)["consent_ref"] == "consent-9"
    assert make_event(1).event_id != make_event(1).event_id


@pytest.mark.parametrize(
    "kw, exc, match",
    [
        ({"output_sha256": "abc"}, InvalidArgumentError, "64 hex"),
        ({"output_sha256": None}, InvalidArgumentError, "required"),
        ({"media_type": "hologram"}, InvalidArgumentError, "media_type"),
        ({"user_ref": ""}, InvalidArgumentError, "user_ref"),
        ({"labels": {"watermark": {"key": "00" * 32}}}, InvalidArgumentError, "never recorded"),
        ({"labels": {"thumbnail": b"\x89PNG"}}, InvalidTypeError, "bytes"),
        ({"labels": {"watermark": {"k": sm.Key.generate()}}}, InvalidTypeError, "key.id"),
        ({"host": {"x": float("nan")}}, InvalidArgumentError, "NaN"),
        ({"time_utc": "2026-01-01T00:00:00"}, InvalidArgumentError, "UTC offset"),
        ({"host": {"blob": "x" * 70000}}, InvalidArgumentError, "not content"),
    ],
)
def test_event_rejects_bad_fields_secrets_and_content(kw, exc, match):
    with pytest.raises(exc, match=match):
        make_event(**kw)


def test_stream_start_may_omit_hash():
    ev = make_event(media_type="stream", kind="stream_start", output_sha256=None)
    assert ev.output_sha256 is None


# ------------------------------------------------------------------------------------------- store


def test_append_is_durable_and_readable_from_another_process(store_url):
    log = sm.AuditLog(store_url)
    ev = make_event(3, consent_ref="consent-1")
    rec = log.append(ev)
    assert rec.seq == 1 and rec.event == ev
    out = run_py(
        "import sys, synthmark as sm; r = sm.AuditLog(sys.argv[1]).get(sys.argv[2]);"
        "print(r.seq, r.hash, r.event.output_sha256)",
        store_url, ev.event_id,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", rec.hash, ev.output_sha256]
    with pytest.raises(AuditError, match="already recorded"):
        log.append(ev)
    assert log.verify().ok


def test_records_export_and_filters(store_url):
    log = sm.AuditLog(store_url)
    for i, day in enumerate(["2026-01-05", "2026-02-05", "2026-03-05"]):
        log.append(make_event(i, time_utc=f"{day}T10:00:00+08:00"))
    got = [r.event.content_id for r in log.records(since="2026-02-01", until="2026-03-01")]
    assert got == ["produce-1"]
    lines = log.export_text(format="jsonl").splitlines()
    assert [json.loads(line)["body"]["content_id"] for line in lines] == ["produce-0", "produce-1", "produce-2"]
    rows = list(csv.DictReader(io.StringIO(log.export_text(since="2026-02-01", format="csv"))))
    assert [r["content_id"] for r in rows] == ["produce-1", "produce-2"]
    assert json.loads(rows[0]["labels"])["visible"]["text"] == "AI生成"
    assert rows[0]["event_time"] == "2026-02-05T02:00:00.000000Z"


@pytest.mark.parametrize("attack", ["alter", "delete", "swap", "relink", "truncate"])
def test_verify_names_the_tampered_record(store_url, attack):
    log = sm.AuditLog(store_url)
    recs = [log.append(make_event(i)) for i in range(8)]
    assert log.verify().ok and log.verify().records == 8
    if attack == "alter":
        body = json.loads(recs[4].body)
        body["user_ref"] = "someone-else"
        raw_sql(store_url, "UPDATE synthmark_audit SET body = ? WHERE seq = 5", (json.dumps(body),))
        expect = 5
    elif attack == "delete":
        raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = 4")
        expect = 4
    elif attack == "swap":  # exchange the contents of seq 3 and 6, keeping the seq column in order
        cols = "kind, event_id, event_time, recorded_at, body, prev_hash, hash, mac"
        r3 = raw_sql(store_url, f"SELECT {cols} FROM synthmark_audit WHERE seq = 3")[0]
        r6 = raw_sql(store_url, f"SELECT {cols} FROM synthmark_audit WHERE seq = 6")[0]
        raw_sql(store_url, "UPDATE synthmark_audit SET event_id = ? WHERE seq = 3", ("tmp",))
        sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
        raw_sql(store_url, f"UPDATE synthmark_audit SET {sets} WHERE seq = 6", tuple(r3))
        raw_sql(store_url, f"UPDATE synthmark_audit SET {sets} WHERE seq = 3", tuple(r6))
        expect = 3
    elif attack == "truncate":  # drop the newest two records
        raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq >= 7")
        expect = 7
    else:  # delete seq 4 and re-link seq 5 to seq 3 (without a key the hash can be recomputed, but not seq)
        raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = 4")
        raw_sql(store_url, "UPDATE synthmark_audit SET prev_hash = ? WHERE seq = 5", (recs[2].hash,))
        expect = 4
    result = log.verify()
    assert not result.ok
    assert result.bad_seq == expect, result.summary()
    assert f"seq {expect}" in result.summary()
    assert cli.main(["audit", "verify", "--store", store_url]) == 1


def test_signed_log_detects_a_recomputed_chain(store_url, tmp_path):
    from synthmark.audit.chain import record_hash

    key = sm.Key.generate()
    log = sm.AuditLog(store_url, key=key)
    recs = [log.append(make_event(i)) for i in range(4)]
    assert all(r.mac for r in recs) and log.verify().macs_checked
    meta = dict(raw_sql(store_url, "SELECT k, v FROM synthmark_audit_meta"))
    assert meta["mac_key_id"] == key.id and key.secret_bytes().hex() not in json.dumps(meta)
    # rewrite record 3 and recompute every hash after it: only the MAC can tell
    prev = recs[1].hash
    for r in recs[2:]:
        body = json.loads(r.body)
        if r.seq == 3:
            body["user_ref"] = "forged"
        h = record_hash(r.seq, r.kind, r.recorded_at, body, prev)
        raw_sql(store_url, "UPDATE synthmark_audit SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (json.dumps(body), prev, h, r.seq))
        prev = h
    assert not sm.AuditLog(store_url, read_only=True).verify().ok  # the head marker still names the old hash
    head = json.loads(raw_sql(store_url, "SELECT v FROM synthmark_audit_meta WHERE k = 'head'")[0][0])
    head["hash"] = prev  # the forger moves the head marker too (but cannot recompute its MAC)
    raw_sql(store_url, "UPDATE synthmark_audit_meta SET v = ? WHERE k = 'head'", (json.dumps(head),))
    assert sm.AuditLog(store_url, read_only=True).verify().ok  # hashes alone are consistent again
    result = log.verify()
    assert not result.ok and result.bad_seq == 3 and "MAC" in result.reason, result.summary()
    with pytest.raises(AuditError, match="signed with key id"):
        sm.AuditLog(store_url)  # appending to a signed log needs its key
    with pytest.raises(AuditError, match="signed with key id"):
        sm.AuditLog(store_url, key=sm.Key.generate())
    keyfile = tmp_path / "log.key"
    key.save(keyfile)
    assert cli.main(["audit", "verify", "--store", store_url, "--key", str(keyfile)]) == 1


def test_purge_refuses_young_records_and_leaves_a_verifiable_chain(store_url, monkeypatch):
    log = sm.AuditLog(store_url)
    recs = [log.append(make_event(i)) for i in range(6)]
    with pytest.raises(InvalidArgumentError, match="minimum retention of 180 days"):
        log.purge(179)
    with pytest.raises(InvalidArgumentError, match="below the required"):
        sm.AuditLog(store_url, min_retention_days=90)
    assert log.purge(180).purged == 0  # everything is younger than 180 days
    assert cli.main(["audit", "purge", "--older-than", "30", "--store", store_url]) == 2
    # pretend 200 days have passed since record 4 was written: records 1..3 are old enough. The store's
    # clock is moved (a public now= later than the clock is refused: test_purge_refuses_a_future_now)
    t4 = datetime.strptime(recs[3].recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    monkeypatch.setattr(audit_store, "_utc_now", lambda: t4 + timedelta(days=200))
    res = log.purge(200)
    assert (res.purged, res.through_seq) == (3, 3) and res.anchor.seq == 7
    assert res.anchor.data["purged_through_hash"] == recs[2].hash
    assert [r.seq for r in log.records()] == [4, 5, 6, 7]
    result = log.verify()
    assert result.ok and result.first_seq == 4 and result.anchors == 1, result.summary()
    log.append(make_event(99))
    assert log.verify().ok
    # a second purge of everything still verifies from the newest anchor
    monkeypatch.setattr(audit_store, "_utc_now", lambda: datetime.now(timezone.utc) + timedelta(days=400))
    res2 = log.purge(200)
    monkeypatch.undo()
    assert res2.purged == 5 and [r.kind for r in log.records()] == ["anchor"]
    assert log.verify().ok
    # deleting records beyond what an anchor accounts for is caught
    log.append(make_event(100))
    log.append(make_event(101))
    raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = ?", (res2.anchor.seq,))
    result = log.verify()
    assert not result.ok and result.bad_seq == res2.anchor.seq, result.summary()


def test_purge_refuses_a_future_now(store_url):
    log = sm.AuditLog(store_url)
    recs = [log.append(make_event(i)) for i in range(3)]
    real = datetime.now(timezone.utc)
    for ahead in (timedelta(days=181), timedelta(days=3650), timedelta(minutes=10)):
        with pytest.raises(InvalidArgumentError, match="now: .*later than the current time"):
            log.purge(180, now=real + ahead)
    assert [r.event_id for r in log.records()] == [r.event_id for r in recs]
    with pytest.raises(InvalidTypeError, match="now"):
        log.purge(180, now="2099-01-01T00:00:00Z")
    with pytest.raises(InvalidArgumentError, match="now: .*UTC offset"):
        log.purge(180, now=datetime(2020, 1, 1))
    # a now in the past only purges less: allowed (a purge "as of" a date)
    assert log.purge(180, now=real - timedelta(days=1)).purged == 0
    assert log.verify().ok and len(list(log.records())) == 3


def test_threads_keep_one_chain(store_url):
    shared = sm.AuditLog(store_url)
    first = shared.append(make_event(-1)).event
    errors, dup_errors = [], []

    def worker(t):
        try:
            log = shared if t < 2 else sm.AuditLog(store_url)  # shared instance (group commit) and own connections
            for i in range(50):
                log.append(make_event(t * 1000 + i))
                if t == 0 and i % 10 == 5:  # a duplicate in the middle of others' group commits fails alone
                    try:
                        log.append(first)
                    except AuditError as exc:
                        dup_errors.append(exc)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(dup_errors) == 5 and all("already recorded" in str(e) for e in dup_errors)
    result = shared.verify()
    assert result.ok and result.records == 201 and (result.first_seq, result.last_seq) == (1, 201), result.summary()
    assert len({r.event_id for r in shared.records()}) == 201


def test_append_many_is_atomic(store_url):
    log = sm.AuditLog(store_url)
    recs = log.append_many([make_event(i) for i in range(5)])
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5] and recs[4].prev_hash == recs[3].hash
    with pytest.raises(AuditError, match="already recorded"):
        log.append_many([make_event(10), recs[0].event, make_event(11)])
    assert log.verify().records == 5 and log.append_many([]) == []


def _in_child(fn, *args) -> int:
    """Fork a child that runs fn(*args) and exits without running any of pytest's cleanup.

    Forked children are separate processes with their own store connections; fork (not a new
    interpreter) keeps these tests fast on a loaded machine."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            fn(*args)
            code = 0
        except BaseException as exc:
            try:
                os.write(2, f"child failed: {exc!r}\n".encode())
            except OSError:
                pass
        finally:
            os._exit(code)
    return pid


def _append_batch(url: str, tag: str, n: int) -> None:
    log = sm.AuditLog(url)
    for i in range(n):
        log.append(make_event(i, content_id=f"{tag}-{i}"))


def test_processes_keep_one_chain(store_url):
    sm.AuditLog(store_url).close()  # create the schema first (creation is also safe concurrently)
    pids = [_in_child(_append_batch, store_url, f"p{k}", 50) for k in range(3)]
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    assert codes == [0, 0, 0]
    log = sm.AuditLog(store_url)
    result = log.verify()
    assert result.ok and result.records == 150, result.summary()
    assert [r.seq for r in log.records()] == list(range(1, 151))
    assert sorted(r.event.content_id for r in log.records()) == sorted(f"p{k}-{i}" for k in range(3) for i in range(50))


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "url, match",
    [
        ("mysql://user@host/db", "unsupported audit store URL scheme"),
        ("sqlite://relative.db", "malformed SQLite"),
        ("sqlite:///:memory:", "malformed SQLite"),
        ("", "empty"),
        ("sqlite:////nonexistent-dir-xyz/audit.db", "does not exist"),
        ("sqlite:////proc/synthmark-audit.db", "cannot open for writing"),  # read-only location, even for root
        ("postgresql://", "malformed PostgreSQL"),
        ("postgresql://synthmark:hunter2@127.0.0.1:1/nodb", "cannot connect"),
    ],
)
def test_bad_store_urls_fail_at_construction(url, match):
    t0 = time.monotonic()
    with pytest.raises(AuditError, match=match) as info:
        sm.AuditLog(url)
    assert "hunter2" not in str(info.value)
    assert "\n" not in str(info.value)
    assert time.monotonic() - t0 < 10


def test_not_a_database_and_read_only_file(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AuditError, match="cannot open"):
        sm.AuditLog(f"sqlite:///{junk}")
    with pytest.raises(AuditError, match="no such file"):
        sm.AuditLog(f"sqlite:///{tmp_path}/missing.db", read_only=True)
    path = tmp_path / "ok.db"
    sm.AuditLog(str(path)).append(make_event())
    ro = sm.AuditLog(str(path), read_only=True)
    assert ro.verify().ok
    with pytest.raises(AuditError, match="read-only"):
        ro.append(make_event(1))


def test_cli_commands_and_exit_codes(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    log = sm.AuditLog(url)
    evs = [make_event(i, time_utc=f"2026-0{i + 1}-15T00:00:00Z") for i in range(3)]
    for ev in evs:
        log.append(ev)
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--store", url]) == 0
    assert "OK: 3 records" in capsys.readouterr().out
    assert cli.main(["audit", "show", evs[1].event_id, "--store", url]) == 0
    assert json.loads(capsys.readouterr().out)["body"]["content_id"] == "produce-1"
    assert cli.main(["audit", "show", "no-such-event", "--store", url]) == 1
    capsys.readouterr()
    assert cli.main(["audit", "export", "--store", url, "--since", "2026-02-01", "--until", "2026-03-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == [evs[1].event_id]
    out = tmp_path / "export.csv"
    assert cli.main(["audit", "export", "--store", url, "--format", "csv", "-o", str(out)]) == 0
    with out.open() as f:
        assert len(list(csv.DictReader(f))) == 3
    assert cli.main(["audit", "purge", "--older-than", "365", "--store", url]) == 0
    assert "nothing to purge" in capsys.readouterr().out
    # default store: $SYNTHMARK_AUDIT, else ./synthmark-audit.db
    monkeypatch.setenv("SYNTHMARK_AUDIT", url)
    assert cli.main(["audit", "verify"]) == 0
    monkeypatch.delenv("SYNTHMARK_AUDIT")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert cli.main(["audit", "verify"]) == 2
    assert "synthmark-audit.db" in capsys.readouterr().err
    for bad in (["audit", "verify", "--store", "mysql://x"], ["audit", "export", "--store", "sqlite:////nonexistent-xyz/a.db"]):
        assert cli.main(bad) == 2
        err = capsys.readouterr().err
        assert err.startswith("synthmark: error:") and err.count("\n") == 1
    raw_sql(url, "UPDATE synthmark_audit SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE seq = 2")
    assert cli.main(["audit", "verify", "--store", url]) == 1
    assert "BROKEN at record seq 2" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- hooks


@pytest.fixture
def clean_hooks():
    from synthmark.audit import registered_sinks

    before = registered_sinks()
    yield
    for s in registered_sinks():
        if not any(s is b for b in before):
            remove_on_labeled(s)


def test_hooks_store_first_and_a_failing_sink_loses_nothing(store_url, tmp_path, clean_hooks):
    log = sm.AuditLog(store_url)
    seen = []

    @sm.on_labeled
    def host_callback(ev):
        assert log.get(ev.event_id) is not None  # the durable store was written first
        seen.append(ev.event_id)

    @on_labeled
    def broken(ev):
        raise RuntimeError("host queue down")

    lines = tmp_path / "events.jsonl"
    on_labeled(JsonLinesSink(lines, fsync=True))
    ev = make_event(1)
    result = emit(ev, audit=log)
    assert len(result.records) == 1 and result.records[0].event_id == ev.event_id
    assert result.delivered == 2 and len(result.errors) == 1 and "host queue down" in str(result.errors[0][1])
    assert seen == [ev.event_id]
    assert json.loads(lines.read_text().splitlines()[0])["event_id"] == ev.event_id
    # an AuditLog registered as a sink is durable too; a failing store raises after the others ran
    on_labeled(log)
    dup = emit(make_event(2))
    assert len(dup.records) == 1
    with pytest.raises(AuditError, match="not durably recorded") as info:
        emit(ev, audit=log)  # already recorded: the store refuses
    assert info.value.result.delivered == 2
    assert seen[-1] == ev.event_id and len(lines.read_text().splitlines()) == 3
    assert log.verify().records == 2
    with pytest.raises(InvalidTypeError):
        on_labeled(42)
    with pytest.raises(InvalidTypeError):
        emit({"not": "an event"})


def _label_jobs(url: str, out: str, wfd: int) -> None:
    from synthmark.audit import publish

    log = sm.AuditLog(url)
    for i in range(100000):
        data = os.urandom(4096) + f"labeled output {i}".encode()
        tmp, dest = os.path.join(out, f"out{i}.bin.tmp"), os.path.join(out, f"out{i}.bin")
        with open(tmp, "wb") as f:
            f.write(data)
        ev = sm.AuditEvent(user_ref="u", content_id=f"job-{i}", media_type="image",
                           output_sha256=hashlib.sha256(data).hexdigest(), host={"output": f"out{i}.bin"})
        publish(tmp, dest, ev, audit=log)
        os.write(wfd, b".")  # acknowledged: recorded, then published


def test_sigkill_during_label_jobs_every_published_output_has_its_record(store_url, tmp_path):
    """kill -9 in the middle of a batch of jobs: every published output has its record (with its
    hash), at most the one job in flight has a record without a published output (its complete
    temporary output is still there), and the chain verifies."""
    sm.AuditLog(store_url).close()
    out = tmp_path / "out"
    out.mkdir()
    rfd, wfd = os.pipe()
    pid = _in_child(_label_jobs, store_url, str(out), wfd)
    os.close(wfd)
    acknowledged = 0
    deadline = time.monotonic() + 60
    while acknowledged < 25 and time.monotonic() < deadline:
        chunk = os.read(rfd, 64)
        if not chunk:
            break
        acknowledged += len(chunk)
    os.kill(pid, signal.SIGKILL)
    status = os.waitpid(pid, 0)[1]
    os.close(rfd)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL and acknowledged >= 25
    log = sm.AuditLog(store_url, reconcile=False)
    assert log.verify().ok
    recorded = {r.event.host["output"]: r.event.output_sha256 for r in log.records()}
    published = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("*.bin")}
    assert len(published) >= acknowledged
    for name, digest in published.items():  # every published output has its record, with its hash
        assert recorded.get(name) == digest, name
    unpublished = set(recorded) - set(published)
    assert len(unpublished) <= 1  # at most the job killed between its record and its rename
    for name in unpublished:  # ... whose complete output is still there, its record in doubt
        assert hashlib.sha256((out / (name + ".tmp")).read_bytes()).hexdigest() == recorded[name]
        assert [p.output_path for p in log.pending()] == [str(out / name)]
    result = log.reconcile()  # withdraws it (tests/test_audit_crash.py covers this in depth)
    assert len(result.failed) == len(unpublished) and log.pending() == []
    log.append(make_event(7))  # the store is usable after the crash
    assert log.verify().ok


def test_publish_refuses_a_mismatched_output_and_records_a_failed_rename(tmp_path, clean_hooks):
    from synthmark.audit import publish

    log = sm.AuditLog(f"sqlite:///{tmp_path}/p.db")
    told = []
    on_labeled(lambda ev: told.append((ev.status, ev.supersedes)))  # host sinks hear of the withdrawal too
    tmp = tmp_path / "o.tmp"
    tmp.write_bytes(b"labeled")
    ev = make_event(1, output_sha256=hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(InvalidArgumentError, match="does not match"):
        publish(tmp, tmp_path / "o.bin", ev, audit=log)
    assert log.verify().records == 0
    ev = make_event(2, output_sha256=hashlib.sha256(b"labeled").hexdigest())
    with pytest.raises(AuditError, match="could not publish"):
        publish(tmp, tmp_path / "no-such-dir" / "o.bin", ev, audit=log)
    kinds = [(r.event.status, r.event.supersedes, r.event.output_path) for r in log.records()]
    assert kinds == [("published", None, str(tmp_path / "no-such-dir" / "o.bin")),
                     ("failed", ev.event_id, str(tmp_path / "no-such-dir" / "o.bin"))]
    assert log.pending() == []  # the failed event cleared the in-doubt mark in its own transaction
    assert told == [("published", None), ("failed", ev.event_id)]
    result = publish(tmp, tmp_path / "o.bin", make_event(3, output_sha256=ev.output_sha256), audit=log)
    assert (tmp_path / "o.bin").read_bytes() == b"labeled" and not tmp.exists()
    assert result.event.output_path == str(tmp_path / "o.bin") and log.pending() == []
    assert log.get(result.event.event_id).event.output_path == str(tmp_path / "o.bin")
    with pytest.raises(InvalidArgumentError, match="output_path"):
        publish(tmp_path / "o.bin", tmp_path / "p.bin", result.event, audit=log)  # names another path


def test_forked_children_reconnect_and_keep_one_chain(store_url):
    import multiprocessing

    log = sm.AuditLog(store_url)
    log.append(make_event(0))

    def child(k):
        for i in range(20):
            log.append(make_event(1000 * (k + 1) + i))

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=child, args=(k,)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    log.append(make_event(1))  # the parent's own connection still works
    result = log.verify()
    assert result.ok and result.records == 42, result.summary()


def test_signed_log_detects_a_truncated_tail_even_with_a_moved_head_marker(store_url):
    key = sm.Key.generate()
    log = sm.AuditLog(store_url, key=key)
    recs = [log.append(make_event(i)) for i in range(4)]
    raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = 4")
    head = json.loads(raw_sql(store_url, "SELECT v FROM synthmark_audit_meta WHERE k = 'head'")[0][0])
    head.update(seq=3, hash=recs[2].hash)  # point the marker at the new last record, keep the old MAC
    raw_sql(store_url, "UPDATE synthmark_audit_meta SET v = ? WHERE k = 'head'", (json.dumps(head),))
    assert sm.AuditLog(store_url, read_only=True).verify().ok  # without the key this is undetectable
    result = log.verify()
    assert not result.ok and "head marker" in result.reason, result.summary()
