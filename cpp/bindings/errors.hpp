#pragma once
// Binding-side argument errors. module.cpp translates them (and the core's InvalidInput) into
// synthmark.errors.InvalidArgumentError / InvalidTypeError, which also subclass ValueError / TypeError.
#include <stdexcept>
#include <string>

namespace synthmark::bind {

struct ArgumentError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct ArgumentTypeError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

}  // namespace synthmark::bind
