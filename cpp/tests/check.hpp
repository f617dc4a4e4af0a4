#pragma once
// Minimal self-registering test harness for the plain C++ core tests (run under ASan/UBSan in CI).
// Ends with the line "N passed, N failed" that CI reads.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace synthmark::testing {
struct TestCase {
    const char* name;
    std::function<void()> fn;
};
inline std::vector<TestCase>& registry() {
    static std::vector<TestCase> r;
    return r;
}
inline int& failures_in_current() {
    static int f = 0;
    return f;
}
struct Registrar {
    Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};
}  // namespace synthmark::testing

#define SM_CAT2(a, b) a##b
#define SM_CAT(a, b) SM_CAT2(a, b)
#define TEST_CASE(name)                                                                        \
    static void SM_CAT(sm_test_fn_, __LINE__)();                                               \
    static ::synthmark::testing::Registrar SM_CAT(sm_test_reg_, __LINE__)(name, SM_CAT(sm_test_fn_, __LINE__)); \
    static void SM_CAT(sm_test_fn_, __LINE__)()

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            std::fprintf(stderr, "  CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            ++::synthmark::testing::failures_in_current();                                   \
        }                                                                                    \
    } while (0)

#define CHECK_THROWS(expr, ExcType)                                                          \
    do {                                                                                     \
        bool sm_thrown = false;                                                              \
        try {                                                                                \
            (void)(expr);                                                                    \
        } catch (const ExcType&) {                                                           \
            sm_thrown = true;                                                                \
        }                                                                                    \
        if (!sm_thrown) {                                                                    \
            std::fprintf(stderr, "  CHECK_THROWS failed at %s:%d: %s\n", __FILE__, __LINE__, #expr); \
            ++::synthmark::testing::failures_in_current();                                   \
        }                                                                                    \
    } while (0)
