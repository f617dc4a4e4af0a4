// Explicit labels: label compositing into frames and audible-prompt mixing. Arrays are checked under the
// GIL (dtype -> TypeError, read-only / shape / stride -> ValueError, never a copy), then the work runs with
// the GIL released: the core only touches the raw buffers, which the caller's arrays keep alive for the
// duration of the call, and no Python object is used while released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <vector>

#include "array_args.hpp"
#include "registry.hpp"
#include "synthmark/audio_mix.hpp"
#include "synthmark/composite.hpp"

namespace synthmark::bind {
namespace py = pybind11;

namespace {

std::vector<std::uint8_t> colour_arg(const std::vector<int>& c, std::size_t n, const char* name) {
    if (c.size() != n)
        throw ArgumentError(std::string(name) + ": expected " + std::to_string(n) + " values, got " +
                              std::to_string(c.size()));
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (c[i] < 0 || c[i] > 255) throw ArgumentError(std::string(name) + ": values must be in [0, 255]");
        out[i] = static_cast<std::uint8_t>(c[i]);
    }
    return out;
}

LabelMasks masks_arg(py::array& text, py::array& box) {
    auto t = plane_view<std::uint8_t>(text, "text_mask", false, 1);
    auto b = plane_view<std::uint8_t>(box, "box_mask", false, 1);
    if (t.width != b.width || t.height != b.height)
        throw ArgumentError("text_mask and box_mask must have the same shape");
    LabelMasks m;
    m.text = {t.data, t.width, t.height, t.row_stride, 1};
    m.box = {b.data, b.width, b.height, b.row_stride, 1};
    return m;
}

void plane_2d(const py::array& a, const char* name) {
    if (a.ndim() != 2) throw ArgumentError(std::string(name) + ": expected a 2-D plane, got " + std::to_string(a.ndim()) + " dimensions");
}

// Runs f without the GIL. Core InvalidInput still reaches Python as synthmark.errors.InvalidArgumentError.
template <class F>
auto released(F&& f) {
    py::gil_scoped_release nogil;  // see the file comment for why this is safe
    return f();
}

AudioView audio_arg(py::array& a, bool channels_last) {
    require_dtype<float>(a, "audio");
    require_writable(a, "audio");
    const auto item = static_cast<py::ssize_t>(sizeof(float));
    AudioView v;
    v.data = static_cast<float*>(a.mutable_data());
    if (a.ndim() == 1) {
        v.frames = a.shape(0);
        v.channels = 1;
        v.frame_stride = a.shape(0) > 1 ? a.strides(0) / item : 1;
        v.channel_stride = 0;
        if (a.shape(0) > 1 && (a.strides(0) <= 0 || a.strides(0) % item)) throw ArgumentError("audio: bad stride");
        return v;
    }
    if (a.ndim() != 2) throw ArgumentError("audio: expected (n,), (n, channels) or (channels, n) float32 audio");
    for (int d = 0; d < 2; ++d)
        if (a.shape(d) > 1 && (a.strides(d) <= 0 || a.strides(d) % item))
            throw ArgumentError("audio: strides must be positive multiples of 4 bytes");
    const int fd = channels_last ? 0 : 1, cd = channels_last ? 1 : 0;
    v.frames = a.shape(fd);
    v.channels = a.shape(cd);
    v.frame_stride = a.shape(fd) > 1 ? a.strides(fd) / item : 1;
    v.channel_stride = a.shape(cd) > 1 ? a.strides(cd) / item : 1;
    if (v.channels < 1) throw ArgumentError("audio: needs at least one channel");
    return v;
}

}  // namespace

void register_labels(py::module_& m) {
    m.def(
        "composite_packed",
        [](py::array frame, py::array text_mask, py::array box_mask, std::ptrdiff_t x, std::ptrdiff_t y,
           const std::vector<int>& text_color, const std::vector<int>& box_color) {
            auto f = plane_view<std::uint8_t>(frame, "frame", true);
            auto masks = masks_arg(text_mask, box_mask);
            auto tc = colour_arg(text_color, static_cast<std::size_t>(f.channels), "text_color");
            auto bc = colour_arg(box_color, static_cast<std::size_t>(f.channels), "box_color");
            released([&] {
                composite_packed(f, masks, x, y, tc.data(), bc.data());
                return 0;
            });
        },
        py::arg("frame").noconvert(), py::arg("text_mask").noconvert(), py::arg("box_mask").noconvert(),
        py::arg("x"), py::arg("y"), py::arg("text_color"), py::arg("box_color"),
        "Blend a label (box then text) into a packed uint8 frame (H, W) or (H, W, C) in place; clipped to the frame.");

    m.def(
        "composite_yuv420p",
        [](py::array y_plane, py::array u_plane, py::array v_plane, py::array text_mask, py::array box_mask,
           std::ptrdiff_t x, std::ptrdiff_t y, const std::vector<int>& text_yuv, const std::vector<int>& box_yuv) {
            plane_2d(y_plane, "y_plane");
            plane_2d(u_plane, "u_plane");
            plane_2d(v_plane, "v_plane");
            auto yp = plane_view<std::uint8_t>(y_plane, "y_plane", true, 1);
            auto up = plane_view<std::uint8_t>(u_plane, "u_plane", true, 1);
            auto vp = plane_view<std::uint8_t>(v_plane, "v_plane", true, 1);
            auto masks = masks_arg(text_mask, box_mask);
            auto tc = colour_arg(text_yuv, 3, "text_yuv");
            auto bc = colour_arg(box_yuv, 3, "box_yuv");
            released([&] {
                composite_yuv420p(yp, up, vp, masks, x, y, tc.data(), bc.data());
                return 0;
            });
        },
        py::arg("y_plane").noconvert(), py::arg("u_plane").noconvert(), py::arg("v_plane").noconvert(),
        py::arg("text_mask").noconvert(), py::arg("box_mask").noconvert(), py::arg("x"), py::arg("y"),
        py::arg("text_yuv"), py::arg("box_yuv"),
        "Blend a label into YUV420P planes in place (each plane any row stride; chroma uses the 2x2-averaged alpha).");

    m.def(
        "composite_nv12",
        [](py::array y_plane, py::array uv_plane, py::array text_mask, py::array box_mask, std::ptrdiff_t x,
           std::ptrdiff_t y, const std::vector<int>& text_yuv, const std::vector<int>& box_yuv) {
            plane_2d(y_plane, "y_plane");
            auto yp = plane_view<std::uint8_t>(y_plane, "y_plane", true, 1);
            auto uvp = plane_view<std::uint8_t>(uv_plane, "uv_plane", true, 2);
            if (uv_plane.ndim() != 3) throw ArgumentError("uv_plane: expected an (H/2, W/2, 2) interleaved plane");
            auto masks = masks_arg(text_mask, box_mask);
            auto tc = colour_arg(text_yuv, 3, "text_yuv");
            auto bc = colour_arg(box_yuv, 3, "box_yuv");
            released([&] {
                composite_nv12(yp, uvp, masks, x, y, tc.data(), bc.data());
                return 0;
            });
        },
        py::arg("y_plane").noconvert(), py::arg("uv_plane").noconvert(), py::arg("text_mask").noconvert(),
        py::arg("box_mask").noconvert(), py::arg("x"), py::arg("y"), py::arg("text_yuv"), py::arg("box_yuv"),
        "Blend a label into NV12 planes in place (Y plane + (H/2, W/2, 2) interleaved UV plane, any row strides).");

    m.def(
        "mix_prompt",
        [](py::array audio, py::array prompt, std::ptrdiff_t offset, float gain, bool channels_last, float ceiling,
           float knee) {
            auto a = audio_arg(audio, channels_last);
            auto p = span_1d<float>(prompt, "prompt", false);
            LimiterParams lim{ceiling, knee};
            a.check("audio");
            lim.check();
            if (!std::isfinite(gain)) throw ArgumentError("gain: must be finite");
            return released([&] { return mix_prompt(a, p.data, static_cast<std::ptrdiff_t>(p.size), offset, gain, lim); });
        },
        py::arg("audio").noconvert(), py::arg("prompt").noconvert(), py::arg("offset"), py::arg("gain"),
        py::arg("channels_last") = true, py::arg("ceiling") = 1.0f, py::arg("knee") = 0.9f,
        "Mix gain * prompt into float32 audio at `offset` frames, in place, through a soft-knee limiter that never "
        "exceeds `ceiling`. Returns the number of frames mixed.");
}

}  // namespace synthmark::bind
