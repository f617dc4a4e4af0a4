#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104). Own implementation, checked against the
// FIPS 180-4 examples and the RFC 4231 test vectors in cpp/tests/test_sha256.cpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace synthmark {

using Digest256 = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256() { reset(); }
    void reset();
    void update(const void* data, std::size_t len);
    Digest256 finish();  // resets the object afterwards

    // Compression function on one 64-byte block (exposed for HMAC precomputation).
    static void compress(std::uint32_t state[8], const std::uint8_t block[64]);

private:
    std::uint32_t state_[8];
    std::uint8_t buf_[64];
    std::size_t buf_len_ = 0;
    std::uint64_t total_ = 0;
};

Digest256 sha256(const void* data, std::size_t len);
Digest256 hmac_sha256(const void* key, std::size_t key_len, const void* msg, std::size_t msg_len);
inline Digest256 hmac_sha256(const std::string& key, const std::string& msg) {
    return hmac_sha256(key.data(), key.size(), msg.data(), msg.size());
}

// Overwrites memory in a way the optimizer keeps (for key material).
void secure_zero(void* p, std::size_t n);

}  // namespace synthmark
