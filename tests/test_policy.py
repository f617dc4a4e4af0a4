"""The host's compliance policy: user_ref and consent references, enforced before any work by
label_file, LiveSession and the CLI (labeling rules, section 5)."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import synthmark as sm
from synthmark import cli
from synthmark.errors import InvalidArgumentError, InvalidTypeError
from synthmark.policy import UNATTRIBUTED, UnattributedWarning
from synthmark.samples import make_clip


@pytest.fixture(autouse=True)
def _policy(monkeypatch):
    monkeypatch.delenv("SYNTHMARK_REQUIRE_USER_REF", raising=False)
    monkeypatch.delenv("SYNTHMARK_REQUIRE_CONSENT_FOR", raising=False)
    old = sm.set_policy(None)
    yield
    sm.set_policy(old)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("policy") / "c.mp4", seconds=0.4, width=160, height=128)


KEY = sm.Key.generate()


def _no_work(monkeypatch):
    import synthmark.io.transcode as tc

    def boom(*a, **k):
        raise AssertionError("work started")

    monkeypatch.setattr(tc, "transcode", boom)
    monkeypatch.setattr(tc, "probe", boom)


def test_default_policy_follows_the_rules():
    p = sm.get_policy()
    assert p.require_user_ref is True and p.require_consent_for == {"face", "voice"}


def test_audited_job_without_user_ref_is_refused_before_work(clip, tmp_path, monkeypatch):
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    _no_work(monkeypatch)
    with pytest.raises(InvalidArgumentError, match="user_ref: required"):
        sm.label_file(clip, tmp_path / "o.mp4", key=KEY, producer="ACME", content_id="c-1", audit=log)
    assert list(log.records()) == [] and not (tmp_path / "o.mp4").exists()


def test_producer_is_never_recorded_as_user(clip, tmp_path):
    sm.set_policy(sm.Policy(require_user_ref=False))
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    with pytest.warns(UnattributedWarning, match="no user_ref"):
        report = sm.label_file(clip, tmp_path / "o.mp4", key=KEY, producer="ACME", content_id="c-1", audit=log)
    (rec,) = list(log.records())
    assert rec.event.user_ref == UNATTRIBUTED != "ACME"
    assert any("no user_ref" in n for n in report.notes)


def test_given_user_ref_recorded_and_unaudited_jobs_need_none(clip, tmp_path):
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    sm.label_file(clip, tmp_path / "o.mp4", key=KEY, producer="ACME", content_id="c-1", audit=log, user_ref="u-7")
    assert [r.event.user_ref for r in log.records()] == ["u-7"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sm.label_file(clip, tmp_path / "p.mp4", key=KEY, producer="ACME", content_id="c-2")  # nothing recorded


@pytest.mark.parametrize("edits", [{"face"}, ["voice"], "face", {"Face", "scene"}])
def test_face_or_voice_edit_without_consent_is_refused_before_work(clip, tmp_path, monkeypatch, edits):
    _no_work(monkeypatch)
    with pytest.raises(InvalidArgumentError, match="consent_ref: required"):
        sm.label_file(clip, tmp_path / "o.mp4", key=KEY, producer="ACME", content_id="c-1", edits=edits)
    with pytest.raises(InvalidArgumentError, match="consent_ref: required"):
        sm.LiveSession(KEY, user_ref="u", content_id="live", edits=edits)
    assert os.listdir(tmp_path) == []


def test_consent_recorded_with_the_edit(clip, tmp_path):
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    sm.label_file(clip, tmp_path / "o.mp4", key=KEY, producer="ACME", content_id="c-1", audit=log, user_ref="u",
                  edits={"face", "scene"}, consent_ref="consent-42")
    (rec,) = list(log.records())
    assert rec.event.consent_ref == "consent-42" and rec.event.host["edits"] == ["face", "scene"]
    # an edit the policy does not list needs no consent
    sm.label_file(clip, tmp_path / "p.mp4", key=KEY, producer="ACME", content_id="c-2", edits={"scene"})


def test_host_policy_and_environment(clip, tmp_path, monkeypatch):
    sm.set_policy(sm.Policy(require_consent_for={"face", "voice", "body"}))
    with pytest.raises(InvalidArgumentError, match="body"):
        sm.label_file(clip, tmp_path / "o.mp4", key=KEY, producer="A", content_id="c", edits={"body"})
    sm.set_policy(None)
    monkeypatch.setenv("SYNTHMARK_REQUIRE_CONSENT_FOR", "")
    monkeypatch.setenv("SYNTHMARK_REQUIRE_USER_REF", "0")
    p = sm.get_policy()
    assert p.require_user_ref is False and p.require_consent_for == frozenset()
    monkeypatch.setenv("SYNTHMARK_REQUIRE_USER_REF", "maybe")
    with pytest.raises(InvalidArgumentError, match="SYNTHMARK_REQUIRE_USER_REF"):
        sm.get_policy()
    with pytest.raises(InvalidTypeError):
        sm.Policy(require_user_ref="yes")
    with pytest.raises(InvalidTypeError):
        sm.Policy(require_consent_for=[1])
    with pytest.raises(InvalidTypeError):
        sm.set_policy({"require_user_ref": False})


def test_live_session_user_ref(tmp_path):
    log = sm.AuditLog(f"sqlite:///{tmp_path}/a.db")
    with pytest.raises(InvalidArgumentError, match="user_ref: required"):
        sm.LiveSession(KEY, content_id="live-1", audit=log)
    sm.set_policy(sm.Policy(require_user_ref=False))
    with pytest.warns(UnattributedWarning):
        live = sm.LiveSession(KEY, content_id="live-1", audit=log, edits={"voice"}, consent_ref="c-9")
    with live:
        live.mark_frame(np.zeros((128, 160, 3), np.uint8), 0.0)
    start = list(log.records())[0].event
    assert start.user_ref == UNATTRIBUTED and start.consent_ref == "c-9" and start.host["edits"] == ["voice"]


def test_cli_policy(clip, tmp_path, capsys, monkeypatch):
    keyfile = tmp_path / "k.key"
    KEY.save(keyfile)
    url = f"sqlite:///{tmp_path}/a.db"
    base = ["label", clip, "--key", str(keyfile), "--producer", "ACME", "--content-id", "c-1", "--audit", url, "-q"]
    assert cli.main(base[:2] + [str(tmp_path / "o.mp4")] + base[2:]) == 2
    err = capsys.readouterr().err
    assert "user_ref: required" in err and "--user-ref" in err and not (tmp_path / "a.db").exists()
    assert cli.main(base[:2] + [str(tmp_path / "o.mp4")] + base[2:] + ["--user-ref", "u-1", "--edits", "face"]) == 2
    assert "consent" in capsys.readouterr().err and not (tmp_path / "o.mp4").exists()
    assert cli.main(base[:2] + [str(tmp_path / "o.mp4")] + base[2:] + ["--user-ref", "u-1", "--edits", "face",
                                                                         "--consent-ref", "cons-1"]) == 0
    monkeypatch.setenv("SYNTHMARK_REQUIRE_USER_REF", "0")
    assert cli.main(base[:2] + [str(tmp_path / "p.mp4")] + base[2:]) == 0
    assert "synthmark: warning: no user_ref" in capsys.readouterr().err
    with sm.AuditLog(url, read_only=True) as log:
        events = [r.event for r in log.records()]
    assert [(e.user_ref, e.consent_ref) for e in events] == [("u-1", "cons-1"), (UNATTRIBUTED, None)]
