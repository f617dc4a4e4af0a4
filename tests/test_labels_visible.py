"""Visible labels: measured glyph height at many resolutions, schedule on VFR timestamps, pixel formats."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest

import synthmark as sm
from synthmark import _core
from synthmark.errors import FrameTooSmallError, InvalidArgumentError, InvalidTypeError
from synthmark.labels.visible import MIN_GLYPH_PX, plane_view

SIZES = [(20, 39), (21, 40), (31, 47), (64, 64), (97, 131), (240, 320), (481, 853), (1080, 1920), (1920, 1080), (2160, 3840)]


def ink_bbox(before: np.ndarray, after: np.ndarray, thresh: int = 128):
    """Bounding box (y0, x0, y1, x1) of pixels that changed by >= thresh (the glyph ink on black)."""
    d = np.abs(after.astype(np.int16) - before.astype(np.int16))
    d = d.max(axis=2) if d.ndim == 3 else d
    ys, xs = np.nonzero(d >= thresh)
    assert ys.size, "nothing changed"
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


@pytest.mark.parametrize("h,w", SIZES)
def test_measured_glyph_height_is_at_least_5_percent(h, w):
    frame = np.zeros((h, w, 3), np.uint8)  # black: box and outline are invisible, only glyphs change
    out = sm.label_image(frame)
    y0, x0, y1, x1 = ink_bbox(frame, out)
    glyph = y1 - y0
    need = max(MIN_GLYPH_PX, math.ceil(0.05 * min(h, w)))
    assert need <= glyph <= need + 2, (glyph, need)
    assert y0 > 0 and x0 > 0 and y1 < h and x1 < w  # inside the frame, with a margin
    assert not frame.any()  # label_image copies


@pytest.mark.parametrize("ratio", [0.05, 0.08, 0.2])
def test_configurable_ratio_upward_and_white_background_box(ratio):
    frame = np.full((360, 640, 3), 255, np.uint8)
    out = sm.label_image(frame, min_height_ratio=ratio, position="bottom-right")
    y0, x0, y1, x1 = ink_bbox(frame, out, thresh=60)  # the backing box darkens a white frame
    assert y1 <= 360 - 7 and x1 <= 640 - 7 and y0 > 180 and x0 > 320
    assert (y1 - y0) >= math.ceil(ratio * 360)
    # the glyphs stay white on the dark box: legible on white
    assert out[y0:y1, x0:x1].min() < 60 and (out[y0:y1, x0:x1] == 255).all(axis=2).sum() > 0


@pytest.mark.parametrize("position", ["top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom"])
def test_positions(position):
    h, w = 201, 303
    out = sm.label_image(np.zeros((h, w, 3), np.uint8), position=position)
    y0, x0, y1, x1 = ink_bbox(np.zeros((h, w, 3), np.uint8), out)
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    assert (cy < h / 2) == position.startswith("top")
    if position in ("top", "bottom"):
        assert abs(cx - w / 2) < 3
    else:
        assert (cx < w / 2) == position.endswith("left")


@pytest.mark.parametrize("shape", [(7, 7, 3), (19, 100, 3), (100, 30, 3), (1, 1, 3)])
def test_too_small_frames_raise(shape):
    with pytest.raises(FrameTooSmallError, match="too small"):
        sm.label_image(np.zeros(shape, np.uint8))


def test_long_text_in_narrow_portrait_raises_but_short_text_fits():
    frame = np.zeros((1000, 60, 3), np.uint8)
    with pytest.raises(FrameTooSmallError):
        sm.label_image(frame, text="人工智能生成合成")
    sm.label_image(frame, text="AI生成")


def test_bad_inputs():
    with pytest.raises(InvalidArgumentError, match="no glyph"):
        sm.VisibleLabel(text="AI生成 ✓")
    with pytest.raises(InvalidArgumentError, match="no glyph"):
        sm.VisibleLabel(text="机器生成")  # 机/器 are not in the bundled subset
    with pytest.raises(InvalidArgumentError, match="min_height_ratio"):
        sm.VisibleLabel(min_height_ratio=0.01)
    with pytest.raises(InvalidArgumentError, match="2.0 s"):
        sm.VisibleLabel(duration=1.5)
    with pytest.raises(InvalidArgumentError, match="position"):
        sm.VisibleLabel(position="middle")
    label = sm.VisibleLabel()
    with pytest.raises(InvalidTypeError, match="uint8"):
        label.apply(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(InvalidArgumentError, match="pixel_format"):
        label.apply(np.zeros((100, 100, 3), np.uint8), pixel_format="yuv444p")
    with pytest.raises(InvalidArgumentError, match="channels"):
        label.apply(np.zeros((100, 100, 3), np.uint8), pixel_format="rgba")
    ro = np.zeros((100, 100, 3), np.uint8)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        label.apply(ro)
    with pytest.raises(InvalidArgumentError, match="not supported"):
        label.apply(av.VideoFrame(100, 100, "yuv444p"))
    with pytest.raises(InvalidTypeError):
        label.apply([[0]])


def test_core_boundary_rejects_without_copying():
    masks = np.zeros((4, 4), np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        _core.composite_packed(np.zeros((8, 8, 3), np.float32), masks, masks, 0, 0, [1, 2, 3], [1, 2, 3])
    ro = np.zeros((8, 8, 3), np.uint8)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _core.composite_packed(ro, masks, masks, 0, 0, [1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="3 values"):
        _core.composite_packed(np.zeros((8, 8, 3), np.uint8), masks, masks, 0, 0, [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="chroma plane must be"):
        _core.composite_yuv420p(
            np.zeros((8, 8), np.uint8), np.zeros((4, 3), np.uint8), np.zeros((4, 4), np.uint8), masks, masks, 0, 0, [1, 2, 3], [1, 2, 3]
        )
    # a strided (padded) view is written in place
    big = np.zeros((8, 16, 3), np.uint8)
    view = big[:, :9]
    _core.composite_packed(view, np.full((4, 4), 255, np.uint8), masks, 7, 2, [9, 9, 9], [0, 0, 0])
    assert (big[2:6, 7:9] == 9).all() and not big[:, 9:].any() and not big[:2].any()


def test_schedule_covers_two_seconds_on_variable_frame_rate():
    rng = np.random.default_rng(7)
    gaps = rng.choice([1 / 60, 1 / 30, 1 / 24, 0.1, 0.25], size=200)
    ts = np.concatenate([[0.0], np.cumsum(gaps)])
    total = float(ts[-1] + 0.05)
    for schedule in ("start", "start+end", "persistent"):
        label = sm.VisibleLabel(schedule=schedule)
        flags = [label.needs_label(t, duration=total, t_end=t_next) for t, t_next in zip(ts, list(ts[1:]) + [total])]
        ends = list(ts[1:]) + [total]
        covered = [(t, e) for t, e, f in zip(ts, ends, flags) if f]
        # the labeled frames are on screen without interruption from t = 0 for at least 2 s
        shown = 0.0
        for t, e in covered:
            if t > shown + 1e-12:
                break
            shown = e
        assert shown >= 2.0
        if schedule == "start":
            assert not any(f for t, f in zip(ts, flags) if t >= 2.0)
            assert sum(flags) < len(ts) / 2
        if schedule == "start+end":
            tail = [(t, e) for (t, e) in covered if e > total - 2.0]
            assert tail[0][0] <= total - 2.0 and tail[-1][1] == total
        if schedule == "persistent":
            assert all(flags)
    label = sm.VisibleLabel(schedule="start+end")
    with pytest.raises(InvalidArgumentError, match="duration"):
        label.needs_label(5.0)
    # apply honours t
    frame = np.zeros((120, 160, 3), np.uint8)
    sm.VisibleLabel().apply(frame, t=2.5)
    assert not frame.any()
    sm.VisibleLabel(duration=3.0).apply(frame, t=2.5)
    assert frame.any()


def _av_frame(rgb: np.ndarray, fmt: str, padded: bool) -> av.VideoFrame:
    h, w = rgb.shape[:2]
    f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)
    if padded:
        assert f.planes[0].line_size > f.planes[0].width * (3 if fmt == "rgb24" else 1) or w % 32 == 0
    return f


@pytest.mark.parametrize("h,w", [(99, 171), (240, 320), (37, 57)])
def test_nv12_yuv420p_rgb_give_the_same_visible_result(h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 255 // max(1, w - 1)), (yy * 255 // max(1, h - 1)), np.full_like(xx, 90)], axis=2).astype(np.uint8)
    ref = sm.label_image(rgb)
    results = {}
    for fmt in ("yuv420p", "nv12", "rgb24", "bgr24"):
        # from_ndarray may wrap `rgb` and to_ndarray may return a view of the plane: copy both ways
        frame = av.VideoFrame.from_ndarray(rgb.copy(), format="rgb24").reformat(format=fmt)
        unlabeled = frame.to_ndarray(format="rgb24").copy()
        sm.VisibleLabel().apply(frame)
        labeled = frame.to_ndarray(format="rgb24").copy()
        results[fmt] = (unlabeled, labeled)
    for fmt, (unlabeled, labeled) in results.items():
        # compare the change the label made, so the format conversion error of the background cancels
        diff = labeled.astype(int) - ref.astype(int)
        base = unlabeled.astype(int) - rgb.astype(int)
        err = np.abs(diff - base)
        assert err.mean() < 1.5, (fmt, err.mean())
        assert np.percentile(err, 99) < 40, (fmt, np.percentile(err, 99))
        if fmt in ("rgb24", "bgr24"):
            assert (labeled == ref).all()
        a, b = ink_bbox(unlabeled, labeled, 128), ink_bbox(rgb, ref, 128)
        assert max(abs(i - j) for i, j in zip(a, b)) <= 1, (fmt, a, b)


def test_av_planes_with_padded_linesize_are_modified_in_place():
    for fmt in ("yuv420p", "yuvj420p", "nv12", "rgb24", "rgba", "gray"):
        frame = av.VideoFrame(101, 75, fmt)  # odd sizes: PyAV pads every row
        for p in frame.planes:
            arr = np.frombuffer(p, np.uint8)
            arr[...] = 7
        assert frame.planes[0].line_size > frame.planes[0].width * len(fmt.replace("24", "")[:1])  # padding present
        y = plane_view(frame.planes[0], 75, 101, 1 if fmt in ("yuv420p", "yuvj420p", "nv12", "gray") else (4 if fmt == "rgba" else 3))
        before_ptr = y.__array_interface__["data"][0]
        sm.VisibleLabel().apply(frame, t=0.0)
        y2 = plane_view(frame.planes[0], 75, 101, y.shape[2] if y.ndim == 3 else 1)
        assert y2.__array_interface__["data"][0] == before_ptr
        assert (y2 != 7).any()
        raw = np.frombuffer(frame.planes[0], np.uint8)
        ls = frame.planes[0].line_size
        rows = raw[: ls * 75].reshape(75, ls)
        assert (rows[:, y.shape[1] * (y.shape[2] if y.ndim == 3 else 1):] == 7).all(), fmt  # padding untouched


def test_gray_and_rgba_arrays():
    g = np.zeros((120, 200), np.uint8)
    sm.VisibleLabel().apply(g)
    assert g.max() == 255
    rgba = np.zeros((120, 200, 4), np.uint8)
    sm.VisibleLabel().apply(rgba)
    assert rgba[..., 3].max() == 255 and rgba[..., 3].min() == 0
    bgr = np.zeros((120, 200, 3), np.uint8)
    sm.VisibleLabel(text_color=(255, 0, 0)).apply(bgr, pixel_format="bgr24")
    assert bgr[..., 2].max() == 255 and bgr[..., 0].max() == 0


def test_user_font_file(tmp_path):
    from synthmark.labels._render import DEFAULT_FONT

    font = tmp_path / "mine.otf"
    font.write_bytes(DEFAULT_FONT.read_bytes())
    out = sm.label_image(np.zeros((200, 300, 3), np.uint8), font=str(font), text="人工智能生成合成")
    assert out.any()
    with pytest.raises(InvalidArgumentError, match="no such font"):
        sm.VisibleLabel(font=str(tmp_path / "missing.ttf"))


@pytest.mark.parametrize("h,w,x,y", [(37, 53, 3, 4), (37, 53, -5, 30), (40, 41, 30, -7), (9, 9, 0, 0), (64, 100, 1, 1)])
def test_core_blend_matches_numpy_reference_bit_for_bit(h, w, x, y):
    from .label_reference import composite_packed as ref_packed, composite_yuv420p as ref_yuv

    rng = np.random.default_rng(h * w + x)
    text = rng.integers(0, 256, (17, 23), dtype=np.uint8)
    box = rng.integers(0, 256, (17, 23), dtype=np.uint8)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    a, b = frame.copy(), frame.copy()
    _core.composite_packed(a, text, box, x, y, [250, 10, 128], [5, 200, 60])
    ref_packed(b, text, box, x, y, [250, 10, 128], [5, 200, 60])
    np.testing.assert_array_equal(a, b)
    planes = [rng.integers(0, 256, s, dtype=np.uint8) for s in ((h, w), ((h + 1) // 2, (w + 1) // 2), ((h + 1) // 2, (w + 1) // 2))]
    mine = [p.copy() for p in planes]
    ref = [p.copy() for p in planes]
    _core.composite_yuv420p(*mine, text, box, x, y, [235, 100, 200], [16, 128, 128])
    ref_yuv(*ref, text, box, x, y, [235, 100, 200], [16, 128, 128])
    for m, r in zip(mine, ref):
        np.testing.assert_array_equal(m, r)
    # NV12 = YUV420P with U and V interleaved
    uv = np.ascontiguousarray(np.stack(planes[1:], axis=2))
    y2 = planes[0].copy()
    _core.composite_nv12(y2, uv, text, box, x, y, [235, 100, 200], [16, 128, 128])
    np.testing.assert_array_equal(y2, ref[0])
    np.testing.assert_array_equal(uv[..., 0], ref[1])
    np.testing.assert_array_equal(uv[..., 1], ref[2])


def test_watermark_still_detected_with_the_label_present():
    """Issue 4: the visible label goes on before the watermark, and the watermark still reads back."""
    key = sm.Key.from_bytes(bytes(range(32)))
    payload = 0x1234_5678_9ABC_DEF0
    rng = np.random.default_rng(5)
    base = rng.integers(40, 215, (45, 80, 3)).astype(np.float32)
    label = sm.VisibleLabel(schedule="persistent", min_height_ratio=0.15, position="bottom-left")
    marker = sm.VideoWatermarker(key, payload)
    detector = sm.VideoDetector(key)
    for i in range(6):
        frame = np.ascontiguousarray(
            np.kron(np.roll(base, i, axis=1), np.ones((8, 8, 1))).clip(0, 255).astype(np.uint8)
        )  # 360x640 textured
        label.apply(frame, t=i / 25)
        marker.embed(frame)
        detector.add(frame)
    result = detector.result()
    assert result.found and result.payload == payload
    other = sm.VideoDetector(sm.Key.from_bytes(bytes(32)))
    other.add(frame)
    assert not other.result().found


def test_bundled_font_and_licence_ship_with_the_package():
    from synthmark.labels._render import DEFAULT_FONT, FONT_DIR

    assert DEFAULT_FONT.stat().st_size < 64_000
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
