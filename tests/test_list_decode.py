"""PayloadCode.decode_list: CRC-aided list Viterbi decoding through the binding (exact list order and the
brute-force comparison are in cpp/tests/test_list_decode.cpp)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from synthmark import _core
from synthmark.errors import InvalidArgumentError, InvalidTypeError


def _noisy(pc, rng, payload, ebn0_db):
    rate = (pc.payload_bits + pc.crc_bits) / pc.coded_bits
    sigma = np.sqrt(1.0 / (2.0 * rate * 10 ** (ebn0_db / 10)))
    return ((2.0 * pc.encode(payload) - 1.0) + sigma * rng.standard_normal(pc.coded_bits)).astype(np.float32)


def test_list_recovers_payload_where_viterbi_fails_crc():
    pc = _core.PayloadCode()  # the audio code: 64 + 32 CRC, K=15, rate 1/4
    rng = np.random.default_rng(20261123)
    recovered = failed = 0
    for _ in range(60):
        payload = int(rng.integers(0, 2**64, dtype=np.uint64))
        soft = _noisy(pc, rng, payload, 0.0)
        ok, got, score = pc.decode(soft)
        l_ok, l_got, l_score, rank = pc.decode_list(soft, 1024)
        if ok:  # decode() already passes: the list returns its path at rank 0
            assert (l_ok, l_got, l_score, rank) == (ok, got, score, 0)
            continue
        failed += 1
        if l_ok:
            assert l_got == payload  # a wrong payload passing a 32-bit CRC here would be a bug
            assert 0 < rank < 1024
            assert l_score <= score + 1e-6  # the Viterbi path has the best correlation
            recovered += 1
        else:
            assert (l_got, l_score, rank) == (got, score, -1)
        if failed == 3:
            break
    assert failed == 3
    assert recovered >= 2


def test_max_list_one_is_decode_and_noise_gives_rank_minus_one():
    pc = _core.PayloadCode()
    rng = np.random.default_rng(3)
    for ebn0 in (-1.0, 0.5, 3.0):
        soft = _noisy(pc, rng, 0x0123_4567_89AB_CDEF, ebn0)
        ok, got, score = pc.decode(soft)
        assert pc.decode_list(soft, 1) == (ok, got, score, 0 if ok else -1)
    noise = rng.standard_normal(pc.coded_bits).astype(np.float32)
    ok, got, score = pc.decode(noise)
    assert not ok
    assert pc.decode_list(noise, 64) == (False, got, score, -1)


def test_decode_list_threads_match_serial():
    pc = _core.PayloadCode(32, 16, 9, 3)
    rng = np.random.default_rng(9)
    softs = [_noisy(pc, rng, int(rng.integers(0, 2**32)), -0.5) for _ in range(8)]
    serial = [pc.decode_list(s, 64) for s in softs]
    threaded = [None] * len(softs)

    def work(i):
        threaded[i] = pc.decode_list(softs[i], 64)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(softs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert threaded == serial


def test_decode_list_bad_arguments():
    pc = _core.PayloadCode(16, 16, 7, 2)
    good = (2.0 * pc.encode(1234) - 1.0).astype(np.float32)
    assert pc.decode_list(good, 8) == (True, 1234, pytest.approx(1.0), 0)
    with pytest.raises(InvalidTypeError, match="soft.*float32.*float64"):
        pc.decode_list(good.astype(np.float64), 8)
    with pytest.raises(TypeError):
        pc.decode_list(good.tolist(), 8)
    with pytest.raises(InvalidArgumentError, match="soft: expected length"):
        pc.decode_list(good[:-1], 8)
    with pytest.raises(InvalidArgumentError, match="1-D"):
        pc.decode_list(good.reshape(2, -1), 8)
    with pytest.raises(InvalidArgumentError, match="contiguous"):
        pc.decode_list(np.repeat(good, 2)[::2], 8)
    bad = good.copy()
    bad[5] = np.nan
    with pytest.raises(InvalidArgumentError, match="NaN"):
        pc.decode_list(bad, 8)
    for max_list in (0, -1, 4097, 2**70, 10**5000, -(10**5000)):  # 10**5000: too long for str(int)
        with pytest.raises(InvalidArgumentError, match="max_list"):
            pc.decode_list(good, max_list)
    for max_list in (True, 2.0, "8", None):
        with pytest.raises(InvalidTypeError, match="max_list"):
            pc.decode_list(good, max_list)
    assert pc.decode_list(good, np.int64(4096))[0]


def _near_tie(pc, rng):
    """Soft values where the transmitted codeword (CRC ok) beats the one with info bit i flipped (CRC
    fails) by about one float32 ulp of a single value, far below decode()'s float metric rounding (the
    list's forward pass is in double: it ranks them right). Returns (payload, soft)."""
    K, n, gens = pc.constraint_length, pc.rate_inverse, pc.generators
    info_bits = pc.payload_bits + pc.crc_bits
    payload = int(rng.integers(0, 2**pc.payload_bits))
    sign = (2.0 * pc.encode(payload) - 1.0).astype(np.float32)
    i = int(rng.integers(0, info_bits))
    # coded positions the flip changes: step i + d, output j where tap d of generator j is set
    diff = np.array([(i + d) * n + j for d in range(K) for j in range(n) if gens[j] >> d & 1])
    v = (rng.uniform(0.5, 1.5, len(diff)) * np.where(np.arange(len(diff)) % 2, -1, 1)).astype(np.float32)
    last = np.float32(-np.sum(v[:-1], dtype=np.float64))
    while np.sum(v[:-1], dtype=np.float64) + float(last) <= 0.0:
        last = np.nextafter(last, np.float32(np.inf))
    v[-1] = last
    soft = sign * np.float32(3.0)
    soft[diff] = sign[diff] * v
    return payload, soft


def test_rank_counts_crc_checks_when_decode_and_list_disagree_on_a_near_tie():
    """decode() (float metrics) and the list's forward pass (double) can pick different paths when two
    paths' metrics agree to float rounding. Where decode()'s path fails the CRC and the list's first path
    passes, two CRC checks were made: rank must say so (rank + 1 = checks made, 0 only when decode()
    itself passed), since the detectors' false-alarm bound counts rank + 1."""
    pc = _core.PayloadCode(16, 16, 7, 2)
    rng = np.random.default_rng(1)
    seen = 0
    for _ in range(400):
        payload, soft = _near_tie(pc, rng)
        ok = pc.decode(soft)[0]
        l_ok, l_got, _, rank = pc.decode_list(soft, 8)
        assert l_ok and l_got == payload
        if ok:
            assert rank == 0
        else:
            seen += 1
            assert rank >= 1, (payload, rank)
        if seen == 3:
            break
    assert seen == 3
