#pragma once
// CRC-32 as in zlib / IEEE 802.3 / PNG: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF.
// crc32("123456789") == 0xCBF43926 (the catalogue check value); equals Python's zlib.crc32.
#include <cstddef>
#include <cstdint>

namespace synthmark {
std::uint32_t crc32(const void* data, std::size_t len, std::uint32_t crc = 0);
}  // namespace synthmark
