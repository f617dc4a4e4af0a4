#include <string>
#include <vector>

#include "check.hpp"
#include "synthmark/crc32.hpp"
#include "synthmark/errors.hpp"
#include "synthmark/keyed_streams.hpp"
#include "synthmark/sha256.hpp"

using namespace synthmark;

namespace {
std::string hex(const Digest256& d) {
    static const char* h = "0123456789abcdef";
    std::string s;
    for (auto b : d) {
        s += h[b >> 4];
        s += h[b & 15];
    }
    return s;
}
std::string sha_hex(const std::string& s) { return hex(sha256(s.data(), s.size())); }
std::string hmac_hex(const std::string& k, const std::string& m) { return hex(hmac_sha256(k, m)); }
}  // namespace

TEST_CASE("sha256: FIPS 180-4 examples") {
    CHECK(sha_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates of any split give the one-shot digest") {
    std::string msg;
    for (int i = 0; i < 300; ++i) msg += char(i * 7 + 3);
    const Digest256 ref = sha256(msg.data(), msg.size());
    for (std::size_t split : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 128u, 299u, 300u}) {
        Sha256 h;
        h.update(msg.data(), split);
        h.update(msg.data() + split, msg.size() - split);
        CHECK(h.finish() == ref);
    }
}

TEST_CASE("hmac-sha256: RFC 4231 test cases 1-4, 6, 7") {
    CHECK(hmac_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(hmac_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(hmac_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    std::string k4;
    for (int i = 1; i <= 25; ++i) k4 += char(i);
    CHECK(hmac_hex(k4, std::string(50, '\xcd')) == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    CHECK(hmac_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(hmac_hex(std::string(131, '\xaa'),
                   "This is a test using a larger than block-size key and a larger than block-size data. The key "
                   "needs to be hashed before being used by the HMAC algorithm.") ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("crc32: catalogue check value") {
    CHECK(crc32("123456789", 9) == 0xCBF43926u);
    CHECK(crc32("", 0) == 0u);
}

TEST_CASE("chacha20: RFC 8439 quarter round and block function vectors") {
    // 2.3.2: key 00..1f, block counter 1, nonce 00000009 0000004a 00000000.
    const std::uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, 0x03020100, 0x07060504,
                                  0x0b0a0908, 0x0f0e0d0c, 0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
                                  0x00000001, 0x09000000, 0x4a000000, 0x00000000};
    const std::uint32_t expect[16] = {0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3, 0xc7f4d1c7, 0x0368c033,
                                      0x9aaa2204, 0x4e6cd4c3, 0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
                                      0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2};
    std::uint32_t out[16];
    chacha20_block(in, out);
    for (int i = 0; i < 16; ++i) CHECK(out[i] == expect[i]);
}

TEST_CASE("keyed streams: deterministic, prefix-stable, purpose- and key-separated") {
    const std::string key(32, '\x42'), other(32, '\x43');
    KeyedStreams ks(key.data(), key.size()), ko(other.data(), other.size());
    std::vector<std::uint32_t> a(1000), b(1000), c(37), d(1000), e(1000);
    ks.fill_uint32("data", a.data(), a.size());
    ks.fill_uint32("data", b.data(), b.size());
    ks.fill_uint32("data", c.data(), c.size());
    ks.fill_uint32("sync", d.data(), d.size());
    ko.fill_uint32("data", e.data(), e.size());
    CHECK(a == b);
    for (std::size_t i = 0; i < c.size(); ++i) CHECK(c[i] == a[i]);
    int same_d = 0, same_e = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        same_d += a[i] == d[i];
        same_e += a[i] == e[i];
    }
    CHECK(same_d < 3);
    CHECK(same_e < 3);
    // The stream is ChaCha20 keyed by HMAC(key, prefix + purpose), counter from 0.
    KeyStream s(hmac_sha256(key, "synthmark/stream/v1/data"));
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(s.next_u32() == a[i]);
}

TEST_CASE("keyed streams: signs, uniforms, permutation") {
    const std::string key(16, '\x01');
    KeyedStreams ks(key.data(), key.size());
    std::vector<float> sg(4096), un(4096);
    ks.fill_signs("s", sg.data(), sg.size());
    ks.fill_uniform("u", un.data(), un.size());
    double sum = 0, mean = 0;
    for (auto v : sg) {
        CHECK(v == 1.0f || v == -1.0f);
        sum += v;
    }
    for (auto v : un) {
        CHECK(v >= 0.0f && v < 1.0f);
        mean += v;
    }
    mean /= un.size();
    CHECK(sum > -300 && sum < 300);
    CHECK(mean > 0.47 && mean < 0.53);
    for (std::size_t n : {0u, 1u, 2u, 17u, 1000u}) {
        std::vector<std::int32_t> p(n);
        ks.permutation("perm", p.data(), n);
        std::vector<int> seen(n, 0);
        for (auto v : p) {
            CHECK(v >= 0 && std::size_t(v) < n);
            if (v >= 0 && std::size_t(v) < n) ++seen[std::size_t(v)];
        }
        for (auto s : seen) CHECK(s == 1);
    }
    // Unbiased: position of element 0 in permutations of 3 elements under many purposes is ~uniform.
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 3000; ++i) {
        std::int32_t p[3];
        ks.permutation("p" + std::to_string(i), p, 3);
        for (int j = 0; j < 3; ++j)
            if (p[j] == 0) ++counts[j];
    }
    for (int c : counts) CHECK(c > 880 && c < 1120);
    // a size beyond the bound throws before anything is written (out may be null then)
    CHECK_THROWS(ks.permutation("perm", nullptr, KeyedStreams::kMaxPermutation + 1), InvalidInput);
    CHECK_THROWS(ks.permutation("perm", nullptr, std::size_t(-1)), InvalidInput);
}

TEST_CASE("keyed streams: short key throws") {
    const std::string key(15, 'k');
    CHECK_THROWS(KeyedStreams(key.data(), key.size()), InvalidInput);
}
