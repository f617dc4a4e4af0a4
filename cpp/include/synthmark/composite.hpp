#pragma once
// Alpha-blending of a pre-rendered label into frames, in place. Python-free.
//
// A label is two 8-bit alpha masks of the same size: `box` (backing box and glyph outline) and `text`
// (glyph fill). Every pixel under the label gets two "over" blends, box colour first, then text colour:
//     p = div255(p * (255 - a_box) + box * a_box);  p = div255(p * (255 - a_text) + text * a_text)
// with div255 rounding to nearest (exact integer arithmetic, so a NumPy reference can match bit for bit).
// The label rectangle may lie partly or wholly outside the frame: it is clipped.
//
// 4:2:0 chroma: each chroma sample blends with the alpha averaged (rounded) over the luma pixels of its
// 2x2 block that lie inside the frame (pixels of the block outside the label count as alpha 0). Odd frame
// sizes are fine: the last chroma row/column covers a 1-pixel-wide block.
#include <cstddef>
#include <cstdint>

#include "synthmark/views.hpp"

namespace synthmark {

struct LabelMasks {
    PlaneView<const std::uint8_t> text;  // glyph fill alpha
    PlaneView<const std::uint8_t> box;   // backing box + outline alpha
    // Throws InvalidInput unless both masks are single-channel views of the same size.
    void check() const;
    std::ptrdiff_t width() const { return text.width; }
    std::ptrdiff_t height() const { return text.height; }
};

// round(v / 255) for v in [0, 255 * 255].
inline std::uint8_t div255(std::uint32_t v) { return static_cast<std::uint8_t>((v + 128u + ((v + 128u) >> 8)) >> 8); }

inline std::uint8_t blend_u8(std::uint8_t p, std::uint8_t c, std::uint32_t a) {
    return div255(static_cast<std::uint32_t>(p) * (255u - a) + static_cast<std::uint32_t>(c) * a);
}

// Packed frame (frame.channels interleaved samples per pixel: 1 = gray/Y, 3 = RGB/BGR, 4 = RGBA...).
// `text_color`/`box_color` hold frame.channels values in the frame's channel order (for RGBA pass 255 as
// the alpha "colour": the alpha channel then composes as a + p (1 - a), the usual "over").
// (x, y): top-left of the label in frame pixels, may be negative.
void composite_packed(const PlaneView<std::uint8_t>& frame, const LabelMasks& label, std::ptrdiff_t x,
                      std::ptrdiff_t y, const std::uint8_t* text_color, const std::uint8_t* box_color);

// A 2x2-subsampled chroma plane (1 channel: U or V of YUV420P; 2 channels: interleaved UV of NV12) of a
// luma_width x luma_height frame. (x, y) are in luma pixels. The plane must be ceil(luma/2) in size.
void composite_chroma420(const PlaneView<std::uint8_t>& chroma, std::ptrdiff_t luma_width, std::ptrdiff_t luma_height,
                         const LabelMasks& label, std::ptrdiff_t x, std::ptrdiff_t y, const std::uint8_t* text_color,
                         const std::uint8_t* box_color);

// Whole frames. Colours are {Y, U, V}.
void composite_yuv420p(const PlaneView<std::uint8_t>& y_plane, const PlaneView<std::uint8_t>& u_plane,
                       const PlaneView<std::uint8_t>& v_plane, const LabelMasks& label, std::ptrdiff_t x,
                       std::ptrdiff_t y, const std::uint8_t text_yuv[3], const std::uint8_t box_yuv[3]);
void composite_nv12(const PlaneView<std::uint8_t>& y_plane, const PlaneView<std::uint8_t>& uv_plane,
                    const LabelMasks& label, std::ptrdiff_t x, std::ptrdiff_t y, const std::uint8_t text_yuv[3],
                    const std::uint8_t box_yuv[3]);

}  // namespace synthmark
