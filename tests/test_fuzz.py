"""Short fuzz run (hypothesis, ~30-60 s): mutated files through every reader and random arrays through
the public array API must return or raise a SynthmarkError, within a time limit. The long run is
bench/fuzz_long.py (see tests/README.md); the harness is tests/fuzzing.py."""

from __future__ import annotations

import contextlib
import random
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import fuzzing as fz

#: seconds one example may take before it counts as a hang
HANG_SECONDS = 30

_SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))


class Hang(Exception):
    """Not a SynthmarkError: fails the example."""


@contextlib.contextmanager
def time_limit(seconds: int):
    def alarm(_signum, _frame):
        raise Hang(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return fz.build_corpus(tmp_path_factory.mktemp("fuzz_corpus"))


_OP = st.tuples(st.sampled_from(fz.OPS), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
_SEEDS = st.integers(0, 10**6)


def _mutant(corpus, pick: int, ops, donor: int) -> tuple[str, bytes]:
    names = sorted(corpus)
    name = names[pick % len(names)]
    return name, fz.apply_ops(corpus[name], ops, donor=corpus[names[donor % len(names)]])


@settings(max_examples=2000, **_SETTINGS)
@given(pick=_SEEDS, ops=st.lists(_OP, min_size=1, max_size=6), donor=_SEEDS)
def _readers(corpus, work, pick, ops, donor):
    name, data = _mutant(corpus, pick, ops, donor)
    path = fz.write_input(data, work, name)
    with time_limit(HANG_SECONDS):
        for target in ("read_record", "inspect"):
            fz.run_file_target(target, path, work)


def test_fuzz_read_record_and_inspect(corpus, tmp_path):
    _readers(corpus, tmp_path)


@settings(max_examples=250, **_SETTINGS)
@given(pick=_SEEDS, ops=st.lists(_OP, min_size=1, max_size=4), donor=_SEEDS,
       target=st.sampled_from(("inspect_key", "label")))
def _heavy(corpus, work, pick, ops, donor, target):
    name, data = _mutant(corpus, pick, ops, donor)
    path = fz.write_input(data, work, name)
    with time_limit(HANG_SECONDS):
        fz.run_file_target(target, path, work)


def test_fuzz_inspect_with_key_and_label_file(corpus, tmp_path):
    _heavy(corpus, tmp_path)


@settings(max_examples=1000, **_SETTINGS)
@given(target=st.sampled_from(fz.ARRAY_TARGETS), seed=st.integers(0, 2**64 - 1))
def test_fuzz_array_api(target, seed):
    with time_limit(HANG_SECONDS):
        fz.run_array_target(target, random.Random(seed))


def test_mutations_replay_and_reach_past_checksums(corpus):
    """The ops are a pure function of their input (a finding replays), and PNG/Ogg CRCs are fixed up so
    mutants reach the chunk and page parsers."""
    import zlib

    ops = [("u32", 40, 12), ("flip", 100, 3), ("insert", 7, 99)]
    for name in ("still.png", "tone.ogg"):
        a = fz.apply_ops(corpus[name], ops)
        assert a == fz.apply_ops(corpus[name], ops) and a != corpus[name]
    png = fz.apply_ops(corpus["still.png"], [("byte", 20, 4)])  # inside IHDR
    assert png[29:33] == zlib.crc32(png[12:29]).to_bytes(4, "big")
