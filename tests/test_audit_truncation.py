"""Audit log tail truncation: what the store alone detects, what the writer refuses, and what signed
checkpoints handed to an external witness add (the limits are stated in the README)."""

from __future__ import annotations

import json

import pytest

import synthmark as sm
from synthmark import cli
from synthmark.audit import Checkpoint, load_checkpoints
from synthmark.errors import AuditError

from .test_audit import make_event, raw_sql, store_url  # noqa: F401 - store_url is a fixture


def _head_row(url):
    return raw_sql(url, "SELECT v FROM synthmark_audit_meta WHERE k = 'head'")


@pytest.mark.parametrize("signed", [False, True])
def test_tail_and_head_row_deleted_is_detected(store_url, signed):
    key = sm.Key.generate() if signed else None
    log = sm.AuditLog(store_url, key=key)
    for i in range(6):
        log.append(make_event(i))
    assert _head_row(store_url)
    raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq >= 5")
    raw_sql(store_url, "DELETE FROM synthmark_audit_meta WHERE k = 'head'")
    result = log.verify()
    assert not result.ok and result.bad_seq == 5 and "head marker is missing" in result.reason, result.summary()
    assert cli.main(["audit", "verify", "--store", store_url]) == 1


@pytest.mark.parametrize("how", ["tail", "tail+head row", "head forged"])
def test_append_refused_after_a_detected_truncation(store_url, how):
    key = sm.Key.generate()
    log = sm.AuditLog(store_url, key=key)
    recs = [log.append(make_event(i)) for i in range(6)]
    if how == "head forged":  # head moved back to seq 4 without the MAC key: the writer checks the MAC
        raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq >= 5")
        forged = json.dumps({"seq": 4, "hash": recs[3].hash, "mac": "00" * 32})
        raw_sql(store_url, "UPDATE synthmark_audit_meta SET v = ? WHERE k = 'head'", (forged,))
    else:
        raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq >= 5")
        if how == "tail+head row":
            raw_sql(store_url, "DELETE FROM synthmark_audit_meta WHERE k = 'head'")
    before = log.verify()
    assert not before.ok
    with pytest.raises(AuditError, match="head marker"):
        log.append(make_event(99))
    with pytest.raises(AuditError, match="head marker"):
        log.append_many([make_event(100), make_event(101)])
    with pytest.raises(AuditError, match="head marker"):
        sm.AuditLog(store_url, key=key).append(make_event(102))  # a new writer refuses as well
    assert [r.seq for r in log.records()] == [1, 2, 3, 4]  # nothing written on top
    after = log.verify()
    assert not after.ok and after.bad_seq == before.bad_seq, after.summary()


def test_unsigned_writer_refuses_a_head_that_disagrees(store_url):
    log = sm.AuditLog(store_url)
    for i in range(4):
        log.append(make_event(i))
    raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = 4")
    with pytest.raises(AuditError, match="head marker names seq 4"):
        log.append(make_event(9))
    assert not log.verify().ok


def test_checkpoints_to_a_witness_file_and_hook(store_url, tmp_path):
    key = sm.Key.generate()
    witness_file = tmp_path / "other-storage" / "checkpoints.jsonl"
    witness_file.parent.mkdir()
    seen = []
    log = sm.AuditLog(store_url, key=key, witness=[witness_file, seen.append])
    for i in range(5):
        log.append(make_event(i))
    cps = load_checkpoints(witness_file)
    assert [c.seq for c in cps] == [1, 2, 3, 4, 5] and [c.seq for c in seen] == [1, 2, 3, 4, 5]
    assert all(isinstance(c, Checkpoint) and c.key_id == key.id and c.mac for c in cps)
    assert cps[-1].head_hash == log.verify().head_hash
    assert key.secret_bytes().hex() not in witness_file.read_text()
    assert all(c.verify_mac(key) for c in cps)
    assert not cps[-1].verify_mac(sm.Key.generate())
    ok = log.verify(checkpoints=cps)
    assert ok.ok and ok.checkpoints == 5, ok.summary()
    # the whole log deleted, head row included: the store alone looks like a new, empty log
    raw_sql(store_url, "DELETE FROM synthmark_audit")
    raw_sql(store_url, "DELETE FROM synthmark_audit_meta WHERE k = 'head'")
    assert log.verify().ok  # what no store can tell by itself (README: an external anchor is needed)
    res = log.verify(checkpoints=cps)
    assert not res.ok and res.bad_seq == 1 and "seq 5" in res.reason and "checkpoint" in res.reason, res.summary()
    keyfile = tmp_path / "k.key"
    key.save(keyfile)
    assert cli.main(["audit", "verify", "--store", store_url, "--key", str(keyfile),
                     "--checkpoint", str(witness_file)]) == 1
    assert cli.main(["audit", "verify", "--store", store_url, "--key", str(keyfile)]) == 0


def test_checkpoint_catches_a_rewritten_unsigned_chain(store_url, tmp_path):
    from synthmark.audit.chain import head_marker, record_hash

    log = sm.AuditLog(store_url)
    recs = [log.append(make_event(i)) for i in range(4)]
    cp = log.checkpoint()
    assert (cp.seq, cp.head_hash, cp.mac) == (4, recs[-1].hash, None)
    path = tmp_path / "cp.jsonl"
    path.write_text(cp.to_json() + "\n")
    # drop seq 4 and rewrite seq 3's body and hash, and the head marker: consistent without a key
    body = json.loads(recs[2].body)
    body["user_ref"] = "forged"
    h = record_hash(3, "event", recs[2].recorded_at, body, recs[1].hash)
    raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = 4")
    raw_sql(store_url, "UPDATE synthmark_audit SET body = ?, hash = ? WHERE seq = 3", (json.dumps(body), h))
    fake = sm.audit.AuditRecord(3, "event", "", "", "", "", "", h)
    raw_sql(store_url, "UPDATE synthmark_audit_meta SET v = ? WHERE k = 'head'", (head_marker(fake, None),))
    assert log.verify().ok
    res = log.verify(checkpoints=load_checkpoints(path))
    assert not res.ok and res.bad_seq == 4, res.summary()
    assert cli.main(["audit", "verify", "--store", store_url, "--checkpoint", str(path)]) == 1


def test_forged_checkpoint_and_bad_files(store_url, tmp_path, capsys):
    key = sm.Key.generate()
    log = sm.AuditLog(store_url, key=key)
    for i in range(3):
        log.append(make_event(i))
    cp = log.checkpoint()
    forged = json.loads(cp.to_json())
    forged["seq"] = 2
    res = log.verify(checkpoints=[Checkpoint.from_dict(forged)])
    assert not res.ok and "MAC" in res.reason, res.summary()
    for text in ("not json\n", '{"seq": 1}\n', ""):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(text)
        assert cli.main(["audit", "verify", "--store", store_url, "--checkpoint", str(bad)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("synthmark: error:") and "bad.jsonl" in err
    assert cli.main(["audit", "verify", "--store", store_url, "--checkpoint", str(tmp_path / "missing")]) == 2


def test_witness_failure_does_not_lose_the_record(store_url, tmp_path, caplog):
    def broken(cp):
        raise OSError("witness offline")

    log = sm.AuditLog(store_url, witness=broken)
    rec = log.append(make_event(1))
    assert log.get(rec.event_id) is not None and log.verify().ok
    assert "witness" in caplog.text and log.last_checkpoint_error is not None


def test_cli_checkpoint_then_verify(store_url, tmp_path, capsys):
    key = sm.Key.generate()
    keyfile = tmp_path / "k.key"
    key.save(keyfile)
    log = sm.AuditLog(store_url, key=key)
    for i in range(3):
        log.append(make_event(i))
    cps = tmp_path / "witness.jsonl"
    # e.g. a daily cron job on the labeling host, the file on other storage
    assert cli.main(["audit", "checkpoint", "--store", store_url, "--key", str(keyfile), "--to", str(cps)]) == 0
    assert cli.main(["audit", "checkpoint", "--store", store_url, "--key", str(keyfile)]) == 0
    printed = Checkpoint.from_dict(json.loads(capsys.readouterr().out))
    (saved,) = load_checkpoints(cps)
    assert (saved.seq, saved.head_hash) == (printed.seq, printed.head_hash) == (3, log.verify().head_hash)
    assert saved.verify_mac(key)
    assert cli.main(["audit", "verify", "--store", store_url, "--key", str(keyfile), "--checkpoint", str(cps)]) == 0
    assert "1 checkpoint(s) matched" in capsys.readouterr().out
    raw_sql(store_url, "DELETE FROM synthmark_audit WHERE seq = 3")
    raw_sql(store_url, "UPDATE synthmark_audit_meta SET v = ? WHERE k = 'head'", (json.dumps({"seq": 2}),))
    assert cli.main(["audit", "checkpoint", "--store", store_url, "--key", str(keyfile)]) == 2  # never blesses a cut
    assert cli.main(["audit", "verify", "--store", store_url, "--key", str(keyfile), "--checkpoint", str(cps)]) == 1
