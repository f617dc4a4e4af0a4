#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <random>
#include <vector>

#include "check.hpp"
#include "gauss.hpp"
#include "synthmark/conv_code.hpp"
#include "synthmark/errors.hpp"
#include "synthmark/payload_code.hpp"

using namespace synthmark;

using testing::Gauss;

TEST_CASE("conv code: every table entry has its published free distance") {
    for (const auto& e : ConvCode::supported_codes()) {
        ConvCode c(e.constraint_length, e.rate_inverse);
        const int d = c.free_distance();
        if (d != e.free_distance)
            std::fprintf(stderr, "  K=%d n=%d: computed dfree %d, published %d\n", e.constraint_length, e.rate_inverse,
                         d, e.free_distance);
        CHECK(d == e.free_distance);
    }
}

TEST_CASE("conv code: noiseless round trip for every table entry") {
    std::mt19937_64 rng(1);
    for (const auto& e : ConvCode::supported_codes()) {
        ConvCode c(e.constraint_length, e.rate_inverse);
        const std::size_t m = 50;
        std::vector<std::uint8_t> bits(m), coded(c.coded_length(m)), back(m);
        for (auto& b : bits) b = std::uint8_t(rng() & 1);
        c.encode(bits.data(), m, coded.data());
        std::vector<float> soft(coded.size());
        for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = coded[i] ? 1.0f : -1.0f;
        const auto r = c.decode(soft.data(), m, back.data());
        CHECK(back == bits);
        CHECK(std::fabs(r.correlation - 1.0f) < 1e-5f);
    }
}

TEST_CASE("payload code: 8% random hard bit flips at K=15 rate 1/4 decode 64-bit payloads") {
    PayloadCode pc;  // 64 + 32 CRC, K=15, 1/4
    CHECK(pc.coded_bits() == (64 + 32 + 14) * 4);
    std::mt19937_64 rng(7);
    std::vector<std::uint8_t> coded(pc.coded_bits());
    std::vector<float> soft(pc.coded_bits());
    int ok = 0;
    const int trials = 20;
    for (int t = 0; t < trials; ++t) {
        const std::uint64_t payload = rng();
        pc.encode(payload, coded.data());
        // Flip exactly 8% of the coded bits at random positions.
        std::vector<std::size_t> idx(coded.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::shuffle(idx.begin(), idx.end(), rng);
        const std::size_t flips = coded.size() * 8 / 100;
        for (std::size_t i = 0; i < flips; ++i) coded[idx[i]] ^= 1u;
        for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = coded[i] ? 1.0f : -1.0f;
        const auto d = pc.decode(soft.data());
        ok += (d.crc_ok && d.payload == payload);
    }
    CHECK(ok == trials);
}

TEST_CASE("payload code: soft BPSK + AWGN at Eb/N0 = 2.5 dB decodes, K=15 rate 1/4") {
    PayloadCode pc;
    Gauss g(11);
    const double rate = double(pc.info_bits()) / double(pc.coded_bits());
    const double ebn0 = std::pow(10.0, 2.5 / 10.0);
    const double sigma = std::sqrt(1.0 / (2.0 * rate * ebn0));
    std::vector<std::uint8_t> coded(pc.coded_bits());
    std::vector<float> soft(pc.coded_bits());
    int ok = 0;
    const int trials = 20;
    for (int t = 0; t < trials; ++t) {
        const std::uint64_t payload = std::uint64_t(g.rng());
        pc.encode(payload, coded.data());
        for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = float((coded[i] ? 1.0 : -1.0) + sigma * g());
        const auto d = pc.decode(soft.data());
        ok += (d.crc_ok && d.payload == payload);
    }
    CHECK(ok == trials);
}

TEST_CASE("payload code: CRC catches a corrupted message and pure noise") {
    PayloadCode pc(64, 32, 7, 2);
    // Encode info bits whose CRC field is wrong: Viterbi returns them, the CRC must reject them.
    std::vector<std::uint8_t> info(pc.info_bits(), 0), coded(pc.coded_bits());
    for (std::size_t i = 0; i < 64; i += 3) info[i] = 1;
    pc.code().encode(info.data(), info.size(), coded.data());
    std::vector<float> soft(coded.size());
    for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = coded[i] ? 1.0f : -1.0f;
    CHECK(!pc.decode(soft.data()).crc_ok);
    // A valid codeword passes; noise does not.
    pc.encode(0x0123456789ABCDEFull, coded.data());
    for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = coded[i] ? 1.0f : -1.0f;
    const auto d = pc.decode(soft.data());
    CHECK(d.crc_ok && d.payload == 0x0123456789ABCDEFull);
    Gauss g(3);
    int false_ok = 0;
    for (int t = 0; t < 50; ++t) {
        for (auto& s : soft) s = float(g());
        false_ok += pc.decode(soft.data()).crc_ok;
    }
    CHECK(false_ok == 0);
}

TEST_CASE("payload code: short payloads and CRC widths round trip") {
    for (int pb : {1, 8, 13, 32, 64}) {
        for (int cb : {0, 8, 16, 32}) {
            PayloadCode pc(pb, cb, 9, 3);
            const std::uint64_t payload = pb == 64 ? 0xFEDCBA9876543210ull : ((std::uint64_t(1) << pb) - 1) / 3;
            std::vector<std::uint8_t> coded(pc.coded_bits());
            pc.encode(payload, coded.data());
            std::vector<float> soft(coded.size());
            for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = coded[i] ? 2.5f : -2.5f;
            const auto d = pc.decode(soft.data());
            CHECK(d.crc_ok && d.payload == payload);
        }
    }
}

TEST_CASE("conv/payload code: bad parameters and input throw InvalidInput") {
    CHECK_THROWS(ConvCode(15, 3), InvalidInput);
    CHECK_THROWS(ConvCode(6, 2), InvalidInput);
    CHECK_THROWS(ConvCode(16, 4), InvalidInput);
    CHECK_THROWS(ConvCode(7, std::vector<std::uint32_t>{0171}), InvalidInput);
    CHECK_THROWS(ConvCode(7, std::vector<std::uint32_t>{0170, 0133}), InvalidInput);
    CHECK_THROWS(PayloadCode(0, 32), InvalidInput);
    CHECK_THROWS(PayloadCode(65, 32), InvalidInput);
    CHECK_THROWS(PayloadCode(64, 33), InvalidInput);
    CHECK_THROWS(PayloadCode(64, -1), InvalidInput);
    PayloadCode small(8, 8, 7, 2);
    std::vector<std::uint8_t> coded(small.coded_bits());
    CHECK_THROWS(small.encode(256, coded.data()), InvalidInput);
    std::vector<float> soft(small.coded_bits(), 1.0f);
    soft[5] = std::nanf("");
    CHECK_THROWS(small.decode(soft.data()), InvalidInput);
    soft[5] = INFINITY;
    CHECK_THROWS(small.decode(soft.data()), InvalidInput);
}

TEST_CASE("conv code: SIMD decoder is bit-identical to the scalar reference") {
    Gauss g(99);
    std::vector<ConvCode> codes;
    codes.emplace_back(15, 4);
    codes.emplace_back(15, 6);
    codes.emplace_back(9, 3);
    codes.emplace_back(13, std::vector<std::uint32_t>{012345, 017777, 010001});
    for (const auto& c : codes) {
        const std::size_t m = 96;
        std::vector<float> soft(c.coded_length(m));
        std::vector<std::uint8_t> a(m), b(m);
        for (int trial = 0; trial < 6; ++trial) {
            for (auto& s : soft) s = float(g() * (trial + 1));
            if (trial == 5) std::fill(soft.begin(), soft.begin() + 40, 0.0f);  // erasures: ties everywhere
            const auto ra = c.decode(soft.data(), m, a.data());
            const auto rb = c.decode_reference(soft.data(), m, b.data());
            CHECK(a == b);
            CHECK(ra.correlation == rb.correlation);
            CHECK(ra.margin == rb.margin);
        }
    }
}
