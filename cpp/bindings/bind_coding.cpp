// Bindings of the coding layer: SHA-256/HMAC, keyed streams, payload code (CRC + convolutional code).
// Arguments are validated under the GIL (dtype, contiguity, length, finiteness, ranges); the work then
// runs with the GIL released. While released no Python object is touched: only raw pointers into arrays
// that the caller's references keep alive for the duration of the call, and const C++ objects.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>

#include "array_args.hpp"
#include "registry.hpp"
#include "synthmark/keyed_streams.hpp"
#include "synthmark/payload_code.hpp"
#include "synthmark/sha256.hpp"

namespace synthmark::bind {
namespace {

py::bytes digest_bytes(const Digest256& d) { return py::bytes(reinterpret_cast<const char*>(d.data()), d.size()); }

// obj as a Python int: an int or anything with __index__ (e.g. numpy integers), never a bool.
py::int_ index_arg(const py::handle& obj, const char* name) {
    if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr()))
        throw ArgumentTypeError(std::string(name) + ": expected an int, got " +
                                py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>());
    py::int_ v = py::reinterpret_steal<py::int_>(PyNumber_Index(obj.ptr()));
    if (!v) throw py::error_already_set();
    return v;
}

// An int in [0, 2**bits).
std::uint64_t payload_arg(const py::handle& obj, int bits, const char* name) {
    const py::int_ v = index_arg(obj, name);
    const std::string range = std::string(name) + ": must be in [0, 2**" + std::to_string(bits) + ")";
    if (v < py::int_(0)) throw ArgumentError(range);
    const auto nbits = v.attr("bit_length")().cast<int>();
    if (nbits > bits) throw ArgumentError(range);
    return PyLong_AsUnsignedLongLong(v.ptr());
}

// An int in [lo, hi].
long long int_arg(const py::handle& obj, long long lo, long long hi, const char* name) {
    const py::int_ v = index_arg(obj, name);
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow == 0 && x == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (overflow != 0 || x < lo || x > hi)  // the value itself only when it fits (str() of a huge int raises)
        throw ArgumentError(std::string(name) + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                            "], got " + (overflow != 0 ? std::string(overflow > 0 ? "a larger" : "a smaller") +
                                                             " value than a 64-bit int holds"
                                                       : std::to_string(x)));
    return x;
}

void require_finite(const Span<float>& s, const char* name) {
    for (std::size_t i = 0; i < s.size; ++i)
        if (!std::isfinite(s.data[i])) throw ArgumentError(std::string(name) + ": contains NaN or infinity at index " + std::to_string(i));
}

}  // namespace

void register_coding(py::module_& m) {
    m.def(
        "sha256", [](const py::bytes& data) {
            const std::string s = data;
            return digest_bytes(sha256(s.data(), s.size()));
        },
        py::arg("data"), "SHA-256 digest (FIPS 180-4) of data.");
    m.def(
        "hmac_sha256", [](const py::bytes& key, const py::bytes& message) {
            std::string k = key;
            const std::string msg = message;
            const Digest256 d = hmac_sha256(k.data(), k.size(), msg.data(), msg.size());
            secure_zero(k.data(), k.size());
            return digest_bytes(d);
        },
        py::arg("key"), py::arg("message"), "HMAC-SHA256 (RFC 2104) of message under key.");

    py::class_<KeyedStreams>(m, "KeyedStreams",
                             "Keyed pseudo-random streams, one per purpose string: ChaCha20 keyed by "
                             "HMAC-SHA256(key, 'synthmark/stream/v1/' + purpose). Key bytes are never shown.")
        .def(py::init([](const py::bytes& key) {
                 std::string k = key;
                 auto* ks = new KeyedStreams(k.data(), k.size());
                 secure_zero(k.data(), k.size());
                 return ks;
             }),
             py::arg("key"))
        .def("__repr__", [](const KeyedStreams&) { return std::string("<synthmark._core.KeyedStreams>"); })
        .def(
            "fill_uint32",
            [](const KeyedStreams& self, const std::string& purpose, py::array out) {
                auto s = span_1d<std::uint32_t>(out, "out", true);
                py::gil_scoped_release nogil;  // raw pointer into `out`, kept alive by the caller
                self.fill_uint32(purpose, s.data, s.size);
            },
            py::arg("purpose"), py::arg("out").noconvert(), "Fill a 1-D uint32 array with the purpose's stream.")
        .def(
            "fill_signs",
            [](const KeyedStreams& self, const std::string& purpose, py::array out) {
                auto s = span_1d<float>(out, "out", true);
                py::gil_scoped_release nogil;
                self.fill_signs(purpose, s.data, s.size);
            },
            py::arg("purpose"), py::arg("out").noconvert(), "Fill a 1-D float32 array with +1.0 / -1.0.")
        .def(
            "fill_uniform",
            [](const KeyedStreams& self, const std::string& purpose, py::array out) {
                auto s = span_1d<float>(out, "out", true);
                py::gil_scoped_release nogil;
                self.fill_uniform(purpose, s.data, s.size);
            },
            py::arg("purpose"), py::arg("out").noconvert(), "Fill a 1-D float32 array with values in [0, 1).")
        .def(
            "permutation",
            [](const KeyedStreams& self, const std::string& purpose, const py::object& n_obj) {
                // checked before the allocation: n is bounded by kMaxPermutation (2**24)
                const auto n = static_cast<py::ssize_t>(
                    int_arg(n_obj, 0, static_cast<long long>(KeyedStreams::kMaxPermutation), "n"));
                py::array_t<std::int32_t> out(n);
                std::int32_t* p = out.mutable_data();
                {
                    py::gil_scoped_release nogil;  // `out` is owned here and not yet visible to Python
                    self.permutation(purpose, p, std::size_t(n));
                }
                return out;
            },
            py::arg("purpose"), py::arg("n"), "Keyed, unbiased Fisher-Yates permutation of range(n) (int32), 0 <= n <= 2**24.");

    py::class_<PayloadCode>(m, "PayloadCode",
                            "payload (MSB first) + CRC-32 bits -> terminated convolutional code; soft Viterbi "
                            "decoding + CRC check.")
        .def(py::init<int, int, int, int>(), py::arg("payload_bits") = 64, py::arg("crc_bits") = 32,
             py::arg("constraint_length") = 15, py::arg("rate_inverse") = 4)
        .def_property_readonly("coded_bits", &PayloadCode::coded_bits)
        .def_property_readonly("payload_bits", &PayloadCode::payload_bits)
        .def_property_readonly("crc_bits", &PayloadCode::crc_bits)
        .def_property_readonly("constraint_length", [](const PayloadCode& p) { return p.code().constraint_length(); })
        .def_property_readonly("rate_inverse", [](const PayloadCode& p) { return p.code().rate_inverse(); })
        .def_property_readonly("generators", [](const PayloadCode& p) {
            py::tuple t(p.code().generators().size());
            for (std::size_t i = 0; i < t.size(); ++i) t[i] = py::int_(p.code().generators()[i]);
            return t;
        })
        .def("__repr__",
             [](const PayloadCode& p) {
                 return "<synthmark._core.PayloadCode payload_bits=" + std::to_string(p.payload_bits()) +
                        " crc_bits=" + std::to_string(p.crc_bits()) +
                        " constraint_length=" + std::to_string(p.code().constraint_length()) +
                        " rate_inverse=" + std::to_string(p.code().rate_inverse()) + ">";
             })
        .def(
            "encode",
            [](const PayloadCode& self, const py::object& payload) {
                const std::uint64_t v = payload_arg(payload, self.payload_bits(), "payload");
                py::array_t<std::uint8_t> out(static_cast<py::ssize_t>(self.coded_bits()));
                self.encode(v, out.mutable_data());
                return out;
            },
            py::arg("payload"), "Coded bits (uint8 0/1, length coded_bits) of payload.")
        .def(
            "decode",
            [](const PayloadCode& self, py::array soft) {
                auto s = span_1d<float>(soft, "soft", false);
                if (s.size != self.coded_bits())
                    throw ArgumentError("soft: expected length " + std::to_string(self.coded_bits()) + ", got " +
                                          std::to_string(s.size));
                require_finite(s, "soft");
                PayloadCode::Decoded d;
                {
                    py::gil_scoped_release nogil;  // reads `soft` through a raw pointer; self is const
                    d = self.decode(s.data);
                }
                return std::make_tuple(d.crc_ok, py::int_(d.payload), d.correlation);
            },
            py::arg("soft").noconvert(),
            "Soft Viterbi decode. soft[i] > 0 means coded bit i is 1, |soft[i]| its reliability. Returns "
            "(crc_ok, payload, score): score = normalised correlation of the decoded codeword with soft, in "
            "[-1, 1] (1.0 = every bit agrees).")
        .def(
            "decode_list",
            [](const PayloadCode& self, py::array soft, const py::object& max_list) {
                auto s = span_1d<float>(soft, "soft", false);
                if (s.size != self.coded_bits())
                    throw ArgumentError("soft: expected length " + std::to_string(self.coded_bits()) + ", got " +
                                        std::to_string(s.size));
                require_finite(s, "soft");
                const std::size_t L = std::size_t(int_arg(max_list, 1, ConvCode::kMaxList, "max_list"));
                PayloadCode::ListDecoded d;
                {
                    py::gil_scoped_release nogil;  // reads `soft` through a raw pointer; self is const
                    d = self.decode_list(s.data, L);
                }
                return std::make_tuple(d.crc_ok, py::int_(d.payload), d.correlation, d.rank);
            },
            py::arg("soft").noconvert(), py::arg("max_list"),
            "CRC-aided list Viterbi decode: decode(); if its CRC fails, walk the code's paths in decreasing "
            "correlation order (tree-trellis list Viterbi, exact order) and take the first whose CRC checks, "
            "making at most max_list CRC checks in all (1 <= max_list <= 4096; 1 is exactly decode(); "
            "decode()'s path is not checked twice). Returns (crc_ok, payload, score, rank): rank = CRC checks "
            "made before the accepted path (0 = decode()'s path passed, so rank + 1 checks in all), -1 if "
            "none passed (then max_list checks were made, fewer only for codes with fewer paths, and payload "
            "and score are decode()'s). Pure noise passes the CRC at most max_list times as often as with "
            "decode() (about max_list * 2**-crc_bits).");
}

}  // namespace synthmark::bind
