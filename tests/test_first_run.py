"""First-run experience: a light import, and a visible note while the kernels compile."""

from __future__ import annotations

import io
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


def _fresh_kernel():
    """A kernel no cache holds (made anew each call), so calling it compiles."""
    import numba

    @numba.njit(cache=False, nogil=True)
    def k(x):
        return x + 1

    return k


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_compile_notice_on_a_pipe():
    from synthmark._progress import CompileNotice, StatusLine

    out = io.StringIO()
    with CompileNotice(StatusLine(out)):
        _fresh_kernel()(1)
        _fresh_kernel()(2.0)
    lines = out.getvalue().splitlines()
    assert lines[0] == "synthmark: compiling kernels (first run only)..."
    assert lines[1].startswith("synthmark: compiled 2 kernels in ") and "later runs load them from the cache" in lines[1]
    out = io.StringIO()
    k = _fresh_kernel()
    k(1)
    with CompileNotice(StatusLine(out)):
        k(3)  # already compiled: nothing to say
    assert out.getvalue() == ""


def test_compile_notice_on_a_terminal_updates_the_status_line():
    from synthmark._progress import CompileNotice, ProgressBar, StatusLine

    out = _Tty()
    line = StatusLine(out)
    bar = ProgressBar("labeling", line)
    with CompileNotice(line):
        bar(0.36)
        _fresh_kernel()(1)
        bar(0.5)
    bar.close()
    text = out.getvalue()
    assert "\rlabeling [" in text and "compiling kernels (first run only)... 1 compiled" in text
    assert "synthmark: compiled 1 kernel in " in text and text.endswith("\n")


def test_cli_commands_show_the_notice(tmp_path, capsys, monkeypatch):
    import synthmark.pipeline
    import synthmark.warmup
    from synthmark import cli

    def compiling_warm_up(*a, progress=None, **k):
        _fresh_kernel()(1)
        progress("video", 0.1)
        return {"video": 0.1}

    monkeypatch.setattr(synthmark.warmup, "warm_up", compiling_warm_up)
    assert cli.main(["warmup"]) == 0
    out = capsys.readouterr().out
    assert "compiling kernels (first run only)" in out and "compiled 1 kernel" in out and "video" in out

    def compiling_label(*a, **k):
        _fresh_kernel()(1)
        raise sm.errors.MediaError("stop here")

    monkeypatch.setattr(synthmark.pipeline, "label_file", compiling_label)
    key = tmp_path / "k.key"
    sm.Key.generate().save(key)
    argv = ["label", str(tmp_path / "in.mp4"), str(tmp_path / "o.mp4"), "--key", str(key), "--producer", "P",
            "--content-id", "c", "--no-audit"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "compiling kernels (first run only)" in err and "compiled 1 kernel" in err
    assert cli.main(argv + ["-q"]) == 2
    assert "compiling" not in capsys.readouterr().err
