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

    // CRC-aided list decoding: decode(); if its CRC fails and max_list > 1, walk the convolutional code's
    // paths in decreasing correlation order (ConvCode::decode_list) and return the first whose CRC checks.
    // max_list in [1, ConvCode::kMaxList]; max_list = 1 is exactly decode(). At most max_list CRC checks in
    // all (decode()'s path is checked once, not again when the list reaches it), so pure noise passes the
    // CRC at most max_list times as often as with decode() (about max_list * 2^-crc_bits). Thread-safe.
    struct ListDecoded {
        bool crc_ok;
        std::uint64_t payload;  // the accepted path's; decode()'s when no path passed
        float correlation;      // of that path, see ConvCode::Result
        long rank;              // CRC checks made before the accepted path (0 = decode()'s path passed), so
                                // rank + 1 checks in all; -1 if none passed
        std::size_t examined;   // distinct CRC checks made, decode()'s included (<= max_list)
    };
    ListDecoded decode_list(const float* soft, std::size_t max_list) const;

private:
    void split(const std::uint8_t* info, std::uint64_t* payload, bool* crc_ok) const;
    int payload_bits_;
    int crc_bits_;
    ConvCode code_;
};

}  // namespace synthmark
