#pragma once
namespace synthmark {
// Version of the native core; Python checks it matches the package at import.
const char* core_version() noexcept;
}  // namespace synthmark
