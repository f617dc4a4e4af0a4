#include <pybind11/pybind11.h>

#include "registry.hpp"
#include "synthmark/errors.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
    m.doc() = "synthmark native core: payload coding, keyed streams, label compositing, audio mixing";
    // Core errors map onto builtins; Python wrappers re-raise them as synthmark.errors classes where useful.
    py::register_exception<synthmark::PayloadError>(m, "PayloadError", PyExc_RuntimeError);
    synthmark::bind::register_info(m);
    synthmark::bind::register_labels(m);
    synthmark::bind::register_coding(m);
}
