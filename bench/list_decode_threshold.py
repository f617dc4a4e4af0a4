"""CRC-aided list Viterbi decoding (PayloadCode.decode_list) vs plain decode() on the audio payload code.

Audio code: 64 payload + 32 CRC bits, K=15, rate 1/4 (440 coded bits). BPSK over AWGN, soft input = received
value. Eb is the energy per information bit (payload + CRC, 96 bits); per payload bit add 1.76 dB.

Reports, per Eb/N0 point, exact-payload success (CRC ok and payload == sent) for decode() (L=1) and
decode_list with L = 16, 64, 256, 1024; the Eb/N0 of 90 % success (linear interpolation) and the gain over
decode(); per-call time; and how often pure noise passes the CRC at each L (expected ~ L * 2^-crc_bits).

One decode_list(soft, Lmax) call per trial gives the result for every L <= Lmax: paths are listed in a fixed
order independent of max_list (the list for L is a prefix of the list for Lmax), so decode_list(soft, L)
accepts exactly when the rank found with Lmax is < L. The C++ tests check this prefix property.

    NUMBA_NUM_THREADS=1 PYTHONPATH=src python bench/list_decode_threshold.py              # ~2 min
    NUMBA_NUM_THREADS=1 PYTHONPATH=src python bench/list_decode_threshold.py --trials 2000 --noise-trials 20000
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from synthmark import _core  # noqa: E402


def ebn0_at(points: list[float], rates: list[float], target: float) -> float | None:
    """Eb/N0 where the success rate first reaches target (linear interpolation); None if never."""
    for i, r in enumerate(rates):
        if r >= target:
            if i == 0:
                return None if rates[0] > target else points[0]
            x0, x1, y0, y1 = points[i - 1], points[i], rates[i - 1], r
            return x0 + (target - y0) * (x1 - x0) / (y1 - y0)
    return None


def noisy(pc, rng, payload: int, sigma: float) -> np.ndarray:
    return ((2.0 * pc.encode(payload) - 1.0) + sigma * rng.standard_normal(pc.coded_bits)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=500, help="codewords per Eb/N0 point")
    ap.add_argument("--ebn0", default="-1.5,-1.25,-1,-0.75,-0.5,-0.25,0,0.25,0.5,0.75,1,1.25,1.5")
    ap.add_argument("--lists", default="16,64,256,1024")
    ap.add_argument("--noise-trials", type=int, default=2000, help="pure-noise inputs per CRC width")
    ap.add_argument("--noise-crcs", default="32,16,8", help="CRC widths for the false-pass check (64-bit payload)")
    ap.add_argument("--time-calls", type=int, default=100)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--bootstrap", type=int, default=1000, help="resamples for the gain's confidence interval")
    args = ap.parse_args()
    points = [float(x) for x in args.ebn0.split(",")]
    lists = [int(x) for x in args.lists.split(",")]
    lmax = max(lists)
    cols = [1, *lists]
    pc = _core.PayloadCode(64, 32, 15, 4)
    rate = (pc.payload_bits + pc.crc_bits) / pc.coded_bits
    rng = np.random.default_rng(args.seed)
    t_start = time.perf_counter()

    print(f"## Audio code 64+32, K=15, rate 1/4: exact-payload success vs Eb/N0 ({args.trials} codewords per point)")
    print()
    print("| Eb/N0 (dB) | " + " | ".join("decode()" if L == 1 else f"L={L}" for L in cols) + " | wrong payload accepted (L=%d) |" % lmax)
    print("|---|" + "---|" * len(cols) + "---|")
    # Per trial, the list rank at which the sent payload was accepted (lmax = never): success at L is rank < L,
    # and rank 0 is exactly decode() succeeding (decode_list returns decode()'s path when its CRC checks).
    never = lmax
    ranks = np.full((len(points), args.trials), never, np.int64)
    for pi, ebn0 in enumerate(points):
        sigma = np.sqrt(1.0 / (2.0 * rate * 10 ** (ebn0 / 10)))
        wrong = 0
        for ti in range(args.trials):
            payload = int(rng.integers(0, 2**64, dtype=np.uint64))
            soft = noisy(pc, rng, payload, sigma)
            d_ok, d_got, _ = pc.decode(soft)
            l_ok, l_got, _, rank = pc.decode_list(soft, lmax)
            assert (d_ok and d_got == payload) == (l_ok and l_got == payload and rank == 0)
            if l_ok and l_got != payload:
                wrong += 1
            elif l_ok:
                ranks[pi, ti] = rank
        print(f"| {ebn0:+.2f} | " + " | ".join(f"{100.0 * np.mean(ranks[pi] < L):.2f}%" for L in cols) + f" | {wrong} |", flush=True)
    print()

    def e90_all(r: np.ndarray) -> list[float | None]:
        return [ebn0_at(points, [float(np.mean(row < L)) for row in r], 0.9) for L in cols]

    e90 = e90_all(ranks)
    # Paired bootstrap over codewords (resampled within each Eb/N0 point, the same draw for every L).
    brng = np.random.default_rng(args.seed + 1)
    boot = []
    for _ in range(args.bootstrap):
        idx = brng.integers(0, args.trials, size=ranks.shape)
        boot.append(e90_all(np.take_along_axis(ranks, idx, axis=1)))
    print(f"| decoder | Eb/N0 at 90 % success (dB) | gain over decode() (dB) | gain, 95 % bootstrap interval ({args.bootstrap} resamples) |")
    print("|---|---|---|---|")
    for i, L in enumerate(cols):
        e, base = e90[i], e90[0]
        gain = f"{base - e:.2f}" if (e is not None and base is not None) else "n/a"
        gains = [b[0] - b[i] for b in boot if b[0] is not None and b[i] is not None]
        ci = f"{np.percentile(gains, 2.5):.2f} .. {np.percentile(gains, 97.5):.2f}" if len(gains) == len(boot) and i else "n/a"
        print(f"| {'decode()' if L == 1 else f'decode_list L={L}'} | {'n/a' if e is None else f'{e:+.2f}'} | {gain} | {ci} |")
    print()
    base = e90[0]

    # Per-call time: pure noise (worst case: the whole list is walked) and codewords at the decode() 90 % point.
    e90 = base if base is not None else 1.0
    sigma90 = np.sqrt(1.0 / (2.0 * rate * 10 ** (e90 / 10)))
    noise_in = [rng.standard_normal(pc.coded_bits).astype(np.float32) for _ in range(args.time_calls)]
    code_in = [noisy(pc, rng, int(rng.integers(0, 2**64, dtype=np.uint64)), sigma90) for _ in range(args.time_calls)]
    print(f"## Per-call time (ms, mean over {args.time_calls} calls; one thread)")
    print()
    print(f"| call | pure noise (whole list walked) | codewords at {e90:+.2f} dB (decode() 90 % point) |")
    print("|---|---|---|")

    def timed(fn, inputs) -> float:
        t0 = time.perf_counter()
        for s in inputs:
            fn(s)
        return 1e3 * (time.perf_counter() - t0) / len(inputs)

    print(f"| decode() | {timed(pc.decode, noise_in):.2f} | {timed(pc.decode, code_in):.2f} |")
    for L in cols:
        print(f"| decode_list L={L} | {timed(lambda s: pc.decode_list(s, L), noise_in):.2f} | "
              f"{timed(lambda s: pc.decode_list(s, L), code_in):.2f} |", flush=True)
    print()

    # CRC false passes on pure noise. With CRC-32 the expected count is far below one in any affordable run,
    # so narrower CRCs (same 64-bit payload, K=15 rate 1/4) check the L * 2^-c scaling itself.
    print(f"## Pure noise passing the CRC ({args.noise_trials} noise inputs per CRC width)")
    print()
    print("| CRC bits | " + " | ".join("decode()" if L == 1 else f"L={L}" for L in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for cb in (int(x) for x in args.noise_crcs.split(",")):
        pcn = _core.PayloadCode(64, cb, 15, 4)
        passes = dict.fromkeys(cols, 0)
        for _ in range(args.noise_trials):
            soft = rng.standard_normal(pcn.coded_bits).astype(np.float32)
            ok, _, _, rank = pcn.decode_list(soft, lmax)
            for L in cols:
                passes[L] += ok and rank < L
        cells = []
        for L in cols:
            expect = args.noise_trials * (1.0 - (1.0 - 2.0 ** -cb) ** L)
            cells.append(f"{passes[L]}/{args.noise_trials} (exp. {expect:.3g})")
        print(f"| {cb} | " + " | ".join(cells) + " |", flush=True)
    print()
    print(f"total run time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
