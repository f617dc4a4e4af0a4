// Label compositing and prompt mixing: odd sizes, clipping at frame edges, padded strides, exact blends.
#include <cmath>
#include <cstdint>
#include <vector>

#include "check.hpp"
#include "synthmark/audio_mix.hpp"
#include "synthmark/composite.hpp"

using namespace synthmark;
using u8 = std::uint8_t;
using pd = std::ptrdiff_t;

namespace {
struct Label {
    std::vector<u8> text, box;
    std::ptrdiff_t w, h;
    Label(std::ptrdiff_t w_, std::ptrdiff_t h_, u8 t, u8 b) : text(w_ * h_, t), box(w_ * h_, b), w(w_), h(h_) {}
    LabelMasks masks() const {
        LabelMasks m;
        m.text = {text.data(), w, h, w, 1};
        m.box = {box.data(), w, h, w, 1};
        return m;
    }
};
// A frame stored with `pad` extra bytes per row that must never be written, plus a guard row.
struct Frame {
    std::vector<u8> buf;
    std::ptrdiff_t w, h, ch, stride;
    Frame(std::ptrdiff_t w_, std::ptrdiff_t h_, std::ptrdiff_t ch_, std::ptrdiff_t pad, u8 fill)
        : w(w_), h(h_), ch(ch_), stride(w_ * ch_ + pad) {
        buf.assign(static_cast<std::size_t>(stride * h + pad), 0xAB);
        for (std::ptrdiff_t y = 0; y < h; ++y)
            for (std::ptrdiff_t i = 0; i < w * ch; ++i) buf[y * stride + i] = fill;
    }
    PlaneView<u8> view() { return {buf.data(), w, h, stride, ch}; }
    u8 at(std::ptrdiff_t x, std::ptrdiff_t y, std::ptrdiff_t c = 0) const { return buf[y * stride + x * ch + c]; }
    bool padding_intact() const {
        for (std::ptrdiff_t y = 0; y < h; ++y)
            for (std::ptrdiff_t i = w * ch; i < stride; ++i)
                if (buf[y * stride + i] != 0xAB) return false;
        for (std::size_t i = static_cast<std::size_t>(stride * h); i < buf.size(); ++i)
            if (buf[i] != 0xAB) return false;
        return true;
    }
};
}  // namespace

TEST_CASE("div255 rounds to nearest over the whole range") {
    bool ok = true;
    for (std::uint32_t v = 0; v <= 255u * 255u; ++v)
        if (div255(v) != static_cast<u8>(std::lround(v / 255.0))) ok = false;
    CHECK(ok);
    CHECK(blend_u8(10, 200, 255) == 200);
    CHECK(blend_u8(10, 200, 0) == 10);
}

TEST_CASE("packed RGB: opaque text replaces pixels, box then text order, rest untouched") {
    Frame f(9, 7, 3, 5, 100);
    Label lab(3, 2, 255, 0);
    const u8 tc[3] = {255, 0, 10}, bc[3] = {0, 0, 0};
    composite_packed(f.view(), lab.masks(), 2, 3, tc, bc);
    CHECK(f.at(2, 3, 0) == 255 && f.at(2, 3, 1) == 0 && f.at(4, 4, 2) == 10);
    CHECK(f.at(1, 3, 0) == 100 && f.at(5, 3, 0) == 100 && f.at(2, 2, 0) == 100 && f.at(2, 5, 0) == 100);
    CHECK(f.padding_intact());
    Label boxed(2, 2, 0, 128);
    composite_packed(f.view(), boxed.masks(), 0, 0, tc, bc);
    CHECK(f.at(0, 0, 0) == blend_u8(100, 0, 128));
}

TEST_CASE("label clipped at every frame edge, odd sizes, padded rows") {
    for (pd w : {1, 2, 3, 7, 8, 33}) {
        for (std::ptrdiff_t h : {1, 3, 7, 10}) {
            for (std::ptrdiff_t ch : {1, 3, 4}) {
                Frame f(w, h, ch, 3, 50);
                Label lab(5, 4, 200, 255);
                std::vector<u8> tc(static_cast<std::size_t>(ch), 250), bc(static_cast<std::size_t>(ch), 0);
                for (std::ptrdiff_t x : {pd{-10}, pd{-3}, pd{0}, w - 2, w + 5})
                    for (std::ptrdiff_t y : {pd{-10}, pd{-2}, pd{0}, h - 1, h + 4}) composite_packed(f.view(), lab.masks(), x, y, tc.data(), bc.data());
                CHECK(f.padding_intact());
            }
        }
    }
}

TEST_CASE("yuv420p and nv12: chroma uses the 2x2-averaged alpha, odd frames, odd positions") {
    for (std::ptrdiff_t w : {1, 5, 8, 13}) {
        for (std::ptrdiff_t h : {1, 3, 6, 9}) {
            const std::ptrdiff_t cw = (w + 1) / 2, ch = (h + 1) / 2;
            Frame y(w, h, 1, 4, 60), u(cw, ch, 1, 2, 128), v(cw, ch, 1, 6, 128), y2(w, h, 1, 1, 60), uv(cw, ch, 2, 3, 128);
            Label lab(3, 3, 255, 0);
            const u8 tyuv[3] = {235, 16, 240}, byuv[3] = {16, 128, 128};
            for (std::ptrdiff_t x : {pd{-2}, pd{0}, pd{1}, w - 1}) {
                for (std::ptrdiff_t yy : {pd{-1}, pd{0}, pd{1}, h - 2}) {
                    composite_yuv420p(y.view(), u.view(), v.view(), lab.masks(), x, yy, tyuv, byuv);
                    composite_nv12(y2.view(), uv.view(), lab.masks(), x, yy, tyuv, byuv);
                }
            }
            CHECK(y.padding_intact() && u.padding_intact() && v.padding_intact() && y2.padding_intact() && uv.padding_intact());
            bool same = true;
            for (std::ptrdiff_t r = 0; r < h; ++r)
                for (std::ptrdiff_t c = 0; c < w; ++c) same = same && y.at(c, r) == y2.at(c, r);
            for (std::ptrdiff_t r = 0; r < ch; ++r)
                for (std::ptrdiff_t c = 0; c < cw; ++c) same = same && u.at(c, r) == uv.at(c, r, 0) && v.at(c, r) == uv.at(c, r, 1);
            CHECK(same);
        }
    }
    // One opaque pixel at (1, 1) of a 4x4 frame covers a quarter of chroma block (0, 0): alpha 64.
    Frame y(4, 4, 1, 0, 0), u(2, 2, 1, 0, 0), v(2, 2, 1, 0, 0);
    Label dot(1, 1, 255, 0);
    const u8 t[3] = {255, 200, 100}, b[3] = {0, 0, 0};
    composite_yuv420p(y.view(), u.view(), v.view(), dot.masks(), 1, 1, t, b);
    CHECK(y.at(1, 1) == 255 && y.at(0, 0) == 0);
    CHECK(u.at(0, 0) == blend_u8(0, 200, 64) && u.at(1, 0) == 0 && v.at(0, 0) == blend_u8(0, 100, 64));
    // On a 3x3 frame the last chroma block is 1 luma pixel: full alpha there.
    Frame y3(3, 3, 1, 0, 0), u3(2, 2, 1, 0, 0), v3(2, 2, 1, 0, 0);
    composite_yuv420p(y3.view(), u3.view(), v3.view(), dot.masks(), 2, 2, t, b);
    CHECK(u3.at(1, 1) == 200 && v3.at(1, 1) == 100);
}

TEST_CASE("bad inputs throw InvalidInput") {
    Frame y(4, 4, 1, 0, 0), u(3, 2, 1, 0, 0), v(2, 2, 1, 0, 0);
    Label lab(2, 2, 255, 0);
    const u8 t[3] = {1, 2, 3};
    CHECK_THROWS(composite_yuv420p(y.view(), u.view(), v.view(), lab.masks(), 0, 0, t, t), InvalidInput);
    LabelMasks bad = lab.masks();
    bad.box.width = 1;
    CHECK_THROWS(composite_packed(y.view(), bad, 0, 0, t, t), InvalidInput);
    PlaneView<u8> short_stride{y.buf.data(), 4, 4, 2, 1};
    CHECK_THROWS(composite_packed(short_stride, lab.masks(), 0, 0, t, t), InvalidInput);
}

TEST_CASE("mix_prompt: both layouts, clipped span, limiter never exceeds ceiling") {
    const std::ptrdiff_t n = 50, chans = 2;
    std::vector<float> last(n * chans, 0.95f), first(n * chans, 0.95f);
    std::vector<float> prompt(20, 0.5f);
    LimiterParams lim{1.0f, 0.9f};
    AudioView a_last{last.data(), n, chans, chans, 1};
    AudioView a_first{first.data(), n, chans, 1, n};
    CHECK(mix_prompt(a_last, prompt.data(), 20, 40, 1.0f, lim) == 10);
    CHECK(mix_prompt(a_first, prompt.data(), 20, 40, 1.0f, lim) == 10);
    CHECK(mix_prompt(a_last, prompt.data(), 20, -15, 1.0f, lim) == 5);
    CHECK(mix_prompt(a_last, prompt.data(), 20, 60, 1.0f, lim) == 0);
    CHECK(peak_abs(a_last) <= 1.0f && peak_abs(a_first) <= 1.0f);
    CHECK(a_last.at(39, 0) == 0.95f && a_last.at(40, 1) > 0.95f && a_last.at(40, 1) < 1.0f);
    CHECK(a_first.at(45, 1) == a_last.at(45, 1));
    CHECK(soft_limit(0.5f, lim) == 0.5f && soft_limit(-100.0f, lim) >= -1.0f && soft_limit(100.0f, lim) <= 1.0f);
    float prev = -2.0f;
    bool monotonic = true;
    for (int i = -300; i <= 300; ++i) {
        const float y = soft_limit(static_cast<float>(i) / 100.0f, lim);
        monotonic = monotonic && y >= prev;
        prev = y;
    }
    CHECK(monotonic);
    LimiterParams bad{0.5f, 0.9f};
    CHECK_THROWS(mix_prompt(a_last, prompt.data(), 20, 0, 1.0f, bad), InvalidInput);
}
