#include <pybind11/pybind11.h>

#include <exception>

#include "errors.hpp"
#include "registry.hpp"
#include "synthmark/errors.hpp"

namespace py = pybind11;

namespace {

// Raise synthmark.errors.<name>; looked up at raise time (the package is loaded by then), with the
// builtin as a fallback so an error is never lost.
void raise_synthmark_error(const char* name, PyObject* builtin, const char* message) {
    try {
        py::object cls = py::module_::import("synthmark.errors").attr(name);
        PyErr_SetString(cls.ptr(), message);
    } catch (py::error_already_set&) {
        PyErr_SetString(builtin, message);
    }
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "synthmark native core: payload coding, keyed streams, label compositing, audio mixing";
    // Argument errors become synthmark.errors classes (which also subclass ValueError / TypeError).
    py::register_exception<synthmark::PayloadError>(m, "PayloadError", PyExc_RuntimeError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const synthmark::bind::ArgumentTypeError& e) {
            raise_synthmark_error("InvalidTypeError", PyExc_TypeError, e.what());
        } catch (const synthmark::InvalidInput& e) {  // also bind::ArgumentError
            raise_synthmark_error("InvalidArgumentError", PyExc_ValueError, e.what());
        }
    });
    synthmark::bind::register_info(m);
    synthmark::bind::register_labels(m);
    synthmark::bind::register_coding(m);
}
