#pragma once
// Errors of the core. Bindings turn them into synthmark.errors classes (ValueError / RuntimeError subclasses).
// The core never exits, aborts or asserts on input: it throws these.
#include <stdexcept>
#include <string>

namespace synthmark {

// Bad input detected at the core's boundary (sizes, ranges, lengths).
struct InvalidInput : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// A payload could not be decoded (CRC mismatch, no surviving path).
struct PayloadError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace synthmark
