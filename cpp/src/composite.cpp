#include "synthmark/composite.hpp"

#include <algorithm>
#include <string>
#include <vector>

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

namespace {
// p, c, a in [0, 255]: p * (255 - a) + c * a <= 65025, and div255's intermediate (v + 128) + ((v + 128) >> 8)
// <= 65407, so 16-bit lanes suffice: the flat loop below vectorises (8 or 16 pixels-channels per instruction).
inline std::uint8_t blend16(std::uint8_t p, std::uint8_t c, std::uint8_t a) {
    const std::uint16_t v = static_cast<std::uint16_t>(static_cast<std::uint16_t>(p * (255 - a)) + static_cast<std::uint16_t>(c * a) + 128u);
    return static_cast<std::uint8_t>(static_cast<std::uint16_t>(v + (v >> 8)) >> 8);
}

// Flat blend of n interleaved samples: alpha and colour already expanded per sample.
void blend_span(std::uint8_t* __restrict p, const std::uint8_t* __restrict ta, const std::uint8_t* __restrict ba,
                const std::uint8_t* __restrict tc, const std::uint8_t* __restrict bc, std::ptrdiff_t n) {
    for (std::ptrdiff_t i = 0; i < n; ++i) p[i] = blend16(blend16(p[i], bc[i], ba[i]), tc[i], ta[i]);
}
template <int CH>
void expand_fixed(const std::uint8_t* __restrict a, std::uint8_t* __restrict out, std::ptrdiff_t w) {
    for (std::ptrdiff_t i = 0; i < w; ++i)
        for (int c = 0; c < CH; ++c) out[i * CH + c] = a[i];
}

// a[i] repeated ch times: out[i * ch + c] = a[i].
void expand(const std::uint8_t* a, std::uint8_t* out, std::ptrdiff_t w, std::ptrdiff_t ch) {
    switch (ch) {
        case 2: expand_fixed<2>(a, out, w); return;
        case 3: expand_fixed<3>(a, out, w); return;
        case 4: expand_fixed<4>(a, out, w); return;
        default:
            for (std::ptrdiff_t i = 0; i < w; ++i)
                for (std::ptrdiff_t c = 0; c < ch; ++c) out[i * ch + c] = a[i];
    }
}
}  // namespace

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
    const std::ptrdiff_t n = (x1 - x0) * ch;  // samples per clipped row
    // Per-sample colours (the channel pattern repeated) and per-row expanded alphas.
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(4 * n));
    std::uint8_t *tc = buf.data(), *bc = tc + n, *ta = bc + n, *ba = ta + n;
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        tc[i] = text_color[i % ch];
        bc[i] = box_color[i % ch];
    }
    for (std::ptrdiff_t fy = y0; fy < y1; ++fy) {
        const std::uint8_t* trow = label.text.row(fy - y) + (x0 - x);
        const std::uint8_t* brow = label.box.row(fy - y) + (x0 - x);
        if (ch == 1) {
            blend_span(frame.row(fy) + x0, trow, brow, tc, bc, n);
            continue;
        }
        expand(trow, ta, x1 - x0, ch);
        expand(brow, ba, x1 - x0, ch);
        blend_span(frame.row(fy) + x0 * ch, ta, ba, tc, bc, n);
    }
}

namespace {
// The label's alpha averaged over 2x2 luma blocks, for the chroma samples [cy0, cy0 + rows) x [cx0, cx0 + cols)
// the clipped label touches. Computed once per frame and shared by U and V.
struct ChromaAlpha {
    std::ptrdiff_t cx0 = 0, cy0 = 0, cols = 0, rows = 0;
    std::vector<std::uint8_t> text, box;
};

ChromaAlpha chroma_alpha(const LabelMasks& label, std::ptrdiff_t x, std::ptrdiff_t y, std::ptrdiff_t luma_width,
                         std::ptrdiff_t luma_height) {
    ChromaAlpha ca;
    const std::ptrdiff_t lx0 = std::max<std::ptrdiff_t>(x, 0), ly0 = std::max<std::ptrdiff_t>(y, 0);
    const std::ptrdiff_t lx1 = std::min(x + label.width(), luma_width), ly1 = std::min(y + label.height(), luma_height);
    if (lx0 >= lx1 || ly0 >= ly1) return ca;
    ca.cx0 = lx0 / 2;
    ca.cy0 = ly0 / 2;
    ca.cols = ceil_half(lx1) - ca.cx0;
    ca.rows = ceil_half(ly1) - ca.cy0;
    // Zero canvas on the luma grid of those blocks; the clipped label copied in (outside the label: alpha 0).
    const std::ptrdiff_t cw = 2 * ca.cols, chh = 2 * ca.rows;
    std::vector<std::uint8_t> tcan(static_cast<std::size_t>(cw * chh), 0), bcan(tcan.size(), 0);
    for (std::ptrdiff_t ly = ly0; ly < ly1; ++ly) {
        const std::ptrdiff_t off = (ly - 2 * ca.cy0) * cw + (lx0 - 2 * ca.cx0);
        std::copy(label.text.row(ly - y) + (lx0 - x), label.text.row(ly - y) + (lx1 - x), tcan.begin() + off);
        std::copy(label.box.row(ly - y) + (lx0 - x), label.box.row(ly - y) + (lx1 - x), bcan.begin() + off);
    }
    ca.text.resize(static_cast<std::size_t>(ca.cols * ca.rows));
    ca.box.resize(ca.text.size());
    for (std::ptrdiff_t r = 0; r < ca.rows; ++r) {
        const std::ptrdiff_t by = 2 * (ca.cy0 + r);
        const unsigned rshift = (by + 1 < luma_height) ? 1u : 0u;  // block rows inside the frame: 2 or 1
        const std::uint8_t *t0 = &tcan[static_cast<std::size_t>(2 * r * cw)], *t1 = t0 + cw;
        const std::uint8_t *b0 = &bcan[static_cast<std::size_t>(2 * r * cw)], *b1 = b0 + cw;
        for (std::ptrdiff_t c = 0; c < ca.cols; ++c) {
            const std::ptrdiff_t bx = 2 * (ca.cx0 + c);
            const unsigned shift = rshift + ((bx + 1 < luma_width) ? 1u : 0u);  // log2 of the in-frame pixel count
            const unsigned half = (1u << shift) >> 1;
            // Pixels of the block outside the frame are zero in the canvas (never copied), so plain sums work.
            const unsigned st = t0[2 * c] + t0[2 * c + 1] + t1[2 * c] + t1[2 * c + 1];
            const unsigned sb = b0[2 * c] + b0[2 * c + 1] + b1[2 * c] + b1[2 * c + 1];
            ca.text[static_cast<std::size_t>(r * ca.cols + c)] = static_cast<std::uint8_t>((st + half) >> shift);
            ca.box[static_cast<std::size_t>(r * ca.cols + c)] = static_cast<std::uint8_t>((sb + half) >> shift);
        }
    }
    return ca;
}

void blend_chroma(const PlaneView<std::uint8_t>& chroma, const ChromaAlpha& ca, const std::uint8_t* text_color,
                  const std::uint8_t* box_color) {
    if (ca.rows == 0) return;
    const std::ptrdiff_t ch = chroma.channels, n = ca.cols * ch;
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(4 * n));
    std::uint8_t *tc = buf.data(), *bc = tc + n, *ta = bc + n, *ba = ta + n;
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        tc[i] = text_color[i % ch];
        bc[i] = box_color[i % ch];
    }
    for (std::ptrdiff_t r = 0; r < ca.rows; ++r) {
        const std::uint8_t* trow = &ca.text[static_cast<std::size_t>(r * ca.cols)];
        const std::uint8_t* brow = &ca.box[static_cast<std::size_t>(r * ca.cols)];
        std::uint8_t* dst = chroma.row(ca.cy0 + r) + ca.cx0 * ch;
        if (ch == 1) {
            blend_span(dst, trow, brow, tc, bc, n);
        } else {
            expand(trow, ta, ca.cols, ch);
            expand(brow, ba, ca.cols, ch);
            blend_span(dst, ta, ba, tc, bc, n);
        }
    }
}
}  // namespace

void composite_chroma420(const PlaneView<std::uint8_t>& chroma, std::ptrdiff_t luma_width, std::ptrdiff_t luma_height,
                         const LabelMasks& label, std::ptrdiff_t x, std::ptrdiff_t y, const std::uint8_t* text_color,
                         const std::uint8_t* box_color) {
    check_chroma_size(chroma, luma_width, luma_height, "chroma plane");
    label.check();
    if (chroma.channels > kMaxChannels) throw InvalidInput("chroma plane: too many channels");
    blend_chroma(chroma, chroma_alpha(label, x, y, luma_width, luma_height), text_color, box_color);
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
    const ChromaAlpha ca = chroma_alpha(label, x, y, y_plane.width, y_plane.height);
    blend_chroma(u_plane, ca, &text_yuv[1], &box_yuv[1]);
    blend_chroma(v_plane, ca, &text_yuv[2], &box_yuv[2]);
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
