#pragma once
// Binding-side argument errors. module.cpp translates them into synthmark.errors.InvalidArgumentError /
// InvalidTypeError, which also subclass ValueError / TypeError.
#include <stdexcept>

#include "synthmark/errors.hpp"

namespace synthmark::bind {

// A bad value, shape or range: the core's own error type, so one translation covers both.
using ArgumentError = synthmark::InvalidInput;

// A wrong type or dtype (not an invalid_argument, so no translator can mistake it for a value error).
struct ArgumentTypeError : std::logic_error {
    using std::logic_error::logic_error;
};

}  // namespace synthmark::bind
