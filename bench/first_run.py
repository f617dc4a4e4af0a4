"""First-run cost: 'import synthmark', and 'synthmark warmup' / 'synthmark demo' with a cold Numba
cache (an empty NUMBA_CACHE_DIR, as right after an install) and then warm (the same directory again).

    PYTHONPATH=src python bench/first_run.py [--runs 5] [--demo] [--out bench/results/first_run.md]

Each command runs in a fresh process; wall-clock seconds. The cold runs also show what the user sees
(the "compiling kernels (first run only)..." notice and its summary line).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")


def _env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=SRC)
    env.pop("NUMBA_CACHE_DIR", None)
    env.update(extra)
    return env


def import_seconds(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-X", "importtime", "-c", "import synthmark"], env=_env(),
                           capture_output=True, text=True, check=True)
        m = re.search(r"\|\s*(\d+) \| synthmark$", r.stderr, re.M)
        out.append(int(m.group(1)) / 1e6)
    return out


def timed(cmd: list[str], cache_dir: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "synthmark", *cmd], env=_env(NUMBA_CACHE_DIR=cache_dir),
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed: {r.stderr}")
    notice = [ln for ln in (r.stdout + r.stderr).splitlines() if "kernel" in ln]
    return dt, " / ".join(notice)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="import-time runs (median reported)")
    ap.add_argument("--demo", action="store_true", help="also time 'synthmark demo' cold and warm")
    ap.add_argument("--out", help="write the markdown table here too")
    args = ap.parse_args()
    rows = []
    imp = import_seconds(args.runs)
    rows.append(("import synthmark", f"median {statistics.median(imp):.2f} s of {args.runs} "
                 f"({', '.join(f'{x:.2f}' for x in imp)})", ""))
    commands = [("synthmark warmup", ["warmup"])]
    if args.demo:
        commands.append(("synthmark demo", ["demo"]))
    for name, cmd in commands:
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            cold, notice = timed(cmd, cache)
            warm, warm_notice = timed(cmd, cache)
        rows.append((f"{name}, cold cache", f"{cold:.1f} s", notice))
        rows.append((f"{name}, warm cache", f"{warm:.1f} s", warm_notice or "(no notice)"))
    head = (f"first_run.py, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    lines = [head, "", "| what | wall time | what the user sees |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
