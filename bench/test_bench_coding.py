"""Coding layer speed (NumPy PCG64 as an unkeyed baseline for stream throughput): soft Viterbi decode (K=15, rate 1/4, 64+32 info bits) and keyed-stream throughput.

    PYTHONPATH=src python -m pytest bench/test_bench_coding.py --benchmark-columns=min,median,mean,ops
"""

from __future__ import annotations

import numpy as np
import pytest

from synthmark import _core

KEY = bytes(range(32))


@pytest.mark.parametrize(("k", "n"), [(15, 4), (15, 6), (9, 3), (7, 2)])
def test_bench_decode(benchmark, k, n):
    benchmark.group = "payload decode (soft Viterbi), 64+32 info bits"
    pc = _core.PayloadCode(64, 32, k, n)
    rng = np.random.default_rng(1)
    payload = 0x1234_5678_9ABC_DEF0
    sigma = np.sqrt(1.0 / (2.0 * (96 / pc.coded_bits) * 10 ** 0.2))  # Eb/N0 = 2 dB
    soft = ((2.0 * pc.encode(payload) - 1.0) + sigma * rng.standard_normal(pc.coded_bits)).astype(np.float32)
    ok, got, _ = benchmark(pc.decode, soft)
    assert ok and got == payload


def _viterbi_fails_list_recovers():
    """(code, payload, soft) at Eb/N0 = 0 dB where decode() fails the CRC and decode_list(., 1024) recovers."""
    pc = _core.PayloadCode()
    rng = np.random.default_rng(5)
    sigma = np.sqrt(1.0 / (2.0 * (96 / pc.coded_bits)))
    for _ in range(200):
        payload = int(rng.integers(0, 2**64, dtype=np.uint64))
        soft = ((2.0 * pc.encode(payload) - 1.0) + sigma * rng.standard_normal(pc.coded_bits)).astype(np.float32)
        if not pc.decode(soft)[0]:
            ok, got, _, rank = pc.decode_list(soft, 1024)
            if ok and got == payload and rank >= 16:
                return pc, payload, soft
    raise AssertionError("no input found where decode() fails and the list finds the payload at rank >= 16")


@pytest.mark.parametrize("max_list", [1, 16, 1024])
def test_bench_decode_list(benchmark, max_list):
    """decode() (max_list=1) vs CRC-aided list decoding on an input where decode() fails the CRC and the
    payload sits at rank 16..1023 of the list (so L=16 fails too and walks its whole list)."""
    benchmark.group = "CRC-aided list decode (64+32, K=15 1/4), input where decode() fails the CRC"
    pc, payload, soft = _viterbi_fails_list_recovers()
    if max_list == 1:
        ok, _, _ = benchmark(pc.decode, soft)
        assert not ok
    else:
        ok, got, _, rank = benchmark(pc.decode_list, soft, max_list)
        if max_list == 16:
            assert not ok and rank == -1
        else:
            assert ok and got == payload and 16 <= rank < max_list


@pytest.mark.parametrize("max_list", [16, 256, 1024])
def test_bench_decode_list_noise(benchmark, max_list):
    """Worst case: pure noise, so the whole list is walked (decode() as the baseline)."""
    benchmark.group = "CRC-aided list decode (64+32, K=15 1/4), pure noise"
    pc = _core.PayloadCode()
    soft = np.random.default_rng(8).standard_normal(pc.coded_bits).astype(np.float32)
    ok, _, _, rank = benchmark(pc.decode_list, soft, max_list)
    assert not ok and rank == -1


def test_bench_decode_noise_baseline(benchmark):
    benchmark.group = "CRC-aided list decode (64+32, K=15 1/4), pure noise"
    pc = _core.PayloadCode()
    soft = np.random.default_rng(8).standard_normal(pc.coded_bits).astype(np.float32)
    ok, _, _ = benchmark(pc.decode, soft)
    assert not ok


@pytest.mark.parametrize("kind", ["fill_uint32", "fill_signs", "fill_uniform"])
def test_bench_keyed_stream(benchmark, kind):
    benchmark.group = "keyed stream, 4 Mi elements"
    ks = _core.KeyedStreams(KEY)
    out = np.zeros(1 << 22, np.uint32 if kind == "fill_uint32" else np.float32)
    benchmark(getattr(ks, kind), "bench", out)
    assert np.count_nonzero(out) > out.size * 0.4


def test_bench_permutation(benchmark):
    benchmark.group = "keyed stream, 4 Mi elements"
    ks = _core.KeyedStreams(KEY)
    p = benchmark(ks.permutation, "bench", 1 << 22)
    assert p[0] != 0 or p[1] != 1


def test_bench_numpy_random_baseline(benchmark):
    benchmark.group = "keyed stream, 4 Mi elements"
    rng = np.random.default_rng(0)
    r = benchmark(lambda: rng.integers(0, 2**32, size=1 << 22, dtype=np.uint64).astype(np.uint32))
    assert r.size == 1 << 22 and np.count_nonzero(r) > r.size * 0.4
