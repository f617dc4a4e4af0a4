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
#include <functional>
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

    // List Viterbi decoding (tree-trellis algorithm, Soong & Huang 1991): a forward pass in double
    // precision keeps every state metric of every step, then a best-first search runs backwards from the
    // final state 0 with the exact forward metric as its heuristic, so complete terminated paths come out
    // in exact non-increasing correlation order (ties in a fixed order: the earlier-created candidate
    // first). Each path's message bits are handed to accept(); the search stops at the first path it
    // accepts or after max_list paths (fewer if the code has fewer paths). out receives the accepted
    // path, or the best (rank 0) path if none was accepted. Rank 0 is the maximum-correlation path in
    // double precision: the same path as decode() except when two paths' metrics agree to float rounding.
    // Memory: list_memory_bytes(); throws InvalidInput above kMaxListMemoryBytes, for max_list outside
    // [1, kMaxList], message_bits == 0, an empty accept, or non-finite soft input. Thread-safe; accept()
    // may throw (the exception propagates, nothing is left behind).
    static constexpr std::size_t kMaxList = 4096;
    static constexpr std::size_t kMaxListMemoryBytes = std::size_t(256) << 20;
    using Accept = std::function<bool(const std::uint8_t* message_bits)>;
    struct ListResult {
        bool accepted;          // accept() returned true for the path in out
        std::size_t rank;       // its 0-based rank in the list (0 when nothing was accepted)
        std::size_t examined;   // paths handed to accept()
        float correlation;      // of the path in out, as Result::correlation
    };
    ListResult decode_list(const float* soft, std::size_t message_bits, std::size_t max_list, const Accept& accept,
                           std::uint8_t* out) const;
    // Upper bound on decode_list's working memory; throws InvalidInput when message_bits is absurd.
    std::size_t list_memory_bytes(std::size_t message_bits, std::size_t max_list) const;

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
