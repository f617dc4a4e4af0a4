#include "synthmark/payload_code.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "synthmark/crc32.hpp"
#include "synthmark/errors.hpp"

namespace synthmark {
namespace {
int checked_payload_bits(int b) {
    if (b < 1 || b > 64) throw InvalidInput("payload_bits must be in [1, 64], got " + std::to_string(b));
    return b;
}
int checked_crc_bits(int b) {
    if (b < 0 || b > 32) throw InvalidInput("crc_bits must be in [0, 32], got " + std::to_string(b));
    return b;
}
}  // namespace

PayloadCode::PayloadCode(int payload_bits, int crc_bits, int constraint_length, int rate_inverse)
    : payload_bits_(checked_payload_bits(payload_bits)),
      crc_bits_(checked_crc_bits(crc_bits)),
      code_(constraint_length, rate_inverse) {}

std::uint32_t PayloadCode::crc_of(std::uint64_t payload) const {
    if (crc_bits_ == 0) return 0;
    const int nbytes = (payload_bits_ + 7) / 8;
    std::uint8_t bytes[8];
    for (int i = 0; i < nbytes; ++i) bytes[i] = std::uint8_t(payload >> (8 * (nbytes - 1 - i)));
    const std::uint32_t c = crc32(bytes, std::size_t(nbytes));
    return crc_bits_ == 32 ? c : (c & ((std::uint32_t(1) << crc_bits_) - 1));
}

void PayloadCode::encode(std::uint64_t payload, std::uint8_t* out) const {
    if (!payload_in_range(payload))
        throw InvalidInput("payload: does not fit in " + std::to_string(payload_bits_) + " bits");
    std::uint8_t info[96];
    for (int i = 0; i < payload_bits_; ++i) info[i] = std::uint8_t((payload >> (payload_bits_ - 1 - i)) & 1u);
    const std::uint32_t c = crc_of(payload);
    for (int i = 0; i < crc_bits_; ++i) info[payload_bits_ + i] = std::uint8_t((c >> (crc_bits_ - 1 - i)) & 1u);
    code_.encode(info, info_bits(), out);
}

void PayloadCode::split(const std::uint8_t* info, std::uint64_t* payload, bool* crc_ok) const {
    std::uint64_t v = 0;
    for (int i = 0; i < payload_bits_; ++i) v = (v << 1) | info[i];
    std::uint32_t c = 0;
    for (int i = 0; i < crc_bits_; ++i) c = (c << 1) | info[payload_bits_ + i];
    *payload = v;
    *crc_ok = (c == crc_of(v));
}

PayloadCode::Decoded PayloadCode::decode(const float* soft) const {
    std::uint8_t info[96];
    const ConvCode::Result r = code_.decode(soft, info_bits(), info);
    Decoded d;
    split(info, &d.payload, &d.crc_ok);
    d.correlation = r.correlation;
    d.margin = r.margin;
    return d;
}

PayloadCode::ListDecoded PayloadCode::decode_list(const float* soft, std::size_t max_list) const {
    if (max_list < 1 || max_list > ConvCode::kMaxList)
        throw InvalidInput("max_list must be in [1, " + std::to_string(ConvCode::kMaxList) + "], got " +
                           std::to_string(max_list));
    std::uint8_t first[96];
    const ConvCode::Result r0 = code_.decode(soft, info_bits(), first);
    ListDecoded out{false, 0, r0.correlation, -1, 1};
    split(first, &out.payload, &out.crc_ok);
    if (out.crc_ok) out.rank = 0;
    if (out.crc_ok || max_list == 1) return out;
    // The list's paths, best first, are checked one CRC check each, skipping decode()'s path (already
    // checked): the list's first path is decode()'s except where two paths' metrics agree to float
    // rounding (decode() ranks in float, the list in double), and then it is a check of its own. So
    // `checks` is every distinct CRC check made, decode()'s included, and never exceeds max_list.
    std::size_t checks = 1;
    const std::size_t n = info_bits();
    const auto accept = [&](const std::uint8_t* bits) {
        if (std::equal(bits, bits + n, first) || checks >= max_list) return false;  // no new check
        ++checks;
        std::uint64_t v;
        bool ok;
        split(bits, &v, &ok);
        return ok;
    };
    std::uint8_t info[96];
    const ConvCode::ListResult r = code_.decode_list(soft, n, max_list, accept, info);
    out.examined = checks;
    if (r.accepted) {
        split(info, &out.payload, &out.crc_ok);
        out.correlation = r.correlation;
        out.rank = long(checks) - 1;
    }
    return out;
}

}  // namespace synthmark
