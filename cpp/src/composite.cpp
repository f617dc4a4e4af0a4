#include "synthmark/composite.hpp"

#include <algorithm>
#include <string>

namespace synthmark {

namespace {
constexpr int kMaxChannels = 8;

std::ptrdiff_t ceil_half(std::ptrdiff_t v) { return (v + 1) / 2; }

void check_chroma_size(const PlaneView<std::uint8_t>& chroma, std::ptrdiff_t luma_width, std::ptrdiff_t luma_height,
                       const char* name) {
    chroma.check(name);
    if (luma_width < 0 || luma_height < 0) throw InvalidInput(std::string(name) + ": negative luma size");
    if (chroma.width != ceil_half(luma_width) || chroma.height != ceil_half(luma_height))
        throw InvalidInput(std::string(name) + ": 4:2:0 chroma plane must be " + std::to_string(ceil_half(luma_width)) +
                           "x" + std::to_string(ceil_half(luma_height)) + ", got " + std::to_string(chroma.width) +
                           "x" + std::to_string(chroma.height));
}
}  // namespace

void LabelMasks::check() const {
    text.check("label text mask");
    box.check("label box mask");
    if (text.channels != 1 || box.channels != 1) throw InvalidInput("label masks must be single-channel");
    if (text.width != box.width || text.height != box.height)
        throw InvalidInput("label text and box masks must have the same size");
}

void composite_packed(const PlaneView<std::uint8_t>& frame, const LabelMasks& label, std::ptrdiff_t x,
                      std::ptrdiff_t y, const std::uint8_t* text_color, const std::uint8_t* box_color) {
    frame.check("frame");
    label.check();
    const std::ptrdiff_t ch = frame.channels;
    if (ch > kMaxChannels) throw InvalidInput("frame: too many channels");
    // Clip the label rectangle to the frame.
    const std::ptrdiff_t x0 = std::max<std::ptrdiff_t>(x, 0), y0 = std::max<std::ptrdiff_t>(y, 0);
    const std::ptrdiff_t x1 = std::min(x + label.width(), frame.width), y1 = std::min(y + label.height(), frame.height);
    if (x0 >= x1 || y0 >= y1) return;
    std::uint8_t tc[kMaxChannels], bc[kMaxChannels];
    std::copy(text_color, text_color + ch, tc);
    std::copy(box_color, box_color + ch, bc);
    for (std::ptrdiff_t fy = y0; fy < y1; ++fy) {
        const std::uint8_t* ta = label.text.row(fy - y);  // indexed by fx - x, in [0, label width)
        const std::uint8_t* ba = label.box.row(fy - y);
        std::uint8_t* px = frame.row(fy);
        for (std::ptrdiff_t fx = x0; fx < x1; ++fx) {
            const std::uint32_t at = ta[fx - x], ab = ba[fx - x];
            if ((at | ab) == 0) continue;
            std::uint8_t* p = px + fx * ch;
            for (std::ptrdiff_t c = 0; c < ch; ++c) p[c] = blend_u8(blend_u8(p[c], bc[c], ab), tc[c], at);
        }
    }
}

void composite_chroma420(const PlaneView<std::uint8_t>& chroma, std::ptrdiff_t luma_width, std::ptrdiff_t luma_height,
                         const LabelMasks& label, std::ptrdiff_t x, std::ptrdiff_t y, const std::uint8_t* text_color,
                         const std::uint8_t* box_color) {
    check_chroma_size(chroma, luma_width, luma_height, "chroma plane");
    label.check();
    const std::ptrdiff_t ch = chroma.channels;
    if (ch > kMaxChannels) throw InvalidInput("chroma plane: too many channels");
    // Luma rectangle covered by the label, clipped to the frame, then the chroma samples touching it.
    const std::ptrdiff_t lx0 = std::max<std::ptrdiff_t>(x, 0), ly0 = std::max<std::ptrdiff_t>(y, 0);
    const std::ptrdiff_t lx1 = std::min(x + label.width(), luma_width), ly1 = std::min(y + label.height(), luma_height);
    if (lx0 >= lx1 || ly0 >= ly1) return;
    const std::ptrdiff_t cx0 = lx0 / 2, cy0 = ly0 / 2, cx1 = ceil_half(lx1), cy1 = ceil_half(ly1);
    for (std::ptrdiff_t cy = cy0; cy < cy1; ++cy) {
        const std::ptrdiff_t by0 = 2 * cy, by1 = std::min(2 * cy + 2, luma_height);  // block rows in frame
        std::uint8_t* row = chroma.row(cy);
        for (std::ptrdiff_t cx = cx0; cx < cx1; ++cx) {
            const std::ptrdiff_t bx0 = 2 * cx, bx1 = std::min(2 * cx + 2, luma_width);
            const std::uint32_t count = static_cast<std::uint32_t>((by1 - by0) * (bx1 - bx0));
            std::uint32_t st = 0, sb = 0;
            for (std::ptrdiff_t ly = std::max(by0, ly0); ly < std::min(by1, ly1); ++ly) {
                const std::uint8_t* ta = label.text.row(ly - y);
                const std::uint8_t* ba = label.box.row(ly - y);
                for (std::ptrdiff_t lx = std::max(bx0, lx0); lx < std::min(bx1, lx1); ++lx) {
                    st += ta[lx - x];
                    sb += ba[lx - x];
                }
            }
            if ((st | sb) == 0) continue;
            const std::uint32_t at = (st + count / 2) / count, ab = (sb + count / 2) / count;
            std::uint8_t* p = row + cx * ch;
            for (std::ptrdiff_t c = 0; c < ch; ++c) p[c] = blend_u8(blend_u8(p[c], box_color[c], ab), text_color[c], at);
        }
    }
}

void composite_yuv420p(const PlaneView<std::uint8_t>& y_plane, const PlaneView<std::uint8_t>& u_plane,
                       const PlaneView<std::uint8_t>& v_plane, const LabelMasks& label, std::ptrdiff_t x,
                       std::ptrdiff_t y, const std::uint8_t text_yuv[3], const std::uint8_t box_yuv[3]) {
    if (y_plane.channels != 1 || u_plane.channels != 1 || v_plane.channels != 1)
        throw InvalidInput("yuv420p planes must be single-channel");
    // Check everything before writing anything.
    y_plane.check("Y plane");
    check_chroma_size(u_plane, y_plane.width, y_plane.height, "U plane");
    check_chroma_size(v_plane, y_plane.width, y_plane.height, "V plane");
    composite_packed(y_plane, label, x, y, &text_yuv[0], &box_yuv[0]);
    composite_chroma420(u_plane, y_plane.width, y_plane.height, label, x, y, &text_yuv[1], &box_yuv[1]);
    composite_chroma420(v_plane, y_plane.width, y_plane.height, label, x, y, &text_yuv[2], &box_yuv[2]);
}

void composite_nv12(const PlaneView<std::uint8_t>& y_plane, const PlaneView<std::uint8_t>& uv_plane,
                    const LabelMasks& label, std::ptrdiff_t x, std::ptrdiff_t y, const std::uint8_t text_yuv[3],
                    const std::uint8_t box_yuv[3]) {
    if (y_plane.channels != 1 || uv_plane.channels != 2)
        throw InvalidInput("nv12 needs a single-channel Y plane and a 2-channel interleaved UV plane");
    y_plane.check("Y plane");
    check_chroma_size(uv_plane, y_plane.width, y_plane.height, "UV plane");
    composite_packed(y_plane, label, x, y, &text_yuv[0], &box_yuv[0]);
    composite_chroma420(uv_plane, y_plane.width, y_plane.height, label, x, y, &text_yuv[1], &box_yuv[1]);
}

}  // namespace synthmark
