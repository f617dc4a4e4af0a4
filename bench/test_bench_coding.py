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
