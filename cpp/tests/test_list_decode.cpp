// ConvCode::decode_list / PayloadCode::decode_list: exact list order against brute force, rank 0 against
// decode(), CRC-aided recovery, and input validation.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "gauss.hpp"
#include "synthmark/conv_code.hpp"
#include "synthmark/errors.hpp"
#include "synthmark/payload_code.hpp"

using namespace synthmark;

using testing::Gauss;

namespace {

// Correlation metric sum_i s_i (2 c_i - 1) of the codeword of `bits`, in double, in index order.
double metric_of(const ConvCode& c, const std::vector<std::uint8_t>& bits, const std::vector<float>& soft) {
    std::vector<std::uint8_t> coded(c.coded_length(bits.size()));
    c.encode(bits.data(), bits.size(), coded.data());
    double m = 0.0;
    for (std::size_t i = 0; i < coded.size(); ++i) m += coded[i] ? double(soft[i]) : -double(soft[i]);
    return m;
}

struct Ranked {
    double metric;
    std::vector<std::uint8_t> bits;
};

// Every message of m bits with its metric, best first (stable: ties keep message order).
std::vector<Ranked> brute_force(const ConvCode& c, std::size_t m, const std::vector<float>& soft) {
    std::vector<Ranked> all;
    for (std::uint32_t v = 0; v < (1u << m); ++v) {
        std::vector<std::uint8_t> bits(m);
        for (std::size_t i = 0; i < m; ++i) bits[i] = std::uint8_t((v >> i) & 1u);
        all.push_back({metric_of(c, bits, soft), bits});
    }
    std::stable_sort(all.begin(), all.end(), [](const Ranked& a, const Ranked& b) { return a.metric > b.metric; });
    return all;
}

// The whole list (accept() never says yes), in the order decode_list produced it.
std::vector<std::vector<std::uint8_t>> full_list(const ConvCode& c, std::size_t m, std::size_t max_list,
                                                 const std::vector<float>& soft, ConvCode::ListResult* res) {
    std::vector<std::vector<std::uint8_t>> listed;
    std::vector<std::uint8_t> out(m, 7);
    *res = c.decode_list(soft.data(), m, max_list,
                         [&](const std::uint8_t* bits) {
                             listed.emplace_back(bits, bits + m);
                             return false;
                         },
                         out.data());
    if (!listed.empty()) CHECK(out == listed[0]);  // nothing accepted: out holds rank 0
    return listed;
}

double sum_abs(const std::vector<float>& soft) {
    double s = 0.0;
    for (float v : soft) s += std::fabs(double(v));
    return s;
}
}  // namespace

TEST_CASE("list decode: order is exactly the brute-force metric order (K=7, 9, 15; 4..10 message bits)") {
    Gauss g(2024);
    const int specs[][2] = {{7, 2}, {7, 3}, {9, 4}, {15, 4}};
    int compared = 0;
    for (const auto& spec : specs) {
        ConvCode c(spec[0], spec[1]);
        for (std::size_t m = 4; m <= 10; ++m) {
            for (int kind = 0; kind < 4; ++kind) {
                std::vector<float> soft(c.coded_length(m));
                // 0: pure Gaussian noise; 1: noisy codeword; 2: hard +-1 decisions (many exact ties);
                // 3: noise with a run of erasures (zeros).
                std::vector<std::uint8_t> msg(m), coded(soft.size());
                for (auto& b : msg) b = std::uint8_t(g.rng() & 1u);
                c.encode(msg.data(), m, coded.data());
                for (std::size_t i = 0; i < soft.size(); ++i) {
                    const double x = coded[i] ? 1.0 : -1.0;
                    if (kind == 0) soft[i] = float(g());
                    if (kind == 1) soft[i] = float(x + 0.9 * g());
                    if (kind == 2) soft[i] = float(g() > 0.0 ? 1.0 : -1.0);
                    if (kind == 3) soft[i] = i < soft.size() / 3 ? 0.0f : float(x + 1.2 * g());
                }
                const auto ref = brute_force(c, m, soft);
                const double tol = 1e-9 * std::max(1.0, sum_abs(soft));
                // Full list: max_list above the number of paths, so the search must run dry at exactly 2^m.
                const std::size_t total = std::size_t(1) << m;
                ConvCode::ListResult res;
                const auto listed = full_list(c, m, std::min<std::size_t>(ConvCode::kMaxList, total + 5), soft, &res);
                CHECK(!res.accepted);
                CHECK(res.examined == total);
                CHECK(listed.size() == total);
                if (listed.size() != total) continue;
                std::vector<std::vector<std::uint8_t>> sorted_listed = listed;
                std::sort(sorted_listed.begin(), sorted_listed.end());
                CHECK(std::adjacent_find(sorted_listed.begin(), sorted_listed.end()) == sorted_listed.end());
                bool same_metrics = true, same_paths = true;
                for (std::size_t r = 0; r < total; ++r) {
                    const double lm = metric_of(c, listed[r], soft);
                    if (std::fabs(lm - ref[r].metric) > tol) same_metrics = false;
                    // Where the rank is not tied with a neighbour, the path itself must match.
                    const bool tied = (r > 0 && ref[r - 1].metric - ref[r].metric <= tol) ||
                                      (r + 1 < total && ref[r].metric - ref[r + 1].metric <= tol);
                    if (!tied && listed[r] != ref[r].bits) same_paths = false;
                }
                if (!same_metrics || !same_paths)
                    std::fprintf(stderr, "  K=%d n=%d m=%zu kind=%d: list order differs from brute force\n", spec[0],
                                 spec[1], m, kind);
                CHECK(same_metrics);
                CHECK(same_paths);
                // A shorter list is the prefix of the full one.
                ConvCode::ListResult res2;
                const auto prefix = full_list(c, m, 5, soft, &res2);
                CHECK(res2.examined == 5);
                CHECK(prefix.size() == 5 && std::equal(prefix.begin(), prefix.end(), listed.begin()));
                // Stopping at rank r: accept() says yes to the r-th listed path only.
                const std::size_t r = std::size_t(g.rng() % total);
                std::vector<std::uint8_t> out(m);
                std::size_t calls = 0;
                const auto hit = c.decode_list(soft.data(), m, total,
                                               [&](const std::uint8_t* bits) {
                                                   ++calls;
                                                   return std::equal(bits, bits + m, listed[r].begin());
                                               },
                                               out.data());
                CHECK(hit.accepted && hit.rank == r && hit.examined == r + 1 && calls == r + 1);
                CHECK(out == listed[r]);
                const double sa = sum_abs(soft);
                const double want = sa > 0.0 ? metric_of(c, listed[r], soft) / sa : 0.0;
                CHECK(std::fabs(double(hit.correlation) - want) < 1e-6);
                ++compared;
            }
        }
    }
    CHECK(compared == 4 * 7 * 4);
}

TEST_CASE("list decode: rank 0 is decode()'s path (K=15 rate 1/4, 96 bits; K=7 rate 1/2)") {
    Gauss g(5);
    for (const auto& spec : {std::pair<int, int>{15, 4}, std::pair<int, int>{7, 2}}) {
        ConvCode c(spec.first, spec.second);
        const std::size_t m = 96;
        std::vector<float> soft(c.coded_length(m));
        std::vector<std::uint8_t> msg(m), coded(soft.size()), a(m), b(m);
        for (int trial = 0; trial < 12; ++trial) {
            for (auto& x : msg) x = std::uint8_t(g.rng() & 1u);
            c.encode(msg.data(), m, coded.data());
            const double sigma = 0.4 + 0.15 * trial;
            for (std::size_t i = 0; i < soft.size(); ++i) {
                const double v = (coded[i] ? 1.0 : -1.0) + sigma * g();
                soft[i] = trial % 3 == 2 ? (v > 0 ? 1.0f : -1.0f) : float(trial == 11 ? g() : v);
            }
            const auto rv = c.decode(soft.data(), m, a.data());
            const auto rl = c.decode_list(soft.data(), m, 1, [](const std::uint8_t*) { return false; }, b.data());
            CHECK(a == b);
            CHECK(std::fabs(rv.correlation - rl.correlation) < 1e-5f);
            CHECK(rl.examined == 1 && !rl.accepted);
        }
    }
    // PayloadCode: max_list = 1 is decode(), field for field.
    PayloadCode pc;
    std::vector<std::uint8_t> coded(pc.coded_bits());
    std::vector<float> soft(pc.coded_bits());
    for (int trial = 0; trial < 8; ++trial) {
        pc.encode(g.rng(), coded.data());
        for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = float((coded[i] ? 1.0 : -1.0) + (0.8 + 0.2 * trial) * g());
        const auto d = pc.decode(soft.data());
        const auto l = pc.decode_list(soft.data(), 1);
        CHECK(d.crc_ok == l.crc_ok && d.payload == l.payload && d.correlation == l.correlation);
        CHECK(l.examined == 1 && l.rank == (d.crc_ok ? 0 : -1));
    }
}

TEST_CASE("list decode: the CRC picks the transmitted payload where Viterbi's path fails it") {
    // Small code, many noisy trials: count trials where decode() fails the CRC and the list recovers.
    {
        PayloadCode pc(16, 16, 7, 2);
        Gauss g(77);
        std::vector<std::uint8_t> coded(pc.coded_bits());
        std::vector<float> soft(pc.coded_bits());
        int viterbi_ok = 0, list_ok = 0, recovered = 0, wrong = 0;
        for (int t = 0; t < 300; ++t) {
            const std::uint64_t payload = g.rng() & 0xffffu;
            pc.encode(payload, coded.data());
            for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = float((coded[i] ? 1.0 : -1.0) + 1.1 * g());
            const auto d = pc.decode(soft.data());
            const auto l = pc.decode_list(soft.data(), 256);
            viterbi_ok += d.crc_ok && d.payload == payload;
            list_ok += l.crc_ok && l.payload == payload;
            if (d.crc_ok) CHECK(l.rank == 0 && l.payload == d.payload && l.examined == 1);
            if (!d.crc_ok && l.crc_ok) {
                CHECK(l.rank > 0 && std::size_t(l.rank) + 1 == l.examined);
                recovered += l.payload == payload;
                wrong += l.payload != payload;
            }
            if (!l.crc_ok) CHECK(l.rank == -1 && l.payload == d.payload && l.examined == 256);
        }
        std::fprintf(stderr, "  (16+16, K=7 1/2, sigma 1.1: Viterbi %d/300, list-256 %d/300, recovered %d, wrong %d)\n",
                     viterbi_ok, list_ok, recovered, wrong);
        CHECK(recovered >= 10);
        CHECK(list_ok > viterbi_ok);
        CHECK(wrong <= 2);
    }
    // The audio code (64 + 32, K=15 rate 1/4) at Eb/N0 = 0 dB: fixed seed, the first 4 trials where decode() fails.
    {
        PayloadCode pc;
        Gauss g(31);
        const double rate = double(pc.info_bits()) / double(pc.coded_bits());
        const double sigma = std::sqrt(1.0 / (2.0 * rate * 1.0));
        std::vector<std::uint8_t> coded(pc.coded_bits());
        std::vector<float> soft(pc.coded_bits());
        int failed = 0, recovered = 0;
        for (int t = 0; t < 60 && failed < 4; ++t) {
            const std::uint64_t payload = g.rng();
            pc.encode(payload, coded.data());
            for (std::size_t i = 0; i < soft.size(); ++i) soft[i] = float((coded[i] ? 1.0 : -1.0) + sigma * g());
            if (pc.decode(soft.data()).crc_ok) continue;
            ++failed;
            const auto l = pc.decode_list(soft.data(), 1024);
            if (l.crc_ok) {
                CHECK(l.payload == payload);
                CHECK(l.rank > 0 && std::size_t(l.rank) + 1 == l.examined);
            }
            recovered += l.crc_ok && l.payload == payload;
        }
        std::fprintf(stderr, "  (64+32, K=15 1/4, 0 dB: decode() failed %d, list-1024 recovered %d)\n", failed,
                     recovered);
        CHECK(failed == 4);
        CHECK(recovered >= 1);
    }
}

TEST_CASE("list decode: bad input throws InvalidInput") {
    ConvCode c(7, 2);
    const std::size_t m = 8;
    std::vector<float> soft(c.coded_length(m), 1.0f);
    std::vector<std::uint8_t> out(m);
    const ConvCode::Accept no = [](const std::uint8_t*) { return false; };
    CHECK_THROWS(c.decode_list(soft.data(), m, 0, no, out.data()), InvalidInput);
    CHECK_THROWS(c.decode_list(soft.data(), m, ConvCode::kMaxList + 1, no, out.data()), InvalidInput);
    CHECK_THROWS(c.decode_list(soft.data(), 0, 4, no, out.data()), InvalidInput);
    CHECK_THROWS(c.decode_list(soft.data(), m, 4, ConvCode::Accept(), out.data()), InvalidInput);
    soft[3] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS(c.decode_list(soft.data(), m, 4, no, out.data()), InvalidInput);
    soft[3] = -std::numeric_limits<float>::infinity();
    CHECK_THROWS(c.decode_list(soft.data(), m, 4, no, out.data()), InvalidInput);
    // The memory cap (checked before the input is read, so a dummy pointer is never dereferenced).
    ConvCode big(15, 4);
    CHECK(big.list_memory_bytes(96, 4096) < ConvCode::kMaxListMemoryBytes);
    CHECK(big.list_memory_bytes(5000, 16) > ConvCode::kMaxListMemoryBytes);
    CHECK_THROWS(big.decode_list(soft.data(), 5000, 16, no, out.data()), InvalidInput);
    CHECK_THROWS(big.list_memory_bytes(std::size_t(1) << 40, 16), InvalidInput);
    // A throwing predicate propagates.
    soft[3] = 1.0f;
    bool threw = false;
    try {
        c.decode_list(soft.data(), m, 4, [](const std::uint8_t*) -> bool { throw std::runtime_error("x"); }, out.data());
    } catch (const std::runtime_error&) {
        threw = true;
    }
    CHECK(threw);
    PayloadCode pc(16, 16, 7, 2);
    std::vector<float> ps(pc.coded_bits(), 0.5f);
    CHECK_THROWS(pc.decode_list(ps.data(), 0), InvalidInput);
    CHECK_THROWS(pc.decode_list(ps.data(), ConvCode::kMaxList + 1), InvalidInput);
    ps[10] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS(pc.decode_list(ps.data(), 8), InvalidInput);
}

TEST_CASE("list decode: all-erasure and huge inputs (every path tied / near float max)") {
    ConvCode c(7, 2);
    const std::size_t m = 6;
    std::vector<float> soft(c.coded_length(m), 0.0f);
    ConvCode::ListResult res;
    auto listed = full_list(c, m, 100, soft, &res);  // all 64 paths tie at metric 0
    CHECK(res.examined == 64 && listed.size() == 64);
    std::sort(listed.begin(), listed.end());
    CHECK(std::adjacent_find(listed.begin(), listed.end()) == listed.end());
    CHECK(res.correlation == 0.0f);
    // Inputs near FLT_MAX: the double metrics neither overflow nor lose the order.
    Gauss g(4);
    for (auto& s : soft) s = float(g() > 0 ? 3.0e38 : -3.0e38) * float(0.5 + 0.5 * g.uniform());
    const auto ref = brute_force(c, m, soft);
    listed = full_list(c, m, 64, soft, &res);
    CHECK(res.examined == 64);
    bool ok = true;
    for (std::size_t r = 0; r < 64; ++r)
        ok = ok && std::fabs(metric_of(c, listed[r], soft) - ref[r].metric) <= 1e-9 * sum_abs(soft);
    CHECK(ok);
    CHECK(std::isfinite(res.correlation) && std::fabs(res.correlation) <= 1.0f);
}
