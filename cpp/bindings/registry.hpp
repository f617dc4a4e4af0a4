#pragma once
// One register_* function per concern; module.cpp calls them all.
#include <pybind11/pybind11.h>

namespace synthmark::bind {
void register_info(pybind11::module_& m);
void register_labels(pybind11::module_& m);
void register_coding(pybind11::module_& m);
}  // namespace synthmark::bind
