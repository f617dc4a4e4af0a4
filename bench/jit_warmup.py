"""First-call (JIT) cost of the video watermark kernels, in fresh processes.

Cold: an empty Numba cache (first run after install: every kernel compiles). Warm: the on-disk cache
written by the cold run (every later process: kernels load from cache). Steady: the same call again.

    python bench/jit_warmup.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, time
t0 = time.perf_counter()
import numpy as np, synthmark as sm
t1 = time.perf_counter()
key = sm.Key.from_bytes(b"jit-warmup-key-0123456789abcdef0")
frame = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
t2 = time.perf_counter(); marker = sm.VideoWatermarker(key, 1); marker.embed(frame); t3 = time.perf_counter()
marker.embed(frame); t4 = time.perf_counter()
det = sm.detect_frames([frame], key=key); t5 = time.perf_counter()
det = sm.detect_frames([frame], key=key); t6 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_embed_s": t3 - t2, "steady_embed_s": t4 - t3,
                  "first_detect_s": t5 - t4, "steady_detect_s": t6 - t5, "payload_ok": det.payload == 1}))
"""


def run(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as cache:
        cold, warm = run(cache), run(cache)
    print("| process | import (s) | first embed 1080p (s) | steady embed (ms) | first detect (s) | steady detect (ms) |")
    print("|---|---|---|---|---|---|")
    for name, r in (("cold cache", cold), ("warm cache", warm)):
        assert r["payload_ok"]
        print(f"| {name} | {r['import_s']:.2f} | {r['first_embed_s']:.2f} | {r['steady_embed_s'] * 1e3:.1f} | "
              f"{r['first_detect_s']:.2f} | {r['steady_detect_s'] * 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
