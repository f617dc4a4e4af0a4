#pragma once
// Python arrays -> core views, checked under the GIL. Never copies or casts: a wrong dtype is a
// TypeError, a read-only target a ValueError, and every message names the argument.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "errors.hpp"
#include "synthmark/views.hpp"

namespace synthmark::bind {
namespace py = pybind11;

inline std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

template <class T>
inline void require_dtype(const py::array& a, const char* name) {
    if (!a.dtype().is(py::dtype::of<T>()) && !a.dtype().equal(py::dtype::of<T>())) {
        throw ArgumentTypeError(std::string(name) + ": expected " + py::str(py::dtype::of<T>()).cast<std::string>() +
                             " array, got " + dtype_name(a));
    }
}

inline void require_writable(const py::array& a, const char* name) {
    if (!a.writeable()) throw ArgumentError(std::string(name) + ": array is read-only; pass a writable array");
}

// A 2-D (H, W) or 3-D (H, W, C) array whose pixels are contiguous within a row (any row pitch).
template <class T>
inline PlaneView<T> plane_view(py::array& a, const char* name, bool writable, std::ptrdiff_t channels_required = 0) {
    require_dtype<T>(a, name);
    if (writable) require_writable(a, name);
    const auto item = static_cast<py::ssize_t>(sizeof(T));
    PlaneView<T> v;
    if (a.ndim() == 2) {
        if (a.strides(1) != item) throw ArgumentError(std::string(name) + ": pixels within a row must be contiguous");
        v.channels = 1;
    } else if (a.ndim() == 3) {
        if (a.strides(2) != item || a.strides(1) != item * a.shape(2))
            throw ArgumentError(std::string(name) + ": pixels within a row must be contiguous (interleaved channels)");
        v.channels = a.shape(2);
    } else {
        throw ArgumentError(std::string(name) + ": expected a 2-D plane or an (H, W, C) array, got " +
                              std::to_string(a.ndim()) + " dimensions");
    }
    if (channels_required && v.channels != channels_required)
        throw ArgumentError(std::string(name) + ": expected " + std::to_string(channels_required) + " channels, got " +
                              std::to_string(v.channels));
    if (a.strides(0) % item != 0 || a.strides(0) < item * a.shape(1) * v.channels)
        throw ArgumentError(std::string(name) + ": rows overlap or are not aligned to the element size");
    v.data = static_cast<T*>(writable ? a.mutable_data() : const_cast<void*>(a.data()));
    v.height = a.shape(0);
    v.width = a.shape(1);
    v.row_stride = a.strides(0) / item;
    return v;
}

// A C-contiguous 1-D array.
template <class T>
inline Span<T> span_1d(py::array& a, const char* name, bool writable) {
    require_dtype<T>(a, name);
    if (writable) require_writable(a, name);
    if (a.ndim() != 1) throw ArgumentError(std::string(name) + ": expected a 1-D array, got " + std::to_string(a.ndim()) + " dimensions");
    if (a.shape(0) > 1 && a.strides(0) != static_cast<py::ssize_t>(sizeof(T)))
        throw ArgumentError(std::string(name) + ": expected a contiguous array");
    Span<T> s;
    s.data = static_cast<T*>(writable ? a.mutable_data() : const_cast<void*>(a.data()));
    s.size = static_cast<std::size_t>(a.shape(0));
    return s;
}

// Bytes of a bytes-like Python object (key material, messages). Copied: they are small.
inline std::string bytes_arg(const py::bytes& b) { return std::string(b); }

}  // namespace synthmark::bind
