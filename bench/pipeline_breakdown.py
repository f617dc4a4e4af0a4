"""Where label_file's overhead over a plain PyAV transcode goes, layer by layer.

Run: NUMBA_NUM_THREADS=1 PYTHONPATH=src python bench/pipeline_breakdown.py [--rounds 7] [--source sample|photo]

Two measures, same process, interleaved rounds, medians:
1. Process CPU (all threads, encoder threads included) of the pipeline with one layer at a time, so
   the encoder's extra work on each layer's pixels/samples shows up with the layer.
2. Main-thread CPU (time.thread_time) of each synthmark call inside label_file: the labeling code's
   own work, without the encoder.
``--source photo`` uses a 640x360 pan/zoom clip over a real photograph (tests/data, as in
bench/robustness_video.py) with the built-in sample's audio, instead of the synthetic sample;
``--source noisy`` the same with camera-like sensor noise (Gaussian, sigma 2 levels, new every frame).
``--tradeoff 1,0.7`` instead times label_file at those watermark strengths
against the plain transcode (the robustness side: bench/robustness_video.py --strength).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# --src DIR: time another synthmark tree (e.g. an older commit's src/, extracted with git archive)
SRC = sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv else str(ROOT / "src")
sys.path.insert(0, SRC)

import synthmark as sm  # noqa: E402
from synthmark import pipeline, samples  # noqa: E402
from synthmark.io.transcode import transcode  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from bench_pipeline import plain_transcode  # noqa: E402

KEY = sm.Key.from_bytes(b"bench-key-0123456789abcdefghijkl")
SECONDS, W, H = 4.0, 640, 360


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def photo_clip(path: Path, photo: str = "coffee", noise: float = 0.0) -> Path:
    """640x360, 4 s, 25 fps pan/zoom over a photograph, H.264 CRF 18 + the sample's AAC audio."""
    import av
    import numpy as np

    from tests import media

    n = int(SECONDS * 25)
    frames = media.pan_zoom_clip(photo, W, H, n, seed=0)
    if noise:
        rng = np.random.default_rng(1)
        frames = [np.clip(f + rng.normal(0.0, noise, f.shape), 0, 255).astype(np.uint8) for f in frames]
    audio_src = path.with_suffix(".audio.mp4")
    samples.make_clip(audio_src, seconds=SECONDS, width=160, height=96)
    with av.open(str(audio_src)) as a, av.open(str(path), "w", format="mp4") as out:
        ia = a.streams.audio[0]
        ov = out.add_stream("libx264", rate=25)
        ov.width, ov.height, ov.pix_fmt = W, H, "yuv420p"
        ov.options = {"crf": "18", "preset": "veryfast"}
        oa = out.add_stream("aac", rate=ia.codec_context.sample_rate)
        oa.layout = ia.codec_context.layout.name
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            vf.pts = i
            for p in ov.encode(vf):
                out.mux(p)
        for p in ov.encode(None):
            out.mux(p)
        for frame in a.decode(ia):
            frame.pts = None
            for p in oa.encode(frame):
                out.mux(p)
        for p in oa.encode(None):
            out.mux(p)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--source", choices=("sample", "photo", "noisy"), default="sample")
    ap.add_argument("--photo", default="coffee")
    ap.add_argument("--src", default=None, help="the synthmark source tree to import (default: this tree's src/)")
    ap.add_argument("--tradeoff", default="", help="watermark strengths, e.g. 1,0.7")
    args = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    tmp = Path(tempfile.mkdtemp(prefix="sm-breakdown-"))
    if args.source == "sample":
        clip = samples.make_clip(tmp / "src.mp4", seconds=SECONDS, width=W, height=H)
    else:
        clip = photo_clip(tmp / "src.mp4", args.photo, 2.0 if args.source == "noisy" else 0.0)
    payload = pipeline.payload_for("bench-1")
    vwm = sm.VideoWatermarker(KEY, payload)
    visible = sm.VisibleLabel()
    duration = 4.0

    def vis(frame):
        visible.apply(frame, t=frame.time or 0.0, duration=duration)

    def both(frame):
        vis(frame)
        vwm.embed(frame)

    def audio_only(rate, ch):
        return pipeline._AudioChain(rate, ch, sm.AudibleLabel(mode="overlay", extend=True),
                                    sm.AudioWatermarker(KEY, payload, rate, ch))

    def audible_only(rate, ch):
        return pipeline._AudioChain(rate, ch, sm.AudibleLabel(mode="overlay", extend=True), None)

    runs = {
        "plain PyAV decode + encode": lambda out: plain_transcode(str(clip), str(out)),
        "pipeline, no layer": lambda out: transcode(clip, out, "mp4"),
        "+ visible label": lambda out: transcode(clip, out, "mp4", video_fn=vis),
        "+ video watermark": lambda out: transcode(clip, out, "mp4", video_fn=vwm.embed),
        "+ visible label + video watermark": lambda out: transcode(clip, out, "mp4", video_fn=both),
        "+ audible prompt": lambda out: transcode(clip, out, "mp4", audio_factory=audible_only),
        "+ audible prompt + audio watermark": lambda out: transcode(clip, out, "mp4", audio_factory=audio_only),
        "label_file": lambda out: sm.label_file(clip, out, key=KEY, producer="BenchCo", content_id="bench-1"),
    }
    if args.tradeoff:
        def labeled(strength):
            def run(out):
                sm.label_file(clip, out, key=KEY, producer="BenchCo", content_id="bench-1", watermark_strength=strength)
            return run

        runs = {"plain PyAV decode + encode": runs["plain PyAV decode + encode"]}
        for value in args.tradeoff.split(","):
            strength = float(value)
            runs[f"label_file, strength {strength:g}"] = labeled(strength)
    for name, f in runs.items():  # warm-up: JIT, codecs, caches
        f(tmp / "warm.mp4")
    cpus = {n: [] for n in runs}
    sizes = {}
    for i in range(args.rounds):
        for j, (name, f) in enumerate(runs.items()):
            out = tmp / f"r{j}_{i}.mp4"
            c = cpu()
            f(out)
            cpus[name].append(cpu() - c)
            sizes[name] = out.stat().st_size / 1024
            out.unlink()
    med = {n: statistics.median(v) for n, v in cpus.items()}
    low = {n: min(v) for n, v in cpus.items()}  # least disturbed by other processes on shared cores
    base, base_low = med["plain PyAV decode + encode"], low["plain PyAV decode + encode"]
    print(f"\nsource: {args.source}{' (' + args.photo + ')' if args.source != 'sample' else ''}, 640x360 4 s 25 fps, "
          f"x264 CRF 18 veryfast + AAC 192k; process CPU of {args.rounds} interleaved rounds")
    print("| run | CPU ms (median) | vs plain | CPU ms (min) | vs plain | output KiB |\n|---|---|---|---|---|---|")
    for n, m in med.items():
        print(f"| {n} | {m * 1000:.0f} | {100 * (m / base - 1):+.1f}% | {low[n] * 1000:.0f} | "
              f"{100 * (low[n] / base_low - 1):+.1f}% | {sizes[n]:.0f} |")
    if args.tradeoff:
        return

    # 2. main-thread CPU of each synthmark call inside label_file (wrapped in place)
    spent: dict[str, list] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                spent.setdefault(name, []).append(time.thread_time() - t)
        return wrapper

    import synthmark.io.transcode as tr

    patches = [
        (sm.VideoWatermarker, "embed"), (sm.VisibleLabel, "apply"), (pipeline._AudioChain, "process"),
        (pipeline._AudioChain, "flush"), (pipeline, "read_record"), (tr, "probe"), (pipeline, "publish"),
        (pipeline, "sniff"), (pipeline, "VideoWatermarker"), (pipeline, "AudioWatermarker"),
        (pipeline.AigcRecord, "signed"), (tr, "writable_frame"),
    ]
    saved = [(obj, attr, getattr(obj, attr)) for obj, attr in patches]
    for obj, attr, fn in saved:
        setattr(obj, attr, timed(f"{getattr(obj, '__name__', obj)}.{attr}", fn))
    per_run, bare = [], []
    try:
        for i in range(args.rounds):
            spent.clear()
            t = time.thread_time()
            sm.label_file(clip, tmp / "t.mp4", key=KEY, producer="BenchCo", content_id="bench-1")
            total = time.thread_time() - t
            per_run.append(({k: sum(v) for k, v in spent.items()}, {k: len(v) for k, v in spent.items()}, total))
            t = time.thread_time()
            transcode(clip, tmp / "n.mp4", "mp4")
            bare.append(time.thread_time() - t)
    finally:
        for obj, attr, fn in saved:
            setattr(obj, attr, fn)
    names = per_run[0][0].keys()
    print(f"\nmain-thread CPU inside label_file (median of {args.rounds}; plain transcode process CPU {base * 1000:.0f} ms)")
    print("| call | calls | ms | % of plain |\n|---|---|---|---|")
    for n in names:
        m = statistics.median(r[0][n] for r in per_run)
        print(f"| {n} | {per_run[0][1][n]} | {m * 1000:.1f} | {100 * m / base:.1f}% |")
    m = statistics.median(r[2] for r in per_run)
    b = statistics.median(bare)
    print(f"| label_file main thread total | | {m * 1000:.0f} | |")
    print(f"| pipeline with no layer, main thread (interleaved) | | {b * 1000:.0f} | |")
    print(f"| difference: synthmark's own work on the main thread | | {(m - b) * 1000:.0f} | {100 * (m - b) / base:.1f}% |")
    print(f"(synthmark imported from {Path(sm.__file__).parent})")


if __name__ == "__main__":
    main()
