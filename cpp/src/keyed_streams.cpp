#include "synthmark/keyed_streams.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "synthmark/errors.hpp"

namespace synthmark {
namespace {
inline std::uint32_t rotl(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
inline void quarter(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d) {
    a += b; d ^= a; d = rotl(d, 16);
    c += d; b ^= c; b = rotl(b, 12);
    a += b; d ^= a; d = rotl(d, 8);
    c += d; b ^= c; b = rotl(b, 7);
}
constexpr const char* kStreamPrefix = "synthmark/stream/v1/";
}  // namespace

void chacha20_block(const std::uint32_t in[16], std::uint32_t out[16]) {
    std::uint32_t x[16];
    std::memcpy(x, in, sizeof x);
    for (int r = 0; r < 10; ++r) {
        quarter(x[0], x[4], x[8], x[12]);
        quarter(x[1], x[5], x[9], x[13]);
        quarter(x[2], x[6], x[10], x[14]);
        quarter(x[3], x[7], x[11], x[15]);
        quarter(x[0], x[5], x[10], x[15]);
        quarter(x[1], x[6], x[11], x[12]);
        quarter(x[2], x[7], x[8], x[13]);
        quarter(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; ++i) out[i] = x[i] + in[i];
}

KeyStream::KeyStream(const Digest256& k) {
    state_[0] = 0x61707865;  // "expand 32-byte k"
    state_[1] = 0x3320646e;
    state_[2] = 0x79622d32;
    state_[3] = 0x6b206574;
    for (int i = 0; i < 8; ++i)
        state_[4 + i] = std::uint32_t(k[4 * i]) | (std::uint32_t(k[4 * i + 1]) << 8) |
                        (std::uint32_t(k[4 * i + 2]) << 16) | (std::uint32_t(k[4 * i + 3]) << 24);
    for (int i = 12; i < 16; ++i) state_[i] = 0;
}

KeyStream::~KeyStream() {
    secure_zero(state_, sizeof state_);
    secure_zero(block_, sizeof block_);
}

void KeyStream::refill() {
    chacha20_block(state_, block_);
    if (++state_[12] == 0) ++state_[13];  // 64-bit block counter
    pos_ = 0;
}

void KeyStream::fill(std::uint32_t* out, std::size_t n) {
    std::size_t i = 0;
    while (i < n && pos_ < 16) out[i++] = block_[pos_++];
    while (n - i >= 16) {
        chacha20_block(state_, out + i);
        if (++state_[12] == 0) ++state_[13];
        i += 16;
    }
    while (i < n) out[i++] = next_u32();
}

std::uint32_t KeyStream::below(std::uint32_t bound) {
    if (bound == 0) throw InvalidInput("KeyStream::below: bound must be >= 1");
    // Accept words below the largest multiple of bound that fits in 2^32.
    const std::uint64_t span = std::uint64_t(1) << 32;
    const std::uint64_t limit = span - span % bound;
    for (;;) {
        const std::uint32_t w = next_u32();
        if (w < limit) return w % bound;
    }
}

KeyedStreams::KeyedStreams(const void* key, std::size_t key_len) {
    if (key_len < kMinKeyBytes)
        throw InvalidInput("key: expected at least " + std::to_string(kMinKeyBytes) + " bytes, got " +
                           std::to_string(key_len));
    const auto* p = static_cast<const std::uint8_t*>(key);
    key_.assign(p, p + key_len);
}

KeyedStreams::~KeyedStreams() { secure_zero(key_.data(), key_.size()); }

Digest256 KeyedStreams::stream_key(const std::string& purpose) const {
    const std::string msg = std::string(kStreamPrefix) + purpose;
    return hmac_sha256(key_.data(), key_.size(), msg.data(), msg.size());
}

void KeyedStreams::fill_uint32(const std::string& purpose, std::uint32_t* out, std::size_t n) const {
    Digest256 k = stream_key(purpose);
    KeyStream s(k);
    secure_zero(k.data(), k.size());
    s.fill(out, n);
}

void KeyedStreams::fill_signs(const std::string& purpose, float* out, std::size_t n) const {
    Digest256 k = stream_key(purpose);
    KeyStream s(k);
    secure_zero(k.data(), k.size());
    std::uint32_t buf[256];
    for (std::size_t i = 0; i < n;) {
        const std::size_t m = std::min<std::size_t>(256, n - i);
        s.fill(buf, m);
        for (std::size_t j = 0; j < m; ++j) out[i + j] = (buf[j] >> 31) ? 1.0f : -1.0f;
        i += m;
    }
}

void KeyedStreams::fill_uniform(const std::string& purpose, float* out, std::size_t n) const {
    Digest256 k = stream_key(purpose);
    KeyStream s(k);
    secure_zero(k.data(), k.size());
    std::uint32_t buf[256];
    constexpr float scale = 1.0f / 16777216.0f;  // 2^-24: 24-bit integers are exact in float32
    for (std::size_t i = 0; i < n;) {
        const std::size_t m = std::min<std::size_t>(256, n - i);
        s.fill(buf, m);
        for (std::size_t j = 0; j < m; ++j) out[i + j] = float(buf[j] >> 8) * scale;
        i += m;
    }
}

void KeyedStreams::permutation(const std::string& purpose, std::int32_t* out, std::size_t n) const {
    if (n > kMaxPermutation) throw InvalidInput("n: a permutation needs n <= 2**24");
    for (std::size_t i = 0; i < n; ++i) out[i] = std::int32_t(i);
    if (n < 2) return;
    Digest256 k = stream_key(purpose);
    KeyStream s(k);
    secure_zero(k.data(), k.size());
    for (std::size_t i = n - 1; i > 0; --i) {
        const std::size_t j = s.below(std::uint32_t(i + 1));
        const std::int32_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

}  // namespace synthmark
