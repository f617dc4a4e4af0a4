"""False alarms of detect_audio on unmarked audio (issue 3): N random 3 s windows of generated speech,
music, speech+music and noise, right key, default threshold, speed search off.
Writes bench/results/false_alarm_audio.md.

    PYTHONPATH=src python bench/false_alarm_audio.py --windows 10000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import synthmark as sm  # noqa: E402
from tests.audio_signals import music_like, speech_like  # noqa: E402

FS = 16000  # detection runs at 16 kHz internally; generating at 16 kHz keeps the run short


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=10000)
    args = ap.parse_args()
    key = sm.Key(b"false-alarm-key-audio-0123456789")
    rng = np.random.default_rng(7)
    pool = []
    for i in range(40):
        s, m = speech_like(30, FS, seed=1000 + i), music_like(30, FS, seed=2000 + i)
        pool += [s, m, (0.6 * s + 0.5 * m).astype(np.float32)]
    pool.append((0.1 * rng.standard_normal(30 * FS)).astype(np.float32))
    zs, fas, found = [], [], 0
    t0 = time.time()
    for w in range(args.windows):
        x = pool[w % len(pool)]
        s = int(rng.integers(0, len(x) - 3 * FS))
        det = sm.detect_audio(x[s:s + 3 * FS], FS, key=key, search_speed=False)
        found += det.found
        zs.append(det.details["z"])
        fas.append(det.false_alarm)
        if w % 1000 == 999:
            print(w + 1, found, f"max z {max(zs):.2f}", f"{time.time() - t0:.0f} s", flush=True)
    zs = np.array(zs)
    text = (
        "# Audio watermark false alarms (issue 3)\n\n"
        f"`PYTHONPATH=src python bench/false_alarm_audio.py --windows {args.windows}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}): {args.windows} random 3 s windows of "
        f"unmarked generated speech / music / speech+music / noise, default threshold {sm.watermark.audio.DEFAULT_THRESHOLD:g}, speed search off.\n\n"
        f"- found: **{found}** of {args.windows}\n"
        f"- test statistic z: mean {zs.mean():.3f}, sd {zs.std():.3f}, max {zs.max():.2f} "
        f"(calibrated N(0,1) expectation for the max of {args.windows}: about "
        f"{np.sqrt(2 * np.log(args.windows)):.1f})\n"
        f"- share of windows with false_alarm < 1e-3: {np.mean(np.array(fas) < 1e-3):.5f} (calibrated: 0.001)\n"
        f"- smallest false_alarm: {min(fas):.3g}\n"
    )
    (ROOT / "bench" / "results" / "false_alarm_audio.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
