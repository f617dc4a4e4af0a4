#include "synthmark/core_info.hpp"

namespace synthmark {
const char* core_version() noexcept { return "0.1.0"; }
}  // namespace synthmark
