"""Label compositing speed: _core vs a NumPy implementation of the same blend (same group, equal output asserted).

Target (issue 4): <= 0.3 ms per 1080p frame. The label is the default "AI生成" at 5% of 1080 = 54 px glyphs.

    PYTHONPATH=src python -m pytest bench/test_bench_labels.py --benchmark-columns=min,median,mean,ops
"""

from __future__ import annotations

import numpy as np
import pytest

import synthmark as sm
from synthmark import _core

from tests import label_reference as ref  # the NumPy oracle; run from the repository root

H, W = 1080, 1920


@pytest.fixture(scope="module")
def label():
    vl = sm.VisibleLabel()
    rendered, x, y = vl.layout(W, H)
    assert rendered.glyph_height >= 54
    return rendered, x, y


@pytest.fixture(scope="module")
def rgb():
    return np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)


@pytest.mark.parametrize("impl", ["core", "numpy"])
def test_bench_composite_rgb24_1080p(benchmark, impl, label, rgb):
    benchmark.group = "label composite, 1080p rgb24 (in place)"
    r, x, y = label
    tc, bc = [255, 255, 255], [0, 0, 0]
    fn = _core.composite_packed if impl == "core" else ref.composite_packed
    expected = rgb.copy()
    ref.composite_packed(expected, r.text, r.box, x, y, tc, bc)
    once = rgb.copy()
    fn(once, r.text, r.box, x, y, tc, bc)
    np.testing.assert_array_equal(once, expected)
    frame = rgb.copy()
    benchmark(fn, frame, r.text, r.box, x, y, tc, bc)
    assert (frame != rgb).any()


@pytest.mark.parametrize("impl", ["core", "numpy"])
def test_bench_composite_yuv420p_1080p(benchmark, impl, label):
    benchmark.group = "label composite, 1080p yuv420p (in place, 3 planes)"
    r, x, y = label
    rng = np.random.default_rng(1)
    planes = [rng.integers(0, 256, s, dtype=np.uint8) for s in ((H, W), (H // 2, W // 2), (H // 2, W // 2))]
    tyuv, byuv = [235, 128, 128], [16, 128, 128]
    fn = _core.composite_yuv420p if impl == "core" else ref.composite_yuv420p
    expected = [p.copy() for p in planes]
    ref.composite_yuv420p(*expected, r.text, r.box, x, y, tyuv, byuv)
    once = [p.copy() for p in planes]
    fn(*once, r.text, r.box, x, y, tyuv, byuv)
    for a, b in zip(once, expected):
        np.testing.assert_array_equal(a, b)
    work = [p.copy() for p in planes]
    benchmark(fn, *work, r.text, r.box, x, y, tyuv, byuv)
    assert (work[0] != planes[0]).any()


@pytest.mark.parametrize("impl", ["core", "numpy"])
def test_bench_label_apply_1080p_frame(benchmark, impl, rgb):
    """Whole VisibleLabel.apply (layout lookup from the cache + composite) on an ndarray frame."""
    benchmark.group = "VisibleLabel.apply, 1080p rgb24"
    vl = sm.VisibleLabel()
    frame = rgb.copy()
    if impl == "core":
        benchmark(vl.apply, frame, 0.0)
    else:
        r, x, y = vl.layout(W, H)
        benchmark(lambda: (vl.needs_label(0.0), ref.composite_packed(frame, r.text, r.box, x, y, [255] * 3, [0] * 3)))
    assert (frame != rgb).any()
