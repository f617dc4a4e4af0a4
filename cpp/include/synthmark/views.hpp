#pragma once
// Non-owning views over caller memory. The core never allocates frames or audio:
// Python owns the buffers, bindings check them, the core reads and writes through these.
#include <cstddef>
#include <cstdint>

#include "synthmark/errors.hpp"

namespace synthmark {

// A 2-D plane of T with unit inner stride and any row pitch (PyAV linesize padding allowed).
// Packed pixel formats use `channels` > 1 interleaved within a row.
template <class T>
struct PlaneView {
    T* data = nullptr;
    std::ptrdiff_t width = 0;       // pixels per row
    std::ptrdiff_t height = 0;      // rows
    std::ptrdiff_t row_stride = 0;  // elements (not bytes) from one row to the next
    std::ptrdiff_t channels = 1;    // interleaved samples per pixel

    T* row(std::ptrdiff_t y) const { return data + y * row_stride; }

    // Throws InvalidInput when the view cannot be walked safely.
    void check(const char* name) const {
        if (data == nullptr && width * height > 0) throw InvalidInput(std::string(name) + ": null data");
        if (width < 0 || height < 0 || channels < 1)
            throw InvalidInput(std::string(name) + ": negative size");
        if (height > 1 && row_stride < width * channels)
            throw InvalidInput(std::string(name) + ": row stride smaller than a row");
    }
};

// Interleaved or planar audio is passed as a contiguous span of float samples.
template <class T>
struct Span {
    T* data = nullptr;
    std::size_t size = 0;
    T& operator[](std::size_t i) const { return data[i]; }
};

}  // namespace synthmark
