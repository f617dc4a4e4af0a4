#include "registry.hpp"
#include "synthmark/core_info.hpp"

namespace synthmark::bind {
void register_info(pybind11::module_& m) { m.attr("__core_version__") = synthmark::core_version(); }
}  // namespace synthmark::bind
