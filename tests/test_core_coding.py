"""synthmark._core coding layer: SHA-256/HMAC, keyed streams, payload code (CRC + conv code + Viterbi)."""

from __future__ import annotations

import hashlib
import hmac
import struct
import threading
import zlib

import numpy as np
import pytest

from synthmark import _core

KEY = bytes(range(32))


# ---------------------------------------------------------------- SHA-256 / HMAC
@pytest.mark.parametrize("data", [b"", b"abc", b"a" * 55, b"a" * 56, b"a" * 64, bytes(range(256)) * 9])
def test_sha256_matches_hashlib(data):
    assert _core.sha256(data) == hashlib.sha256(data).digest()


@pytest.mark.parametrize("key", [b"", b"k", b"\x0b" * 20, b"\xaa" * 64, b"\xaa" * 131])
@pytest.mark.parametrize("msg", [b"", b"Hi There", b"\xdd" * 200])
def test_hmac_sha256_matches_stdlib(key, msg):
    assert _core.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_hmac_rfc4231_case_2():
    assert (
        _core.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex()
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


# ---------------------------------------------------------------- keyed streams
def _chacha20_words(key32: bytes, nwords: int) -> list[int]:
    """Slow reference: ChaCha20 (DJB layout, 64-bit counter from 0, zero nonce) keystream words."""

    def rotl(x, n):
        return ((x << n) & 0xFFFFFFFF) | (x >> (32 - n))

    def qr(s, a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)  # noqa: E702
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)  # noqa: E702
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)  # noqa: E702
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)  # noqa: E702

    const = list(struct.unpack("<4I", b"expand 32-byte k"))
    k = list(struct.unpack("<8I", key32))
    out: list[int] = []
    counter = 0
    while len(out) < nwords:
        init = const + k + [counter & 0xFFFFFFFF, counter >> 32, 0, 0]
        x = list(init)
        for _ in range(10):
            qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15)  # noqa: E702
            qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12); qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14)  # noqa: E702
        out += [(a + b) & 0xFFFFFFFF for a, b in zip(x, init)]
        counter += 1
    return out[:nwords]


def test_stream_matches_the_documented_construction():
    ks = _core.KeyedStreams(KEY)
    got = np.zeros(40, np.uint32)
    ks.fill_uint32("video/pattern", got)
    stream_key = hmac.new(KEY, b"synthmark/stream/v1/video/pattern", hashlib.sha256).digest()
    assert got.tolist() == _chacha20_words(stream_key, 40)


def test_stream_prefix_stable_and_mappings():
    ks = _core.KeyedStreams(KEY)
    words = np.zeros(5000, np.uint32)
    ks.fill_uint32("p", words)
    short = np.zeros(123, np.uint32)
    ks.fill_uint32("p", short)
    assert np.array_equal(short, words[:123])
    signs = np.zeros(5000, np.float32)
    ks.fill_signs("p", signs)
    assert np.array_equal(signs, np.where(words >> 31, 1.0, -1.0).astype(np.float32))
    uni = np.zeros(5000, np.float32)
    ks.fill_uniform("p", uni)
    assert np.array_equal(uni, ((words >> 8).astype(np.float64) / 2**24).astype(np.float32))
    assert uni.min() >= 0.0 and uni.max() < 1.0
    assert abs(float(signs.mean())) < 0.06 and abs(float(uni.mean()) - 0.5) < 0.02


def test_wrong_key_and_other_purpose_differ():
    a, b, c = (np.zeros(1000, np.uint32) for _ in range(3))
    _core.KeyedStreams(KEY).fill_uint32("data", a)
    _core.KeyedStreams(KEY[:-1] + b"\xff").fill_uint32("data", b)
    _core.KeyedStreams(KEY).fill_uint32("sync", c)
    assert np.count_nonzero(a == b) < 3 and np.count_nonzero(a == c) < 3
    sa, sb = np.zeros(4096, np.float32), np.zeros(4096, np.float32)
    _core.KeyedStreams(KEY).fill_signs("data", sa)
    _core.KeyedStreams(b"another key 1234").fill_signs("data", sb)
    assert abs(float(np.dot(sa, sb))) / 4096 < 0.06  # uncorrelated


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000, 100_003])
def test_permutation_is_a_permutation(n):
    p = _core.KeyedStreams(KEY).permutation("order", n)
    assert p.dtype == np.int32 and p.shape == (n,)
    assert np.array_equal(np.sort(p), np.arange(n, dtype=np.int32))
    assert np.array_equal(p, _core.KeyedStreams(KEY).permutation("order", n))


def test_permutation_not_identity_and_key_dependent():
    a = _core.KeyedStreams(KEY).permutation("order", 1000)
    b = _core.KeyedStreams(b"x" * 16).permutation("order", 1000)
    assert np.count_nonzero(a == np.arange(1000)) < 10 and np.count_nonzero(a == b) < 10


def test_keyed_streams_bad_input():
    with pytest.raises(ValueError, match="16"):
        _core.KeyedStreams(b"short")
    ks = _core.KeyedStreams(KEY)
    assert KEY.hex() not in repr(ks) and repr(KEY) not in repr(ks)
    with pytest.raises(TypeError, match="out"):
        ks.fill_uint32("p", np.zeros(8, np.int32))
    with pytest.raises(TypeError, match="out"):
        ks.fill_signs("p", np.zeros(8, np.float64))
    with pytest.raises(TypeError):
        ks.fill_uniform("p", [0.0] * 8)
    ro = np.zeros(8, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ks.fill_uniform("p", ro)
    with pytest.raises(ValueError, match="1-D"):
        ks.fill_signs("p", np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="contiguous"):
        ks.fill_signs("p", np.zeros(16, np.float32)[::2])
    with pytest.raises(ValueError):
        ks.permutation("p", -1)


def test_core_errors_are_synthmark_errors_and_builtins():
    from synthmark.errors import InvalidArgumentError, InvalidTypeError

    ks = _core.KeyedStreams(KEY)
    with pytest.raises(InvalidTypeError, match="out"):
        ks.fill_signs("p", np.zeros(8, np.float64))
    with pytest.raises(InvalidArgumentError, match="1-D"):
        ks.fill_signs("p", np.zeros((2, 4), np.float32))
    with pytest.raises(InvalidArgumentError, match="16"):  # thrown by the core itself (InvalidInput)
        _core.KeyedStreams(b"short")
    code = _core.PayloadCode(payload_bits=64, crc_bits=32, constraint_length=15, rate_inverse=4)
    with pytest.raises(InvalidArgumentError, match="soft"):
        code.decode(np.zeros(3, np.float32))
    with pytest.raises(InvalidArgumentError, match="values"):
        _core.composite_packed(np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8),
                               0, 0, [1, 2], [1, 2, 3])


def test_keyed_streams_threads_match_serial():
    ks = _core.KeyedStreams(KEY)
    purposes = [f"frame/{i}" for i in range(16)]
    serial = {}
    for p in purposes:
        serial[p] = np.zeros(200_000, np.float32)
        ks.fill_signs(p, serial[p])
    threaded = {p: np.zeros(200_000, np.float32) for p in purposes}
    threads = [threading.Thread(target=ks.fill_signs, args=(p, threaded[p])) for p in purposes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(serial[p], threaded[p]) for p in purposes)


# ---------------------------------------------------------------- payload code
def _bpsk_awgn(bits: np.ndarray, ebn0_db: float, rate: float, rng) -> np.ndarray:
    sigma = np.sqrt(1.0 / (2.0 * rate * 10 ** (ebn0_db / 10)))
    return ((2.0 * bits - 1.0) + sigma * rng.standard_normal(bits.size)).astype(np.float32)


@pytest.mark.parametrize(("k", "n"), [(15, 4), (15, 6), (9, 3), (9, 4), (7, 2), (7, 3)])
def test_payload_code_round_trip(k, n):
    pc = _core.PayloadCode(64, 32, k, n)
    assert pc.coded_bits == (64 + 32 + k - 1) * n
    rng = np.random.default_rng(k * 10 + n)
    for payload in [0, 1, 2**64 - 1, 0x1234_5678_9ABC_DEF0, int(rng.integers(0, 2**63))]:
        coded = pc.encode(payload)
        assert coded.dtype == np.uint8 and coded.shape == (pc.coded_bits,) and set(np.unique(coded)) <= {0, 1}
        ok, got, score = pc.decode(coded.astype(np.float32) * 2 - 1)
        assert ok and got == payload and score == pytest.approx(1.0, abs=1e-5)


def test_crc_is_zlib_crc32_of_the_big_endian_payload():
    # With the K=7 rate-1/2 code the first coded bits depend on few info bits; instead check the layout
    # by building the info bits ourselves and comparing codewords: encode is linear over GF(2).
    pc = _core.PayloadCode(64, 32, 7, 2)
    payload = 0x0123_4567_89AB_CDEF
    crc = zlib.crc32(payload.to_bytes(8, "big"))
    info = [(payload >> (63 - i)) & 1 for i in range(64)] + [(crc >> (31 - i)) & 1 for i in range(32)]
    reg, out = 0, []
    for b in info + [0] * 6:
        reg = ((reg << 1) | b) & 0x7F
        out += [bin(reg & g).count("1") & 1 for g in pc.generators]
    assert pc.encode(payload).tolist() == out


def test_soft_decoding_awgn_3db_all_200_payloads():
    pc = _core.PayloadCode()
    rng = np.random.default_rng(2026)
    rate = 96 / pc.coded_bits
    failures = 0
    for _ in range(200):
        payload = int(rng.integers(0, 2**64, dtype=np.uint64))
        soft = _bpsk_awgn(pc.encode(payload), 3.0, rate, rng)
        ok, got, _ = pc.decode(soft)
        failures += not (ok and got == payload)
    assert failures == 0


def test_noise_does_not_pass_the_crc():
    pc = _core.PayloadCode()
    rng = np.random.default_rng(5)
    passes = sum(pc.decode(rng.standard_normal(pc.coded_bits).astype(np.float32))[0] for _ in range(100))
    assert passes == 0


def test_payload_code_bad_input():
    pc = _core.PayloadCode()
    for bad in (2**64, -1):
        with pytest.raises(ValueError, match="payload"):
            pc.encode(bad)
    with pytest.raises(TypeError, match="payload"):
        pc.encode(1.5)
    assert np.array_equal(pc.encode(np.uint64(2**64 - 1)), pc.encode(2**64 - 1))
    with pytest.raises(ValueError, match="payload"):
        _core.PayloadCode(payload_bits=16).encode(2**16)
    good = np.zeros(pc.coded_bits, np.float32)
    with pytest.raises(TypeError, match="soft"):
        pc.decode(good.astype(np.float64))
    with pytest.raises(TypeError):
        pc.decode(good.tolist())
    with pytest.raises(ValueError, match="length"):
        pc.decode(good[:-1])
    with pytest.raises(ValueError, match="1-D"):
        pc.decode(good.reshape(4, -1))
    for v in (np.nan, np.inf, -np.inf):
        bad = good.copy()
        bad[17] = v
        with pytest.raises(ValueError, match="NaN"):
            pc.decode(bad)
    with pytest.raises(ValueError, match="unsupported"):
        _core.PayloadCode(constraint_length=15, rate_inverse=3)
    for kwargs in ({"payload_bits": 0}, {"payload_bits": 65}, {"crc_bits": 33}, {"constraint_length": 5}):
        with pytest.raises(ValueError):
            _core.PayloadCode(**kwargs)


def test_decode_threads_match_serial():
    pc = _core.PayloadCode()
    rng = np.random.default_rng(9)
    rate = 96 / pc.coded_bits
    softs = [_bpsk_awgn(pc.encode(int(rng.integers(0, 2**63))), 1.5, rate, rng) for _ in range(24)]
    serial = [pc.decode(s) for s in softs]
    threaded: list = [None] * len(softs)

    def work(idx):
        for i in idx:
            threaded[i] = pc.decode(softs[i])

    threads = [threading.Thread(target=work, args=(range(j, len(softs), 4),)) for j in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert threaded == serial


def test_stub_names_exist():
    import ast
    import pathlib

    stub = ast.parse((pathlib.Path(_core.__file__).parent / "_core.pyi").read_text())
    for node in stub.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            assert hasattr(_core, node.name), node.name
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, ast.FunctionDef):
                        assert hasattr(getattr(_core, node.name), member.name), f"{node.name}.{member.name}"
