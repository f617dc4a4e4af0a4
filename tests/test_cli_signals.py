"""'synthmark label' stopped by SIGTERM or SIGHUP (a service manager, a closed terminal) cleans up as
on SIGINT: no temporary .part file and nothing under the final name; exit status 128 + signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import synthmark as sm
from synthmark import samples


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return samples.make_clip(tmp_path_factory.mktemp("sig") / "long.mp4", seconds=6.0, width=320, height=240)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_during_label_leaves_nothing(sig, long_clip, tmp_path):
    keyfile = tmp_path / "k.key"
    sm.Key.generate().save(keyfile)
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-m", "synthmark", "label", long_clip, str(out / "labeled.mp4"),
                             "--key", str(keyfile), "--producer", "ACME", "--content-id", "sig",
                             "--audit", str(tmp_path / "audit.db"), "--user-ref", "u"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any(".part" in p.name for p in out.iterdir()):  # the transcode has started
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and err.strip().endswith(("terminated (SIGTERM)", "terminated (SIGHUP)", "interrupted"))
    assert list(out.iterdir()) == []
    with sm.AuditLog(tmp_path / "audit.db", read_only=True) as log:
        assert log.verify().ok and not log.pending()
