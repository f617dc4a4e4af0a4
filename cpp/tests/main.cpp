#include <cstdio>
#include <exception>

#include "check.hpp"

int main() {
    int passed = 0, failed = 0;
    for (const auto& t : synthmark::testing::registry()) {
        synthmark::testing::failures_in_current() = 0;
        try {
            t.fn();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "  unexpected exception: %s\n", e.what());
            ++synthmark::testing::failures_in_current();
        }
        if (synthmark::testing::failures_in_current() == 0) {
            ++passed;
        } else {
            ++failed;
            std::fprintf(stderr, "FAILED %s\n", t.name);
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
