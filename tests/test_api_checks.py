"""Public array/stream API on wrong types and sizes: synthmark errors (that subclass the builtin), never a
bare TypeError, a silent pass or a huge allocation."""

from __future__ import annotations

import numpy as np
import pytest

import synthmark as sm
from synthmark import _core
from synthmark.errors import InvalidArgumentError, InvalidTypeError, SynthmarkError

KEY = sm.Key.from_bytes(bytes(range(32)))


def _frame(h=128, w=160):
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("value", ["x", None, True, [1e-6], 0.0, 1.0, float("nan")])
def test_detect_frames_threshold(value):
    with pytest.raises(SynthmarkError, match="false_alarm_threshold") as exc:
        sm.detect_frames([_frame()], key=KEY, false_alarm_threshold=value)
    assert isinstance(exc.value, (TypeError, ValueError))
    if isinstance(value, (str, list)) or value is None or value is True:
        assert isinstance(exc.value, InvalidTypeError)


def test_detect_frames_threshold_numbers_accepted():
    for value in (1e-3, np.float64(1e-3), np.float32(0.5)):
        assert sm.detect_frames([_frame()], key=KEY, false_alarm_threshold=value).found is False


@pytest.mark.parametrize("frames", [5, 3.5, None, object(), "frames", b"\x00" * 10])
def test_non_iterable_frames(frames):
    # checked at the call: watermark_frames returns an iterator, but does not wait for the first next()
    with pytest.raises(InvalidTypeError, match="frames"):
        sm.watermark_frames(frames, key=KEY, payload=1)
    with pytest.raises(InvalidTypeError, match="frames"):
        sm.detect_frames(frames, key=KEY)


def test_watermark_frames_checks_key_at_the_call():
    with pytest.raises(InvalidTypeError, match="key"):
        sm.watermark_frames([_frame()], key="not a key", payload=1)
    out = list(sm.watermark_frames(iter([_frame()]), key=KEY, payload=1))
    assert len(out) == 1 and out[0].shape == (128, 160, 3)


# 2**31 - 1 (8.5 GB before the bound) is left out: a stale build of _core would allocate it
@pytest.mark.parametrize("n", [2**24 + 1, 2**25, 2**31, 2**63, 10**30, -1])
def test_permutation_size_bound(n):
    ks = _core.KeyedStreams(b"k" * 32)
    with pytest.raises(InvalidArgumentError, match="n: must be in"):
        ks.permutation("p", n)


@pytest.mark.parametrize("n", ["10", 10.0, True, None])
def test_permutation_size_type(n):
    with pytest.raises(InvalidTypeError, match="n"):
        _core.KeyedStreams(b"k" * 32).permutation("p", n)


def test_permutation_numpy_int_accepted():
    p = _core.KeyedStreams(b"k" * 32).permutation("p", np.int64(100))
    assert np.array_equal(np.sort(p), np.arange(100))


def _bad_arrays():
    ro = _frame()
    ro.flags.writeable = False
    return {
        "read-only": (ro, InvalidArgumentError),
        "complex": (_frame().astype(np.complex64), InvalidTypeError),
        "object": (_frame().astype(object), InvalidTypeError),
        "5-D": (np.zeros((2, 2, 8, 8, 3), np.uint8), InvalidArgumentError),
        "2 channels": (np.zeros((64, 64, 2), np.uint8), InvalidArgumentError),
        "list": ([[0, 0], [0, 0]], InvalidTypeError),
    }


@pytest.mark.parametrize("name", list(_bad_arrays()))
@pytest.mark.parametrize("t", [None, 0.5, 1e300, 100.0])
def test_visible_label_checks_frame_whatever_the_schedule(name, t):
    arr, exc = _bad_arrays()[name]
    with pytest.raises(exc):
        sm.VisibleLabel().apply(arr, t=t)


def test_visible_label_skipped_frame_untouched():
    f = _frame(240, 320)
    before = f.copy()
    assert sm.VisibleLabel().apply(f, t=1e300) is f and np.array_equal(f, before)
    sm.VisibleLabel().apply(f, t=0.0)
    assert not np.array_equal(f, before)
