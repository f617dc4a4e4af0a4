"""Temporary-file sweeping must never remove a file whose owner may still run: processes in another
PID namespace (containers sharing a volume and a hostname) see other pids, so their files are not ours
to judge."""

from __future__ import annotations

from synthmark.io import atomic


def test_temps_of_another_pid_namespace_are_left_alone(tmp_path, monkeypatch):
    dst = tmp_path / "out.mp4"
    monkeypatch.setattr(atomic, "_pid_namespace", lambda: "pid:[4026532001]")
    theirs = atomic.temp_path_for(dst)  # written by a process of container A
    monkeypatch.setattr(atomic, "_pid_namespace", lambda: "pid:[4026532002]")
    monkeypatch.setattr(atomic, "proc_start", lambda pid: None)  # container B cannot see A's pid
    assert atomic.sweep_stale_temps(dst) == []
    assert theirs.exists()
    monkeypatch.setattr(atomic, "_pid_namespace", lambda: "pid:[4026532001]")
    assert atomic.sweep_stale_temps(dst) == [theirs]  # seen from A's namespace its owner is gone
    assert not theirs.exists()
