"""Decompression bomb: peak RSS and time of inspect_file/label_file on a ~0.75 MB PNG that declares
16000x16000 RGB, with the default max_pixels (refused from the header) and with max_pixels=None (the
behaviour without the limit), each in a fresh process so peak RSS is its own.

    PYTHONPATH=src python bench/bomb_limits.py [--unlimited]
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

CHILD = r"""
import resource, sys, time, warnings
warnings.simplefilter("ignore")
import synthmark as sm
path, what, limit = sys.argv[1], sys.argv[2], sys.argv[3]
key = sm.Key.from_bytes(b"k" * 32)
opts = {} if limit == "default" else {"max_pixels": None}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    if what == "inspect":
        sm.inspect_file(path, key=key, **opts)
    else:
        sm.label_file(path, path + ".out.png", key=key, producer="A", content_id="x", overwrite=True, **opts)
    outcome = "completed"
except sm.errors.SynthmarkError as exc:
    outcome = type(exc).__name__
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{what:8s} max_pixels={limit:8s} {outcome:20s} {dt:8.3f} s  peak RSS {peak / 1024:7.0f} MB (after import {base / 1024:.0f} MB)")
"""


def make_bomb(path, w=16000, h=16000):
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))

    c = zlib.compressobj(9)
    row = bytes(1 + 3 * w)
    idat = b"".join([c.compress(row) for _ in range(h)] + [c.flush()])
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unlimited", action="store_true", help="also run with max_pixels=None (GBs of RSS, ~1 min)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        bomb = os.path.join(d, "bomb.png")
        make_bomb(bomb)
        print(f"bomb: {os.path.getsize(bomb)} bytes, 16000x16000 RGB declared")
        for limit in ["default"] + (["none"] if args.unlimited else []):
            for what in ("inspect", "label"):
                subprocess.run([sys.executable, "-c", CHILD, bomb, what, limit], check=True)


if __name__ == "__main__":
    main()
