"""Soft-decoding threshold of synthmark._core.PayloadCode: exact-payload success rate vs Eb/N0.

BPSK over AWGN, soft input = received value (no LLR scaling needed: the decoder is scale-invariant).
Eb is the energy per *information* bit, payload + CRC (64 + 32 = 96 bits per codeword); per payload
bit alone add 10*log10(96/64) = 1.76 dB. Also reports how often pure noise passes the CRC.

    PYTHONPATH=src python bench/coding_threshold.py --trials 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from synthmark import _core


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--codes", default="15x4,15x6,9x3,7x2")
    ap.add_argument("--ebn0", default="-1,-0.5,0,0.5,1,1.5,2,2.5,3")
    args = ap.parse_args()
    points = [float(x) for x in args.ebn0.split(",")]
    print(f"trials per point: {args.trials}; success = CRC ok and payload exact")
    print("| code (K, 1/n) | decode ms | " + " | ".join(f"{p:+.1f} dB" for p in points) + " | noise passes CRC |")
    print("|---|---|" + "---|" * len(points) + "---|")
    for spec in args.codes.split(","):
        k, n = (int(v) for v in spec.split("x"))
        pc = _core.PayloadCode(64, 32, k, n)
        rate = (pc.payload_bits + pc.crc_bits) / pc.coded_bits
        rng = np.random.default_rng(1234)
        cells = []
        t_total, n_dec = 0.0, 0
        for ebn0 in points:
            sigma = np.sqrt(1.0 / (2.0 * rate * 10 ** (ebn0 / 10)))
            ok_count = 0
            for _ in range(args.trials):
                payload = int(rng.integers(0, 2**64, dtype=np.uint64))
                soft = ((2.0 * pc.encode(payload) - 1.0) + sigma * rng.standard_normal(pc.coded_bits)).astype(np.float32)
                t0 = time.perf_counter()
                ok, got, _ = pc.decode(soft)
                t_total += time.perf_counter() - t0
                n_dec += 1
                ok_count += ok and got == payload
            cells.append(f"{100.0 * ok_count / args.trials:.1f}%")
        noise_pass = sum(pc.decode(rng.standard_normal(pc.coded_bits).astype(np.float32))[0] for _ in range(args.trials))
        print(f"| ({k}, 1/{n}) | {1e3 * t_total / n_dec:.2f} | " + " | ".join(cells) + f" | {noise_pass}/{args.trials} |")


if __name__ == "__main__":
    main()
