"""warm_up / `synthmark warmup`: every code path runs once; bad rates are refused."""

from __future__ import annotations

import pytest

import synthmark as sm
from synthmark.cli import main
from synthmark.errors import InvalidArgumentError


def test_warm_up_runs_each_step_and_reports_it():
    seen = []
    timings = sm.warm_up([16000, 44100], progress=lambda name, s: seen.append(name))
    assert list(timings) == ["video", "audio 16000 Hz", "audio 44100 Hz"] == seen
    assert all(s >= 0.0 for s in timings.values())


def test_warm_up_refuses_unsupported_rates():
    with pytest.raises(InvalidArgumentError, match="11025"):
        sm.warm_up([11025])


def test_cli_warmup(capsys):
    assert main(["warmup", "--rates", "48000"]) == 0
    out = capsys.readouterr().out
    assert "audio 48000 Hz" in out and "total" in out
    assert main(["warmup", "--rates", "12345"]) == 2
    assert "12345" in capsys.readouterr().err
