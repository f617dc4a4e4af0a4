"""Robustness matrix of the audio watermark (issue 3). Writes bench/results/robustness_audio.md.

For each signal (speech-like, music-like, speech+music; generated, 48 kHz mono) and each attack:
  * payload: share of random 10 s windows of a marked 16 s clip whose exact 64-bit payload is read;
  * presence: share of random 3 s windows with found=True;
and false alarms over unmarked 3 s windows (same signals, other seeds) and wrong-key windows.

    PYTHONPATH=src python bench/robustness_audio.py [--trials 4] [--unmarked 200]

Speed search (playback speed 0.98..1.02) is enabled only in the speed rows: elsewhere detection
runs with search_speed=False so the matrix finishes in minutes on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.signal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import synthmark as sm  # noqa: E402
from tests.audio_signals import codec_roundtrip, music_like, speech_like  # noqa: E402

FS = 48000


def resample(x, up, down):
    return scipy.signal.resample_poly(x, up, down).astype(np.float32)


def add_noise(x, snr_db, rng):
    p = np.mean(x.astype(np.float64) ** 2)
    return (x + rng.standard_normal(len(x)) * np.sqrt(p / 10 ** (snr_db / 10))).astype(np.float32)


ATTACKS = [
    ("no attack", lambda x, r: (x, FS)),
    ("MP3 128 kbps", lambda x, r: (codec_roundtrip(x, FS, "libmp3lame", 128_000)[:, 0], FS)),
    ("MP3 64 kbps", lambda x, r: (codec_roundtrip(x, FS, "libmp3lame", 64_000)[:, 0], FS)),
    ("AAC 96 kbps", lambda x, r: (codec_roundtrip(x, FS, "aac", 96_000)[:, 0], FS)),
    ("AAC 64 kbps", lambda x, r: (codec_roundtrip(x, FS, "aac", 64_000)[:, 0], FS)),
    ("Opus 32 kbps", lambda x, r: (codec_roundtrip(x, FS, "libopus", 32_000)[:, 0], FS)),
    ("resample 48k->16k->48k", lambda x, r: (resample(resample(x, 1, 3), 3, 1), FS)),
    ("resample 48k->44.1k", lambda x, r: (resample(x, 147, 160), 44100)),
    ("white noise 20 dB SNR", lambda x, r: (add_noise(x, 20, r), FS)),
    ("gain x0.5", lambda x, r: ((x * 0.5).astype(np.float32), FS)),
    ("gain x1.5 (clipped)", lambda x, r: (np.clip(x * 1.5, -1, 1).astype(np.float32), FS)),
    ("speed +2%", lambda x, r: (resample(x, 50, 51), FS)),  # plays 2% faster: 2% fewer samples
    ("speed -2%", lambda x, r: (resample(x, 51, 50), FS)),
]


def signals(seconds, seed):
    s = speech_like(seconds, FS, seed=seed)
    m = music_like(seconds, FS, seed=seed + 1)
    return {"speech": s, "music": m, "speech+music": (0.6 * s + 0.5 * m).astype(np.float32)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--unmarked", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(2026)
    key = sm.Key(b"robustness-key-audio-0123456789!")
    other = sm.Key(b"robustness-other-key-0123456789!")
    rows = []
    t_start = time.time()
    marked = {}
    for t in range(args.trials):
        payload = int(rng.integers(0, 2**63)) * 2 + 1
        for name, x in signals(16.0, 100 + t).items():
            marked[(name, t)] = (x, sm.watermark_audio(x, FS, key=key, payload=payload), payload)
    snrs = {}
    for (name, t), (x, y, _) in marked.items():
        d = y.astype(np.float64) - x
        b = FS // 20
        n = len(x) // b * b
        xe = (x[:n].astype(np.float64) ** 2).reshape(-1, b).mean(1)
        de = (d[:n] ** 2).reshape(-1, b).mean(1)
        m = xe > 1e-6
        snrs.setdefault(name, []).append(10 * np.log10(xe[m].sum() / de[m].sum()))
    for label, attack in ATTACKS:
        speed = label.startswith("speed")
        row = [label]
        for name in ("speech", "music", "speech+music"):
            ok_p = ok_f = 0
            for t in range(args.trials):
                x, y, payload = marked[(name, t)]
                start = int(rng.integers(0, 6 * FS))
                z, fs = attack(y[start:start + 10 * FS], rng)
                det = sm.detect_audio(z, fs, key=key, search_speed=speed)
                ok_p += det.payload == payload
                s3 = int(rng.integers(0, 13 * FS))
                z3, fs = attack(y[s3:s3 + 3 * FS], rng)
                ok_f += sm.detect_audio(z3, fs, key=key, search_speed=speed).found
            row += [f"{100 * ok_p / args.trials:.0f}%", f"{100 * ok_f / args.trials:.0f}%"]
        rows.append(row)
        print(" | ".join(row), f"({time.time() - t_start:.0f} s)", flush=True)
    # false alarms: unmarked windows (right key) and marked windows read with another key
    fa_min, n_found, n_win = 1.0, 0, 0
    zs = []
    for i in range(args.unmarked):
        sig = signals(4.0, 5000 + i)
        for name, x in sig.items():
            if i % 3 != ("speech", "music", "speech+music").index(name):
                continue
            det = sm.detect_audio(x[:3 * FS], FS, key=key, search_speed=False)
            n_win += 1
            n_found += det.found
            fa_min = min(fa_min, det.false_alarm)
            zs.append(det.details["z"])
    wk_found = 0
    for (name, t), (x, y, _) in marked.items():
        wk_found += sm.detect_audio(y[:10 * FS], FS, key=other, search_speed=False).found
    out = ROOT / "bench" / "results" / "robustness_audio.md"
    lines = [
        "# Audio watermark robustness (issue 3)",
        "",
        f"Generated by `PYTHONPATH=src python bench/robustness_audio.py --trials {args.trials} "
        f"--unmarked {args.unmarked}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
        f"{args.trials} random windows per cell; 48 kHz mono generated signals, each 16 s clip marked "
        "with a random payload; payload = exact 64-bit payload from a random 10 s window, presence = "
        "found=True from a random 3 s window. Speed search only in the speed rows.",
        "",
        "SNR over non-silent 50 ms blocks: " + ", ".join(f"{k} {np.mean(v):.1f} dB (min {np.min(v):.1f})"
                                                          for k, v in snrs.items()),
        "",
        "| attack | speech payload | speech presence | music payload | music presence | "
        "speech+music payload | speech+music presence |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += [
        "",
        f"False alarms: {n_found} found among {n_win} unmarked 3 s windows (smallest false_alarm "
        f"{fa_min:.3g}; z mean {np.mean(zs):.2f}, sd {np.std(zs):.2f}, max {np.max(zs):.2f}); "
        f"wrong key: {wk_found} found among {len(marked)} marked 10 s windows.",
        "",
    ]
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
