#include "check.hpp"
#include "synthmark/views.hpp"

using synthmark::InvalidInput;
using synthmark::PlaneView;

TEST_CASE("plane view rejects a stride shorter than a row") {
    unsigned char buf[64] = {};
    PlaneView<unsigned char> v{buf, 8, 4, 4, 1};
    CHECK_THROWS(v.check("plane"), InvalidInput);
    PlaneView<unsigned char> ok{buf, 8, 4, 16, 1};
    ok.check("plane");
    CHECK(ok.row(2) == buf + 32);
}
