#pragma once
// Payload coding: payload (payload_bits, MSB first) + CRC (crc_bits, MSB first) -> terminated
// convolutional code -> coded bits. The CRC is the low crc_bits of CRC-32 (zlib) over the payload
// written as ceil(payload_bits / 8) big-endian bytes. Decoding: soft Viterbi, then the CRC check.
#include <cstddef>
#include <cstdint>

#include "synthmark/conv_code.hpp"

namespace synthmark {

class PayloadCode {
public:
    // Throws InvalidInput: payload_bits in [1, 64], crc_bits in [0, 32], (K, n) in ConvCode's table.
    PayloadCode(int payload_bits = 64, int crc_bits = 32, int constraint_length = 15, int rate_inverse = 4);

    int payload_bits() const { return payload_bits_; }
    int crc_bits() const { return crc_bits_; }
    const ConvCode& code() const { return code_; }
    std::size_t info_bits() const { return std::size_t(payload_bits_ + crc_bits_); }
    std::size_t coded_bits() const { return code_.coded_length(info_bits()); }

    bool payload_in_range(std::uint64_t payload) const {
        return payload_bits_ == 64 || (payload >> payload_bits_) == 0;
    }
    std::uint32_t crc_of(std::uint64_t payload) const;

    // out: coded_bits() values in {0, 1}. Throws InvalidInput if payload does not fit in payload_bits.
    void encode(std::uint64_t payload, std::uint8_t* out) const;

    struct Decoded {
        bool crc_ok;
        std::uint64_t payload;  // as decoded, also when the CRC fails
        float correlation;      // see ConvCode::Result
        float margin;
    };
    // soft: coded_bits() finite floats (> 0 means bit 1). Thread-safe.
    Decoded decode(const float* soft) const;

private:
    int payload_bits_;
    int crc_bits_;
    ConvCode code_;
};

}  // namespace synthmark
