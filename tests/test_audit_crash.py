"""Crash safety of label_file + the audit log, with real processes killed by SIGKILL.

A child process labels a batch of small clips with ``sm.label_file(..., audit=AuditLog(url))`` and is
killed with SIGKILL: at a random moment (random-kill test), or exactly inside the window between the
durable record and the rename (``SYNTHMARK_AUDIT_TEST_CRASH=after-record:N``), or after the rename
but before the in-doubt mark is cleared (``after-rename:N``). Afterwards:

* every output under its final name is complete and has its record (output_path, SHA-256);
* after ``reconcile`` (run by opening a writable AuditLog, or ``synthmark audit reconcile``), every
  record that claims an output either has it at its path with its hash or is withdrawn by a later
  ``status='failed'`` record; nothing stays in doubt;
* the chain verifies.

Runs against SQLite and, with SYNTHMARK_TEST_PG, PostgreSQL (store_url fixture of test_audit.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import synthmark as sm
from synthmark import cli
from synthmark.samples import make_clip

from .test_audit import raw_sql, store_url  # noqa: F401 - the fixture (SQLite + PostgreSQL)

SRC = str(Path(sm.__file__).resolve().parent.parent)
N_JOBS = 6

# The child: label N clips one after the other, print each finished job's index.
CHILD = r"""
import sys
import synthmark as sm
url, src, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
key = sm.Key.generate()
log = sm.AuditLog(url)
for i in range(n):
    sm.label_file(src, f"{out}/out{i}.mp4", key=key, producer="CrashTest", content_id=f"job-{i}", audit=log,
                  user_ref="crash-user")
    print(i, flush=True)
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clip") / "src.mp4", seconds=0.4, width=128, height=96, fps=10)


def start_batch(url: str, clip: str, out: Path, crash: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC)
    env.pop("SYNTHMARK_AUDIT_TEST_CRASH", None)
    if crash:
        env["SYNTHMARK_AUDIT_TEST_CRASH"] = crash
    return subprocess.Popen([sys.executable, "-c", CHILD, url, clip, str(out), str(N_JOBS)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_killed(proc: subprocess.Popen, timeout: float = 180) -> list[str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == -signal.SIGKILL, f"exit {proc.returncode}: {err[-2000:]}"
    return out.split()


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def final_outputs(out: Path) -> dict[str, str]:
    """Files under their final names (not the hidden temporary ``.out3.xxxx.part.mp4``)."""
    return {str(p): sha(p) for p in out.iterdir() if not p.name.startswith(".")}


def check_after_reconcile(log: sm.AuditLog, out: Path) -> None:
    """The invariants once reconcile ran: see the module docstring."""
    result = log.verify()
    assert result.ok, result.summary()
    assert log.pending() == []
    events = [r.event for r in log.records() if r.kind == "event"]
    withdrawn = {e.supersedes: e for e in events if e.status == "failed"}
    claims = {e.output_path: e for e in events if e.status == "published"}
    published = final_outputs(out)
    for path, digest in published.items():  # every published output: its record, with its hash
        assert path in claims, f"{path} was published without an audit record"
        assert claims[path].output_sha256 == digest, f"{path}: not the recorded output (half-written?)"
        assert claims[path].event_id not in withdrawn, f"{path} is published but its record was withdrawn"
    for path, ev in claims.items():  # no record claims an unpublished output unless withdrawn as failed
        if path not in published:
            assert ev.event_id in withdrawn, f"record {ev.event_id} claims {path}, which was never published"
            w = withdrawn[ev.event_id]
            assert w.output_path == path and w.output_sha256 == ev.output_sha256 and w.reason.startswith("reconcile:")


@pytest.mark.parametrize("seed", [1])
def test_kill9_at_a_random_moment_in_a_label_file_batch(store_url, clip, tmp_path, seed):  # noqa: F811
    sm.AuditLog(store_url).close()
    out = tmp_path / "out"
    out.mkdir()
    proc = start_batch(store_url, clip, out)
    first = proc.stdout.readline()  # the first job is published: the batch is running warm
    assert first.strip() == "0", proc.stderr.read()[-2000:] if proc.poll() is not None else first
    time.sleep(random.Random(seed).uniform(0.0, 0.25))
    proc.kill()
    done = ["0"] + wait_killed(proc)
    assert len(done) < N_JOBS, "the batch finished before the kill: make it longer"
    for i in map(int, done):  # what the child saw finish is published under its final name
        assert (out / f"out{i}.mp4").exists()
    with sm.AuditLog(store_url, reconcile=False) as raw:
        # before reconcile: already every published output has its record with its hash
        claims = {r.event.output_path: r.event.output_sha256 for r in raw.records() if r.kind == "event"}
        for path, digest in final_outputs(out).items():
            assert claims.get(path) == digest, path
        assert len(raw.pending()) <= 1  # at most the job killed inside its record -> rename window
    with sm.AuditLog(store_url) as log:  # opening reconciles
        check_after_reconcile(log, out)
        assert len(log.last_reconcile.failed) + len(log.last_reconcile.published) <= 1


def test_kill9_between_record_and_rename_is_reconciled_as_failed(store_url, clip, tmp_path, capsys):  # noqa: F811
    """Deterministic: the 3rd publish kills its own process right after the durable record."""
    sm.AuditLog(store_url).close()
    out = tmp_path / "out"
    out.mkdir()
    done = wait_killed(start_batch(store_url, clip, out, crash="after-record:3"))
    assert done == ["0", "1"]
    assert sorted(final_outputs(out)) == [str(out / "out0.mp4"), str(out / "out1.mp4")]
    with sm.AuditLog(store_url, reconcile=False) as log:
        assert log.verify().ok
        recs = [r for r in log.records() if r.kind == "event"]
        assert [r.event.content_id for r in recs] == ["job-0", "job-1", "job-2"]
        victim = recs[2].event
        assert victim.status == "published" and victim.output_path == str(out / "out2.mp4")
        [p] = log.pending()  # the record is still in doubt, with its complete temporary output
        assert p.event_id == victim.event_id and p.output_path == victim.output_path and p.pid > 0
        assert p.temp_path and Path(p.temp_path).name.startswith(".out2.") and sha(p.temp_path) == victim.output_sha256
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--store", store_url]) == 0  # intact, but says a record is in doubt
    assert "1 record(s) whose output publication is not confirmed" in capsys.readouterr().out
    # settle it with the CLI (the API path is covered by the random-kill test)
    assert cli.main(["audit", "reconcile", "--store", store_url]) == 0
    out_text = capsys.readouterr().out
    assert f"failed: event {victim.event_id}" in out_text and "1 recorded as failed" in out_text
    with sm.AuditLog(store_url, read_only=True) as log:
        check_after_reconcile(log, out)
        last = list(log.records())[-1].event
        assert last.status == "failed" and last.supersedes == victim.event_id and "missing" in last.reason
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(log.export_text(format="csv"))))  # auditors see it too
        assert [(r["status"], r["supersedes"], r["output_path"]) for r in rows[2:]] == [
            ("published", "", victim.output_path), ("failed", victim.event_id, victim.output_path)]
    assert not Path(p.temp_path).exists() and sorted(os.listdir(out)) == ["out0.mp4", "out1.mp4"]
    # idempotent, and the store takes new work after the crash
    with sm.AuditLog(store_url) as log:
        assert log.last_reconcile.failed == [] and log.last_reconcile.published == []
        sm.label_file(clip, out / "again.mp4", key=sm.Key.generate(), producer="P", content_id="again", audit=log,
                      user_ref="u")
        check_after_reconcile(log, out)


def test_kill9_after_rename_confirms_the_published_output(tmp_path, clip):
    """Killed after the rename, before the in-doubt mark is cleared: reconcile finds the output in
    place with its hash and adds nothing."""
    url = f"sqlite:///{tmp_path}/a.db"
    out = tmp_path / "out"
    out.mkdir()
    assert wait_killed(start_batch(url, clip, out, crash="after-rename:2")) == ["0"]
    with sm.AuditLog(url) as log:
        assert len(log.last_reconcile.published) == 1
        assert log.last_reconcile.failed == []
        assert [r.event.status for r in log.records()] == ["published", "published"]
        check_after_reconcile(log, out)


# ----------------------------------------------------------------------------------- reconcile rules


def _pending_event(log, tmp_path, name: str, data: bytes = b"labeled output"):
    """Record an output as publish does, but leave it unpublished (as if killed after the record)."""
    tmp = tmp_path / f".{name}.part"
    tmp.write_bytes(data)
    ev = sm.AuditEvent(user_ref="u", content_id=name, media_type="image", output_sha256=hashlib.sha256(data).hexdigest(),
                       output_path=str(tmp_path / name))
    log.append(ev, pending=True, temp_path=str(tmp))
    return ev, tmp


def test_reconcile_leaves_live_processes_and_other_hosts_alone(store_url, tmp_path):  # noqa: F811
    log = sm.AuditLog(store_url)
    ev, tmp = _pending_event(log, tmp_path, "mine")  # owned by this (running) process: in flight
    r = sm.AuditLog(store_url).reconcile()
    assert r.in_flight == [ev.event_id] and r.failed == [] and tmp.exists()
    raw_sql(store_url, "UPDATE synthmark_audit_pending SET hostname = 'other-host' WHERE event_id = ?", (ev.event_id,))
    r = log.reconcile()
    assert r.other_hosts == [ev.event_id] and r.failed == []
    r = log.reconcile(all_hosts=True, grace_seconds=3600)  # too young to judge another host's job
    assert r.in_flight == [ev.event_id] and r.failed == []
    r = log.reconcile(all_hosts=True, grace_seconds=0)
    assert [f.data["supersedes"] for f in r.failed] == [ev.event_id] and not tmp.exists()
    assert log.pending() == [] and log.verify().ok


def test_reconcile_dead_owner_wrong_content_and_a_concurrent_reconciler(store_url, tmp_path):  # noqa: F811
    log = sm.AuditLog(store_url)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    a, _ = _pending_event(log, tmp_path, "a.png")
    (tmp_path / "a.png").write_bytes(b"an older output under the same name")  # the rename never happened
    b, _ = _pending_event(log, tmp_path, "b.png", b"b")
    (tmp_path / "b.png").write_bytes(b"b")  # the rename happened: published
    # (a start time no process has: even if the pid were reused meanwhile, its owner is gone)
    raw_sql(store_url, "UPDATE synthmark_audit_pending SET pid = ?, pid_start = 'no-boot:0'", (dead_pid,))
    assert socket.gethostname() == log.pending()[0].hostname
    stale = log.pending()
    other = sm.AuditLog(store_url, reconcile=False)
    other.pending = lambda: stale  # a reconciler that read the in-doubt list before this one finished
    r = log.reconcile()
    assert r.published == [b.event_id] and [f.data["supersedes"] for f in r.failed] == [a.event_id]
    assert "other content" in r.failed[0].data["reason"]
    r2 = other.reconcile()
    assert r2.failed == []  # the record is withdrawn once, not twice
    statuses = [(e.status, e.supersedes) for e in (rec.event for rec in log.records())]
    assert statuses == [("published", None), ("published", None), ("failed", a.event_id)]
    assert log.verify().ok


def test_events_without_publication_fields_keep_the_v1_body(tmp_path):
    """Backward compatibility: an event without output_path/supersedes/reason serialises exactly
    as before (v1), so old logs and their hashes are unchanged; v2 is only used when needed."""
    ev = sm.AuditEvent(user_ref="u", content_id="c", media_type="audio", output_sha256="0" * 64)
    d = ev.to_dict()
    assert d["v"] == 1 and not {"output_path", "supersedes", "reason"} & set(d)
    assert sm.AuditEvent.from_dict(d) == ev
    ev2 = sm.AuditEvent(user_ref="u", content_id="c", media_type="audio", output_sha256="0" * 64, output_path="/o.wav")
    assert ev2.to_dict()["v"] == 2 and sm.AuditEvent.from_json(ev2.to_json()) == ev2
    with pytest.raises(sm.errors.InvalidArgumentError, match="absolute"):
        sm.AuditEvent(user_ref="u", content_id="c", media_type="audio", output_sha256="0" * 64, output_path="o.wav")
    with pytest.raises(sm.errors.InvalidArgumentError, match="supersedes"):
        sm.AuditEvent(user_ref="u", content_id="c", media_type="audio", output_sha256="0" * 64, supersedes="x")


# ----------------------------------------------------------------------------------- concurrency, bad input


def _publisher(url: str, out: str, tag: str, n: int) -> None:
    from synthmark.audit import publish

    for i in range(n):
        with sm.AuditLog(url) as log:  # every open reconciles while the other processes publish
            data = f"{tag} output {i}".encode() + os.urandom(64)
            tmp = os.path.join(out, f".{tag}{i}.part")
            with open(tmp, "wb") as f:
                f.write(data)
            ev = sm.AuditEvent(user_ref="u", content_id=f"{tag}-{i}", media_type="image",
                               output_sha256=hashlib.sha256(data).hexdigest())
            publish(tmp, os.path.join(out, f"{tag}{i}.bin"), ev, audit=log)


def test_concurrent_publishers_reconciling_on_open_withdraw_nothing(store_url, tmp_path):  # noqa: F811
    """Processes publishing at once, each reconciling the shared store as it opens it: a record of a
    running process is never withdrawn, and the chain stays one."""
    from .test_audit import _in_child

    sm.AuditLog(store_url).close()
    out = tmp_path / "out"
    out.mkdir()
    pids = [_in_child(_publisher, store_url, str(out), f"p{k}", 15) for k in range(3)]
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0, 0, 0]
    with sm.AuditLog(store_url) as log:
        assert log.last_reconcile.failed == [] and log.pending() == []
        events = [r.event for r in log.records()]
        assert len(events) == 45 and all(e.status == "published" for e in events)
        check_after_reconcile(log, out)


@pytest.mark.parametrize("url", ["mysql://user@host/db", "sqlite:////proc/synthmark-audit.db",
                                 "postgresql://synthmark:hunter2@127.0.0.1:1/nodb", "sqlite://relative.db"])
def test_cli_label_with_a_bad_audit_store_fails_before_any_work(url, clip, tmp_path, capsys, monkeypatch):
    import synthmark.pipeline

    def no_work(*a, **k):
        raise AssertionError("labeling started although the audit store is unusable")

    monkeypatch.setattr(synthmark.pipeline, "label_file", no_work)
    keyfile = tmp_path / "k.key"
    sm.Key.generate().save(keyfile)
    code = cli.main(["label", clip, str(tmp_path / "o.mp4"), "--key", str(keyfile), "--producer", "P",
                     "--content-id", "c", "-q", "--audit", url, "--user-ref", "u"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("synthmark: error:") and err.count("\n") == 1 and "hunter2" not in err
    assert sorted(os.listdir(tmp_path)) == ["k.key"]


def test_label_file_refuses_a_read_only_or_wrong_audit_before_any_work(clip, tmp_path, monkeypatch):
    import synthmark.io.transcode

    def no_work(*a, **k):
        raise AssertionError("transcoding started although the audit store cannot record")

    monkeypatch.setattr(synthmark.io.transcode, "transcode", no_work)
    sm.AuditLog(f"sqlite:///{tmp_path}/a.db").close()
    key = sm.Key.generate()
    with sm.AuditLog(f"sqlite:///{tmp_path}/a.db", read_only=True) as ro:
        with pytest.raises(sm.errors.AuditError, match="read-only"):
            sm.label_file(clip, tmp_path / "o.mp4", key=key, producer="P", content_id="c", audit=ro)
    with pytest.raises(sm.errors.InvalidTypeError, match="audit"):
        sm.label_file(clip, tmp_path / "o.mp4", key=key, producer="P", content_id="c", audit="sqlite:///x.db")
    assert [n for n in os.listdir(tmp_path) if not n.startswith("a.db")] == []  # no output, no temp file


def test_a_store_from_before_the_pending_table_is_migrated_on_open(store_url, tmp_path):  # noqa: F811
    """Stores written by the previous version (v1 event bodies, no pending table) still verify; a
    read-only open sees nothing in doubt; the first writable open adds the table and new (v2)
    records chain on after the old ones."""
    from .test_audit import make_event

    with sm.AuditLog(store_url) as log:
        old = [log.append(make_event(i)) for i in range(3)]
    assert all(json_v(r.body) == 1 for r in old)
    raw_sql(store_url, "DROP TABLE synthmark_audit_pending")
    with sm.AuditLog(store_url, read_only=True) as ro:
        assert ro.verify().ok and ro.pending() == []
    with sm.AuditLog(store_url) as log:
        assert log.last_reconcile is not None and log.pending() == []
        data = b"new output"
        tmp = tmp_path / ".new.part"
        tmp.write_bytes(data)
        ev = sm.AuditEvent(user_ref="u", content_id="new", media_type="image", output_sha256=hashlib.sha256(data).hexdigest())
        from synthmark.audit import publish

        res = publish(tmp, tmp_path / "new.png", ev, audit=log)
        assert json_v(res.records[0].body) == 2 and res.records[0].prev_hash == old[-1].hash
        result = log.verify()
        assert result.ok and result.records == 4, result.summary()


def json_v(body: str) -> int:
    import json

    return json.loads(body)["v"]
