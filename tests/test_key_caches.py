"""Module-level caches of keyed material (audio layouts, video layouts and rendered patterns) must
never serve one key's material to another key, even when the two share the public 8-byte id."""

from __future__ import annotations

import numpy as np

import synthmark as sm
from synthmark.watermark import audio as A
from synthmark.watermark import video as V

from . import media


def _same_id_keys():
    a = sm.Key(b"cache-test-key-a-0123456789abcdef")
    b = sm.Key(b"cache-test-key-b-0123456789abcdef")
    object.__setattr__(b, "_id", a.id)  # a 64-bit id collision (public ids can be ground for)
    assert a.id == b.id and a != b
    return a, b


def test_audio_layout_cache_is_keyed_by_the_secret():
    a, b = _same_id_keys()
    la = A._layout(a, 100)
    lb = A._layout(b, 100)
    assert la is not lb
    assert not np.array_equal(la.dither, lb.dither)
    assert A._layout(a, 100) is la  # still cached


def test_video_layout_and_pattern_caches_are_keyed_by_the_secret():
    a, b = _same_id_keys()
    assert V._Layout.for_key(a) is not V._Layout.for_key(b)
    frame = np.ascontiguousarray(media.luma(media.pan_zoom_clip("coffee", 640, 360, 1)[0]).astype(np.uint8))
    ma = sm.VideoWatermarker(a, 7).embed(frame.copy())
    mb = sm.VideoWatermarker(b, 7).embed(frame.copy())
    assert not np.array_equal(ma, mb)


def test_keyed_layouts_do_not_print_their_material():
    a, _ = _same_id_keys()
    lay = A._layout(a, 100)
    text = repr(lay) + str(lay)
    assert "dither" not in text and "array" not in text and str(lay.pg) in text
