"""Presence (found=True) of the audio watermark on speech by window length, after lossy codecs
(issue 3: presence from 3 s on speech through AAC 64k / Opus 32k misses its target; this measures
how long a window those rows need). Generated speech, 48 kHz mono, 16 s clips each marked with a
random payload; one random window per clip, codec and length; speed search off.

    PYTHONPATH=src python bench/presence_window_audio.py [--clips 30] [--seconds 3,5,10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import synthmark as sm  # noqa: E402
from robustness_audio import ATTACKS  # noqa: E402
from tests.audio_signals import speech_like  # noqa: E402

FS = 48000
CODECS = ("MP3 64 kbps", "AAC 64 kbps", "Opus 32 kbps")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=30)
    ap.add_argument("--seconds", default="3,5,10")
    args = ap.parse_args()
    lengths = [int(s) for s in args.seconds.split(",")]
    attack = dict(ATTACKS)
    key = sm.Key(b"robustness-key-audio-0123456789!")
    rng = np.random.default_rng(4242)
    found = {(c, n): 0 for c in CODECS for n in lengths}
    for t in range(args.clips):
        payload = int(rng.integers(0, 2**63)) * 2 + 1
        y = sm.watermark_audio(speech_like(16.0, FS, seed=1000 + t), FS, key=key, payload=payload)
        for codec in CODECS:
            for n in lengths:
                start = int(rng.integers(0, (16 - n) * FS))
                z, fs = attack[codec](y[start: start + n * FS], rng)
                found[(codec, n)] += sm.detect_audio(z, fs, key=key, search_speed=False).found
    print(f"speech, presence by window length ({args.clips} windows per cell)")
    print("| codec | " + " | ".join(f"{n} s" for n in lengths) + " |")
    print("|---|" + "---|" * len(lengths))
    for codec in CODECS:
        print(f"| {codec} | " + " | ".join(f"{found[(codec, n)]}/{args.clips}" for n in lengths) + " |")


if __name__ == "__main__":
    main()
