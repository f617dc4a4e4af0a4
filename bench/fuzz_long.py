"""Long fuzz run over every file reader and the array API, in worker processes watched from outside.

Each input is a pure function of its integer seed (tests/fuzzing.py: seed file, mutation ops, target),
so every finding replays with ``--replay SEED``. A worker runs inputs SEED0+k*W+i; before each it writes
the seed to its state file. The parent counts a worker's death by signal as a crash, an input that
makes no progress for --hang seconds as a hang (the worker is killed), RSS over --max-rss-mb as a
memory blow-up (killed); the worker itself records any exception that is not a SynthmarkError. A killed
or crashed worker is restarted after the input that stopped it.

    PYTHONPATH=src:. nice -n 19 python bench/fuzz_long.py --seconds 3600 --workers 2 --out /tmp/fuzz
    PYTHONPATH=src:. python bench/fuzz_long.py --replay 123456 --out /tmp/fuzz
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import traceback
from pathlib import Path

#: share of inputs per target, by cost (read_record ~1 ms, inspect ~3 ms, with key ~30 ms, label ~80 ms)
WEIGHTS = {"read_record": 60, "inspect": 28, "inspect_key": 4, "label": 1, "array": 7}


def case(seed: int, names: list[str]):
    """(target, seed file name, ops, donor name) or ('array', array target) of one seed."""
    import fuzzing as fz

    rng = random.Random(seed)
    target = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if target == "array":
        return "array", fz.ARRAY_TARGETS[rng.randrange(len(fz.ARRAY_TARGETS))], rng
    name = names[rng.randrange(len(names))]
    return target, name, fz.random_ops(rng), names[rng.randrange(len(names))]


def run_one(seed: int, corpus: dict, work: Path) -> str:
    import fuzzing as fz

    c = case(seed, sorted(corpus))
    if c[0] == "array":
        return "array:" + fz.run_array_target(c[1], c[2])
    target, name, ops, donor = c
    path = fz.write_input(fz.apply_ops(corpus[name], ops, donor=corpus[donor]), work, name)
    return target + ":" + fz.run_file_target(target, path, work)


def worker(args) -> None:
    import fuzzing as fz

    out = Path(args.out)
    corpus = fz.build_corpus(out / "corpus")
    work = out / f"work{args.index}"
    work.mkdir(exist_ok=True)
    state = out / f"state{args.index}"
    stats_path = out / f"stats{args.index}.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {"inputs": 0, "outcomes": {}}
    seed = args.start
    end = time.time() + args.seconds
    while time.time() < end:
        state.write_text(str(seed))
        try:
            outcome = run_one(seed, corpus, work)
        except Exception as exc:  # noqa: BLE001 - a finding: not a SynthmarkError
            outcome = "finding"
            with open(out / "findings.jsonl", "a") as f:
                f.write(json.dumps({"seed": seed, "kind": "exception", "error": f"{type(exc).__name__}: {exc}"[:500],
                                    "case": repr(case(seed, sorted(corpus)))[:300],
                                    "traceback": traceback.format_exc(limit=-4)}) + "\n")
        stats["inputs"] += 1
        stats["outcomes"][outcome] = stats["outcomes"].get(outcome, 0) + 1
        if stats["inputs"] % 200 == 0:
            stats["last_seed"] = seed
            stats_path.write_text(json.dumps(stats))
        seed += args.stride
    stats["last_seed"] = seed
    stats_path.write_text(json.dumps(stats))


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def parent(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import fuzzing as fz

    fz.build_corpus(out / "corpus")  # once, before the workers read it
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent / "tests")]
                                                       + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    end = time.time() + args.seconds
    procs = {}

    def start(i, seed):
        procs[i] = (subprocess.Popen([sys.executable, __file__, "--worker", "--index", str(i), "--start", str(seed),
                                      "--stride", str(args.workers), "--seconds", str(max(1, end - time.time())),
                                      "--out", args.out], env=env), time.time(), None)

    for i in range(args.workers):
        start(i, args.seed0 + i)
    events = {"crash": 0, "hang": 0, "memory": 0}
    while procs:
        time.sleep(1)
        for i, (p, since, last) in list(procs.items()):
            try:
                seed = int((out / f"state{i}").read_text())
            except (OSError, ValueError):  # not written yet, or read in the middle of a rewrite
                seed = last
            if seed != last:
                procs[i] = (p, time.time(), seed)
                since = time.time()
            rc = p.poll()
            kind = None
            if rc is not None:
                if rc == 0:
                    del procs[i]
                    continue
                kind = "crash"
            elif time.time() - since > args.hang:
                kind = "hang"
            elif rss_mb(p.pid) > args.max_rss_mb:
                kind = "memory"
            if kind:
                if rc is None:
                    p.kill()
                    p.wait()
                events[kind] += 1
                with open(out / "findings.jsonl", "a") as f:
                    f.write(json.dumps({"seed": seed, "kind": kind, "returncode": p.returncode}) + "\n")
                del procs[i]
                if time.time() < end - 5 and seed is not None:
                    start(i, seed + args.workers)
    total, outcomes = 0, {}
    for i in range(args.workers):
        p = out / f"stats{i}.json"
        if p.exists():
            s = json.loads(p.read_text())
            total += s["inputs"]
            for k, v in s["outcomes"].items():
                outcomes[k] = outcomes.get(k, 0) + v
    findings = (out / "findings.jsonl").read_text().count("\n") if (out / "findings.jsonl").exists() else 0
    summary = {"inputs": total, "crashes": events["crash"], "hangs": events["hang"], "memory": events["memory"],
               "non_synthmark_exceptions": outcomes.get("finding", 0), "findings_file_lines": findings,
               "outcomes": dict(sorted(outcomes.items()))}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


def replay(args) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import fuzzing as fz

    out = Path(args.out)
    corpus = fz.build_corpus(out / "corpus")
    work = out / "replay"
    work.mkdir(exist_ok=True)
    print(case(args.replay, sorted(corpus)))
    print(run_one(args.replay, corpus, work))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=0)
    ap.add_argument("--hang", type=float, default=60.0, help="seconds without progress that count as a hang")
    ap.add_argument("--max-rss-mb", dest="max_rss_mb", type=float, default=3000.0)
    ap.add_argument("--out", default="/tmp/synthmark-fuzz")
    ap.add_argument("--replay", type=int)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--stride", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
    elif args.replay is not None:
        replay(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
