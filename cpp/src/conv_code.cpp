#include "synthmark/conv_code.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "synthmark/errors.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#define SYNTHMARK_CONV_SSE2 1
#endif

namespace synthmark {
namespace {
inline int parity(std::uint32_t v) { return __builtin_parity(v); }
constexpr int kMinK = 7;
constexpr int kMaxK = 15;
constexpr int kMinN = 2;
constexpr int kMaxN = 6;
}  // namespace

// Generator polynomials (octal, as published) and their free distances.
//  K=7, K=9 (rates 1/2, 1/3, 1/4): the optimum-distance codes tabulated by Larsen (IEEE Trans. IT-19,
//    1973) and reproduced in Proakis, "Digital Communications", tables 8.2-1..8.2-3. (K=7, 1/2) is the
//    NASA/CCSDS 171/133 code.
//  K=15, rate 1/4: the JPL Galileo experimental code (Yuen & Vo, "In Search of a 2-dB Coding Gain",
//    TDA Progress Report 42-83, 1985); K=15, rate 1/6: the same four generators plus 73277, 76513 (the
//    JPL K=15 r=1/6 code used on Cassini/Mars Pathfinder).
// cpp/tests/test_conv_code.cpp recomputes every free distance by a trellis search and checks it.
const std::vector<ConvCode::Entry>& ConvCode::supported_codes() {
    static const std::vector<Entry> table = {
        {7, 2, {0171, 0133}, 10},
        {7, 3, {0133, 0145, 0175}, 15},
        {7, 4, {0135, 0135, 0147, 0163}, 20},
        {9, 2, {0561, 0753}, 12},
        {9, 3, {0557, 0663, 0711}, 18},
        {9, 4, {0463, 0535, 0733, 0745}, 24},
        {15, 4, {046321, 051271, 063667, 070535}, 35},
        {15, 6, {046321, 051271, 063667, 070535, 073277, 076513}, 56},
    };
    return table;
}

ConvCode::ConvCode(int constraint_length, int rate_inverse) : k_(constraint_length), n_(rate_inverse) {
    for (const auto& e : supported_codes()) {
        if (e.constraint_length == constraint_length && e.rate_inverse == rate_inverse) {
            gens_ = e.generators;
            init_tables();
            return;
        }
    }
    std::string msg = "unsupported convolutional code (constraint_length=" + std::to_string(constraint_length) +
                      ", rate_inverse=" + std::to_string(rate_inverse) + "); supported:";
    for (const auto& e : supported_codes())
        msg += " (" + std::to_string(e.constraint_length) + ", " + std::to_string(e.rate_inverse) + ")";
    throw InvalidInput(msg);
}

ConvCode::ConvCode(int constraint_length, std::vector<std::uint32_t> generators)
    : k_(constraint_length), n_(int(generators.size())), gens_(std::move(generators)) {
    init_tables();
}

void ConvCode::init_tables() {
    if (k_ < kMinK || k_ > kMaxK)
        throw InvalidInput("constraint_length must be in [" + std::to_string(kMinK) + ", " + std::to_string(kMaxK) +
                           "], got " + std::to_string(k_));
    if (n_ < kMinN || n_ > kMaxN)
        throw InvalidInput("rate_inverse must be in [" + std::to_string(kMinN) + ", " + std::to_string(kMaxN) +
                           "], got " + std::to_string(n_));
    const std::uint32_t top = std::uint32_t(1) << (k_ - 1);
    for (auto g : gens_) {
        if (g >= (top << 1) || !(g & 1) || !(g & top))
            throw InvalidInput("generator polynomials must have exactly K bits with both end taps set");
    }
    out_index_.resize(std::size_t(1) << k_);
    for (std::uint32_t reg = 0; reg < (top << 1); ++reg) {
        std::uint8_t o = 0;
        for (int j = 0; j < n_; ++j) o = std::uint8_t(o | (parity(reg & gens_[std::size_t(j)]) << j));
        out_index_[reg] = o;
    }
}

void ConvCode::encode(const std::uint8_t* bits, std::size_t message_bits, std::uint8_t* out) const {
    const std::uint32_t mask = (std::uint32_t(1) << k_) - 1;
    std::uint32_t reg = 0;
    const std::size_t steps = message_bits + std::size_t(k_) - 1;
    for (std::size_t t = 0; t < steps; ++t) {
        const std::uint32_t b = t < message_bits ? (bits[t] & 1u) : 0u;
        reg = ((reg << 1) | b) & mask;
        const std::uint8_t o = out_index_[reg];
        for (int j = 0; j < n_; ++j) out[t * std::size_t(n_) + std::size_t(j)] = std::uint8_t((o >> j) & 1);
    }
}

ConvCode::Result ConvCode::decode(const float* soft, std::size_t message_bits, std::uint8_t* out) const {
    return decode_impl(soft, message_bits, out, true);
}

ConvCode::Result ConvCode::decode_reference(const float* soft, std::size_t message_bits, std::uint8_t* out) const {
    return decode_impl(soft, message_bits, out, false);
}

ConvCode::Result ConvCode::decode_impl(const float* soft, std::size_t message_bits, std::uint8_t* out,
                                       bool allow_simd) const {
    const std::size_t steps = message_bits + std::size_t(k_) - 1;
    const std::size_t len = steps * std::size_t(n_);
    float max_abs = 0.0f;
    double sum_abs = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
        if (!std::isfinite(soft[i])) throw InvalidInput("soft: contains NaN or infinity");
        const float a = std::fabs(soft[i]);
        max_abs = std::max(max_abs, a);
        sum_abs += a;
    }
    const std::size_t S = std::size_t(1) << (k_ - 1);
    const std::size_t half = S / 2;
    const std::size_t words = S / 32;  // K >= 7 so S >= 64
    const float scale = max_abs > 0.0f ? 1.0f / max_abs : 0.0f;

    // Branch metric for the butterfly of predecessor pair (j, j + half): the branch j -> 2j (input 0)
    // emits out_index_[2j]; the other three branches emit its complement or itself, because every
    // generator has both end taps set: m(j->2j) = m(j+half->2j+1) = +m, the two others = -m.
    std::vector<float> metric(S), next(S);
    std::vector<std::uint32_t> decisions(steps * words);
    const float neg = -1e30f;
    std::fill(metric.begin(), metric.end(), neg);
    metric[0] = 0.0f;
    float bm[64];
    float last_margin = 0.0f;
    const unsigned combos = 1u << n_;
#if SYNTHMARK_CONV_SSE2
    // Worth it once the per-step table (combos * 16 floats) is small next to the butterflies (S / 2).
    const bool use_simd = allow_simd && half >= 16 * std::size_t(combos);
    alignas(16) float bmx[64 * 16];
#else
    (void)allow_simd;
#endif
    for (std::size_t t = 0; t < steps; ++t) {
        const float* s = soft + t * std::size_t(n_);
        for (unsigned o = 0; o < combos; ++o) {
            float v = 0.0f;
            for (int j = 0; j < n_; ++j) v += ((o >> j) & 1u) ? s[j] * scale : -s[j] * scale;
            bm[o] = v;
        }
        std::uint32_t* dec = decisions.data() + t * words;
        const float* old = metric.data();
        float* nw = next.data();
#if SYNTHMARK_CONV_SSE2
        if (use_simd) {
            // out_index_ is linear over GF(2): out(2j) = out(32w) ^ out(2 jl) for j = 16w + jl. So per step
            // tabulate, for each possible out(32w), the 16 branch metrics of a block, then each block of 16
            // butterflies is plain 4-lane arithmetic. Same float operations in the same order as the
            // scalar path (max(b, a) == (b > a ? b : a)), so results are bit-identical to it.
            for (unsigned x = 0; x < combos; ++x)
                for (unsigned jl = 0; jl < 16; ++jl) bmx[x * 16 + jl] = bm[x ^ out_index_[2 * jl]];
            for (std::size_t w = 0; w < words; ++w) {
                const std::size_t j0 = w * 16;
                const float* mx = bmx + 16 * out_index_[32 * w];
                std::uint32_t word = 0;
                for (int q = 0; q < 4; ++q) {
                    const __m128 a = _mm_loadu_ps(old + j0 + 4 * q);
                    const __m128 b = _mm_loadu_ps(old + half + j0 + 4 * q);
                    const __m128 m = _mm_load_ps(mx + 4 * q);
                    const __m128 a0 = _mm_add_ps(a, m), b0 = _mm_sub_ps(b, m);
                    const __m128 a1 = _mm_sub_ps(a, m), b1 = _mm_add_ps(b, m);
                    const __m128 d0 = _mm_cmpgt_ps(b0, a0), d1 = _mm_cmpgt_ps(b1, a1);
                    const __m128 n0 = _mm_max_ps(b0, a0), n1 = _mm_max_ps(b1, a1);
                    _mm_storeu_ps(nw + 2 * j0 + 8 * q, _mm_unpacklo_ps(n0, n1));
                    _mm_storeu_ps(nw + 2 * j0 + 8 * q + 4, _mm_unpackhi_ps(n0, n1));
                    word |= std::uint32_t(_mm_movemask_ps(_mm_unpacklo_ps(d0, d1))) << (8 * q);
                    word |= std::uint32_t(_mm_movemask_ps(_mm_unpackhi_ps(d0, d1))) << (8 * q + 4);
                }
                dec[w] = word;
            }
        } else
#endif
        {
            for (std::size_t w = 0; w < words; ++w) {
                std::uint32_t word = 0;
                const std::size_t j0 = w * 16;
                for (std::size_t jj = 0; jj < 16; ++jj) {
                    const std::size_t j = j0 + jj;
                    const float m = bm[out_index_[2 * j]];
                    const float a = old[j], b = old[j + half];
                    const float a0 = a + m, b0 = b - m;  // into state 2j
                    const float a1 = a - m, b1 = b + m;  // into state 2j + 1
                    const bool d0 = b0 > a0, d1 = b1 > a1;
                    nw[2 * j] = d0 ? b0 : a0;
                    nw[2 * j + 1] = d1 ? b1 : a1;
                    word |= (std::uint32_t(d0) << (2 * jj)) | (std::uint32_t(d1) << (2 * jj + 1));
                }
                dec[w] = word;
            }
        }
        if (t + 1 == steps) {
            const float m = bm[out_index_[0]];
            last_margin = std::fabs((old[0] + m) - (old[half] - m));
        }
        metric.swap(next);
    }
    // Trace back from state 0 (the tail bits force the encoder there).
    std::size_t state = 0;
    for (std::size_t t = steps; t-- > 0;) {
        if (t < message_bits) out[t] = std::uint8_t(state & 1u);
        const std::uint32_t d = (decisions[t * words + state / 32] >> (state % 32)) & 1u;
        state = (state >> 1) | (std::size_t(d) << (k_ - 2));
    }
    Result r;
    const float norm = sum_abs > 0.0 ? float(double(max_abs) / sum_abs) : 0.0f;
    r.correlation = metric[0] * norm;
    r.margin = last_margin * norm;
    return r;
}

std::size_t ConvCode::list_memory_bytes(std::size_t message_bits, std::size_t max_list) const {
    constexpr std::size_t kMaxMessageBits = std::size_t(1) << 24;  // keeps every product below 2^63
    if (message_bits == 0 || message_bits > kMaxMessageBits)
        throw InvalidInput("message_bits must be in [1, " + std::to_string(kMaxMessageBits) + "], got " +
                           std::to_string(message_bits));
    if (max_list > kMaxList) max_list = kMaxList;
    const std::size_t S = std::size_t(1) << (k_ - 1);
    const std::size_t steps = message_bits + std::size_t(k_) - 1;
    const std::size_t forward = (steps + 1) * S * sizeof(double) + steps * (std::size_t(1) << n_) * sizeof(double);
    // Each listed path pushes at most one candidate per step: node (24 B) + heap entry (16 B) + its bits.
    const std::size_t search = (max_list * steps + 1) * (24 + 16) + max_list * steps;
    return forward + search;
}

ConvCode::ListResult ConvCode::decode_list(const float* soft, std::size_t message_bits, std::size_t max_list,
                                           const Accept& accept, std::uint8_t* out) const {
    if (max_list < 1 || max_list > kMaxList)
        throw InvalidInput("max_list must be in [1, " + std::to_string(kMaxList) + "], got " + std::to_string(max_list));
    if (!accept) throw InvalidInput("decode_list: accept predicate is empty");
    const std::size_t need = list_memory_bytes(message_bits, max_list);
    if (need > kMaxListMemoryBytes)
        throw InvalidInput("decode_list: " + std::to_string(message_bits) + " message bits with K=" + std::to_string(k_) +
                           " and max_list=" + std::to_string(max_list) + " would need " +
                           std::to_string(need >> 20) + " MiB (limit " + std::to_string(kMaxListMemoryBytes >> 20) +
                           " MiB)");
    const std::size_t steps = message_bits + std::size_t(k_) - 1;
    const std::size_t len = steps * std::size_t(n_);
    double sum_abs = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
        if (!std::isfinite(soft[i])) throw InvalidInput("soft: contains NaN or infinity");
        sum_abs += std::fabs(double(soft[i]));
    }
    const std::size_t S = std::size_t(1) << (k_ - 1);
    const std::size_t half = S / 2;
    const std::size_t combos = std::size_t(1) << n_;

    // Branch metrics (unscaled, double: every float input is exact, sums of a few hundred round ~1e-16).
    std::vector<double> bm(steps * combos);
    for (std::size_t t = 0; t < steps; ++t) {
        const float* s = soft + t * std::size_t(n_);
        for (std::size_t o = 0; o < combos; ++o) {
            double v = 0.0;
            for (int j = 0; j < n_; ++j) v += ((o >> j) & 1u) ? double(s[j]) : -double(s[j]);
            bm[t * combos + o] = v;
        }
    }
    // Forward pass keeping alpha[t][state] for t = 0..steps; -inf marks states unreachable from state 0.
    // Same butterfly and tie rule as decode(): into state 2j (2j+1) the branch from j carries +m (-m), the
    // branch from j + half the opposite, and the predecessor j + half wins only if strictly better.
    const double ninf = -std::numeric_limits<double>::infinity();
    // Row 0 is initialised here; every later row is written in full by the pass (no second sweep over
    // the ~14 MB of a K=15 table just to fill it).
    const std::unique_ptr<double[]> alpha_buf(new double[(steps + 1) * S]);
    double* const alpha = alpha_buf.get();
    std::fill(alpha, alpha + S, ninf);
    alpha[0] = 0.0;
    // m for butterfly j = 16 w + jl is b[out(32 w) ^ out(2 jl)] (out_index_ is linear over GF(2), as in
    // decode()), so a per-step table of 16 metrics per out(32 w) value makes the inner loop gather-free.
    std::vector<double> bmx(combos * 16);
    for (std::size_t t = 0; t < steps; ++t) {
        const double* a = alpha + t * S;
        double* nx = alpha + (t + 1) * S;
        const double* b = bm.data() + t * combos;
        for (std::size_t x = 0; x < combos; ++x)
            for (std::size_t jl = 0; jl < 16; ++jl) bmx[x * 16 + jl] = b[x ^ out_index_[2 * jl]];
        for (std::size_t j0 = 0; j0 < half; j0 += 16) {
            const double* mx = bmx.data() + 16 * out_index_[2 * j0];
            for (std::size_t jl = 0; jl < 16; ++jl) {
                const std::size_t j = j0 + jl;
                const double m = mx[jl];
                const double a0 = a[j] + m, b0 = a[j + half] - m;
                const double a1 = a[j] - m, b1 = a[j + half] + m;
                nx[2 * j] = b0 > a0 ? b0 : a0;
                nx[2 * j + 1] = b1 > a1 ? b1 : a1;
            }
        }
    }

    // Best-first search over path suffixes. A node is a suffix: the path is in `state` at time t and from
    // there on follows the bits of listed path `parent` (positions >= t); g is the suffix's metric, so
    // alpha[t][state] + g is the metric of the best complete path with that suffix (its prefix follows
    // the forward survivors). Popping a node lists that best path; every branch it declines while tracing
    // the survivors back becomes a new node. The nodes partition the unlisted paths, so the heap's top is
    // always the best unlisted path and paths come out in exact metric order.
    struct Node {
        double g;
        std::uint32_t parent;  // index of the listed path the suffix follows; unused for the root
        std::uint32_t t;
        std::uint32_t state;
    };
    struct Item {
        double f;
        std::uint32_t node;
    };
    struct Lower {
        bool operator()(const Item& x, const Item& y) const { return x.f < y.f || (x.f == y.f && x.node > y.node); }
    };
    std::vector<Node> nodes;
    nodes.reserve(std::min<std::size_t>(max_list * steps + 1, std::size_t(1) << 16));
    // Max-heap on (f, earlier node first). Only max_list - examined more paths can ever be listed, so when the
    // heap holds far more candidates than that, the lower ones are dropped (they cannot reach the top in
    // time: at least that many candidates rank above them). Keeps heap operations on a small heap.
    // After such a pruning every candidate at or below the lowest kept f is hopeless as well (new nodes
    // lose ties by their larger index), so they are not even created: floor_f.
    std::vector<Item> heap;
    heap.reserve(2 * max_list + 2 * steps + 2);
    double floor_f = ninf;
    std::vector<std::uint8_t> paths;  // steps input bits per listed path
    paths.reserve(max_list * steps);

    nodes.push_back({0.0, 0, std::uint32_t(steps), 0});
    heap.push_back({alpha[steps * S], 0});
    ListResult res{false, 0, 0, 0.0f};
    double best_metric = 0.0;
    while (!heap.empty() && res.examined < max_list) {
        const std::size_t remaining = max_list - res.examined;
        if (heap.size() > 2 * remaining + 2 * steps) {
            std::nth_element(heap.begin(), heap.begin() + std::ptrdiff_t(remaining), heap.end(),
                             [](const Item& x, const Item& y) { return Lower()(y, x); });
            heap.resize(remaining);
            std::make_heap(heap.begin(), heap.end(), Lower());
            floor_f = std::min_element(heap.begin(), heap.end(), [](const Item& x, const Item& y) { return x.f < y.f; })->f;
        }
        std::pop_heap(heap.begin(), heap.end(), Lower());
        const Item top = heap.back();
        heap.pop_back();
        const Node nd = nodes[top.node];
        const std::size_t p = res.examined;
        paths.resize((p + 1) * steps);
        std::uint8_t* bits = paths.data() + p * steps;
        if (nd.t < steps) {
            const std::uint8_t* from = paths.data() + std::size_t(nd.parent) * steps;
            std::copy(from + nd.t, from + steps, bits + nd.t);
        }
        std::size_t s = nd.state;
        double g = nd.g;
        for (std::size_t u = nd.t; u > 0; --u) {
            bits[u - 1] = std::uint8_t(s & 1u);
            const std::size_t j = s >> 1;
            const double* a = alpha + (u - 1) * S;
            const double m = bm[(u - 1) * combos + out_index_[2 * j]];
            const double m_lo = (s & 1u) ? -m : m;  // branch from j; the one from j + half carries -m_lo
            const double c_lo = a[j] + m_lo, c_hi = a[j + half] - m_lo;
            const bool hi = c_hi > c_lo;  // the forward pass's decision, recomputed bit for bit
            const std::size_t other = hi ? j : j + half;
            const double g_other = g + (hi ? m_lo : -m_lo);
            const double f_other = a[other] + g_other;  // -inf (unreachable state) never passes
            if (f_other > floor_f) {
                if (nodes.size() >= 0xffffffffu) throw InvalidInput("decode_list: search space too large");
                nodes.push_back({g_other, std::uint32_t(p), std::uint32_t(u - 1), std::uint32_t(other)});
                heap.push_back({f_other, std::uint32_t(nodes.size() - 1)});
                std::push_heap(heap.begin(), heap.end(), Lower());
            }
            g += hi ? -m_lo : m_lo;
            s = hi ? j + half : j;
        }
        // s == 0 here: only state 0 is finite at time 0. g is the listed path's own metric.
        ++res.examined;
        if (p == 0) best_metric = g;
        if (accept(bits)) {
            res.accepted = true;
            res.rank = p;
            std::copy(bits, bits + message_bits, out);
            res.correlation = sum_abs > 0.0 ? float(g / sum_abs) : 0.0f;
            return res;
        }
    }
    std::copy(paths.data(), paths.data() + message_bits, out);
    res.correlation = sum_abs > 0.0 ? float(best_metric / sum_abs) : 0.0f;
    return res;
}

int ConvCode::free_distance() const {
    const std::size_t S = std::size_t(1) << (k_ - 1);
    const int inf = std::numeric_limits<int>::max() / 4;
    std::vector<int> dist(S, inf), nd(S);
    // Leave state 0 with input 1.
    dist[1] = __builtin_popcount(out_index_[1]);
    int best = inf;
    for (int iter = 0; iter < 64 * k_; ++iter) {
        std::fill(nd.begin(), nd.end(), inf);
        int lowest = inf;
        for (std::size_t p = 1; p < S; ++p) {
            if (dist[p] >= best) continue;
            for (std::uint32_t b = 0; b < 2; ++b) {
                const std::uint32_t reg = std::uint32_t(p << 1) | b;
                const std::size_t s = reg & (S - 1);
                const int w = dist[p] + __builtin_popcount(out_index_[reg]);
                if (s == 0) {
                    best = std::min(best, w);
                } else if (w < nd[s]) {
                    nd[s] = w;
                }
            }
        }
        for (std::size_t s = 1; s < S; ++s) lowest = std::min(lowest, nd[s]);
        dist.swap(nd);
        if (lowest >= best) break;
    }
    return best;
}

}  // namespace synthmark
