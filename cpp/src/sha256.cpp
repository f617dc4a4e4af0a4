#include "synthmark/sha256.hpp"

#include <algorithm>
#include <cstring>

namespace synthmark {
namespace {
constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
}  // namespace

void Sha256::reset() {
    static constexpr std::uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(state_, init, sizeof state_);
    buf_len_ = 0;
    total_ = 0;
}

void Sha256::compress(std::uint32_t st[8], const std::uint8_t block[64]) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
        w[i] = (std::uint32_t(block[4 * i]) << 24) | (std::uint32_t(block[4 * i + 1]) << 16) |
               (std::uint32_t(block[4 * i + 2]) << 8) | std::uint32_t(block[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
        const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; ++i) {
        const std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + S1 + ch + kK[i] + w[i];
        const std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = S0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
    st[4] += e;
    st[5] += f;
    st[6] += g;
    st[7] += h;
}

void Sha256::update(const void* data, std::size_t len) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    total_ += len;
    if (buf_len_) {
        const std::size_t take = std::min<std::size_t>(64 - buf_len_, len);
        std::memcpy(buf_ + buf_len_, p, take);
        buf_len_ += take;
        p += take;
        len -= take;
        if (buf_len_ == 64) {
            compress(state_, buf_);
            buf_len_ = 0;
        }
    }
    while (len >= 64) {
        compress(state_, p);
        p += 64;
        len -= 64;
    }
    if (len) {
        std::memcpy(buf_, p, len);
        buf_len_ = len;
    }
}

Digest256 Sha256::finish() {
    const std::uint64_t bits = total_ * 8;
    const std::uint8_t pad0 = 0x80;
    update(&pad0, 1);
    const std::uint8_t zero = 0;
    while (buf_len_ != 56) update(&zero, 1);
    std::uint8_t len_be[8];
    for (int i = 0; i < 8; ++i) len_be[i] = std::uint8_t(bits >> (56 - 8 * i));
    update(len_be, 8);
    Digest256 out;
    for (int i = 0; i < 8; ++i) {
        out[4 * i] = std::uint8_t(state_[i] >> 24);
        out[4 * i + 1] = std::uint8_t(state_[i] >> 16);
        out[4 * i + 2] = std::uint8_t(state_[i] >> 8);
        out[4 * i + 3] = std::uint8_t(state_[i]);
    }
    secure_zero(buf_, sizeof buf_);
    reset();
    return out;
}

Digest256 sha256(const void* data, std::size_t len) {
    Sha256 h;
    h.update(data, len);
    return h.finish();
}

Digest256 hmac_sha256(const void* key, std::size_t key_len, const void* msg, std::size_t msg_len) {
    std::uint8_t k[64] = {};
    if (key_len > 64) {
        const Digest256 kh = sha256(key, key_len);
        std::memcpy(k, kh.data(), kh.size());
    } else if (key_len) {
        std::memcpy(k, key, key_len);
    }
    std::uint8_t pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = std::uint8_t(k[i] ^ 0x36);
    Sha256 inner;
    inner.update(pad, 64);
    inner.update(msg, msg_len);
    const Digest256 ih = inner.finish();
    for (int i = 0; i < 64; ++i) pad[i] = std::uint8_t(k[i] ^ 0x5c);
    Sha256 outer;
    outer.update(pad, 64);
    outer.update(ih.data(), ih.size());
    secure_zero(k, sizeof k);
    secure_zero(pad, sizeof pad);
    return outer.finish();
}

void secure_zero(void* p, std::size_t n) {
    volatile std::uint8_t* v = static_cast<volatile std::uint8_t*>(p);
    while (n--) *v++ = 0;
}

}  // namespace synthmark
