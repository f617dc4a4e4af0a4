#pragma once
// Terminated rate-1/n convolutional code with a soft-decision Viterbi decoder.
//
// Encoder: register reg = (reg << 1 | bit) over the last K input bits (bit 0 = newest); output j of a
// step = parity(reg & g_j). The message is followed by K-1 zero tail bits, so the trellis starts and
// ends in state 0 and coded length = (message_bits + K - 1) * n.
//
// Decoder: maximises the correlation sum_i s_i * (2 c_i - 1) between soft input s (s > 0 means "bit 1",
// |s| = reliability, e.g. an LLR) and the codeword c: the ML decision for BPSK over AWGN. Float metrics
// (input is scaled by 1 / max|s| so metrics stay bounded), decisions stored one bit per state per step.
// decode() is const and allocates steps * 2^(K-1) / 8 bytes of decisions plus 2 * 2^(K-1) floats.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synthmark {

class ConvCode {
public:
    // Generators from the built-in literature table (see conv_code.cpp). Throws InvalidInput for an
    // unsupported (K, n); supported_codes() lists the table.
    ConvCode(int constraint_length, int rate_inverse);
    // Custom generators (each must fit in K bits and have the newest and oldest taps set).
    ConvCode(int constraint_length, std::vector<std::uint32_t> generators);

    struct Entry {
        int constraint_length;
        int rate_inverse;
        std::vector<std::uint32_t> generators;  // octal in the source, as published
        int free_distance;                      // as published
    };
    static const std::vector<Entry>& supported_codes();

    int constraint_length() const { return k_; }
    int rate_inverse() const { return n_; }
    const std::vector<std::uint32_t>& generators() const { return gens_; }
    std::size_t coded_length(std::size_t message_bits) const { return (message_bits + std::size_t(k_) - 1) * std::size_t(n_); }

    // bits: message_bits values in {0, 1}; out: coded_length(message_bits) values in {0, 1}.
    void encode(const std::uint8_t* bits, std::size_t message_bits, std::uint8_t* out) const;

    struct Result {
        float correlation;  // sum s_i (2 c_i - 1) / sum |s_i| of the decoded codeword, in [-1, 1]
        float margin;       // (best metric - best competing metric at the final state) / sum |s_i|
    };
    // soft: coded_length(message_bits) finite floats; out: message_bits decoded bits. Throws InvalidInput on
    // non-finite input. Thread-safe (no shared mutable state).
    Result decode(const float* soft, std::size_t message_bits, std::uint8_t* out) const;
    // Plain scalar decoder; decode() uses SSE2 where available and must match it bit for bit (tested).
    Result decode_reference(const float* soft, std::size_t message_bits, std::uint8_t* out) const;

    // Free distance by a trellis search (for tests: checks the table against the published values).
    int free_distance() const;

private:
    Result decode_impl(const float* soft, std::size_t message_bits, std::uint8_t* out, bool allow_simd) const;
    void init_tables();
    int k_;
    int n_;
    std::vector<std::uint32_t> gens_;
    std::vector<std::uint8_t> out_index_;  // 2^K entries: packed output bits of register value reg
};

}  // namespace synthmark
