"""First-run experience: a light import, and a visible note while the kernels compile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import synthmark as sm

SRC = str(Path(sm.__file__).resolve().parent.parent)


def _py(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=SRC, **env),
                          capture_output=True, text=True, timeout=300)


def test_import_does_not_pull_in_scipy_signal_or_stats():
    # scipy.signal (and the scipy.stats it imports) took ~1.5 of ~3 s of 'import synthmark'
    run = _py("import sys, synthmark; print(sorted(m for m in sys.modules if m.startswith(('scipy.signal', 'scipy.stats'))))")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
