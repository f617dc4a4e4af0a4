#pragma once
// Deterministic Gaussian (Box-Muller on mt19937_64) so the tests are the same on every platform.
#include <cmath>
#include <cstdint>
#include <random>

namespace synthmark::testing {
struct Gauss {
    std::mt19937_64 rng;
    explicit Gauss(std::uint64_t seed) : rng(seed) {}
    double uniform() { return (double(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
    double operator()() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
};
}  // namespace synthmark::testing
