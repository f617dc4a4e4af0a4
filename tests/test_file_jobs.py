"""Whole-file jobs: label_file -> inspect_file round trips on real files made with PyAV, bad inputs,
atomic publication, the command line."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest

import synthmark as sm
from synthmark import samples
from synthmark.cli import main
from synthmark.errors import InvalidArgumentError, MediaError, MetadataError
from synthmark.metadata import read_record

PRODUCER = "001191440300708461136T1XGW3"

CLIPS = {
    "h264_aac.mp4": dict(vcodec="libx264", acodec="aac"),
    "h265_mp3.mkv": dict(vcodec="libx265", acodec="libmp3lame"),
    "vp9_opus.webm": dict(vcodec="libvpx-vp9", acodec="libopus"),
    "h264_aac.mov": dict(vcodec="libx264", acodec="aac"),
}
STILLS = {"still.png": "png", "still.jpg": "mjpeg"}
SOUNDS = {"tone.wav": "pcm_s16le", "tone.mp3": "libmp3lame", "tone.flac": "flac"}
ALL = list(CLIPS) + list(STILLS) + list(SOUNDS)


@pytest.fixture(scope="module")
def key():
    return sm.Key.from_bytes(b"file-jobs-test-key-0123456789abc")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    out = {}
    for name, kw in CLIPS.items():
        out[name] = samples.make_clip(d / name, seconds=1.2, **kw)
    for name, codec in STILLS.items():
        out[name] = samples.make_image(d / name, codec=codec)
    # 640x360: at 320x240 the smooth sample carries too little of the v2 mark for two lossy encodes
    # (label_file's, then the re-upload's): bench/README.md, watermark v2
    out["wm_h264_aac.mp4"] = samples.make_clip(d / "wm_h264_aac.mp4", seconds=1.2, width=640, height=360)
    out["wm_vp9_opus.webm"] = samples.make_clip(d / "wm_vp9_opus.webm", seconds=1.2, width=640, height=360,
                                                vcodec="libvpx-vp9", acodec="libopus")
    for name, codec in SOUNDS.items():
        out[name] = samples.make_audio(d / name, codec=codec, seconds=12.0)  # the audio payload: ~1.7 periods of the mark (its SNR is 35.5 dB on this sample)
    return out


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def stream_summary(path):
    with av.open(str(path)) as c:
        v = [f for f in c.decode(video=0)] if c.streams.video else []
        vinfo = (len(v), v[0].time, v[-1].time, v[0].width, v[0].height) if v else None
    with av.open(str(path)) as c:
        a = list(c.decode(audio=0)) if c.streams.audio else []
        ainfo = sum(f.samples for f in a) / a[0].sample_rate if a else None
    return vinfo, ainfo


def label(src, dst, key, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # parts not yet in this build are listed in the report
        kw.setdefault("user_ref", "user-1")  # recorded when audit= is given (the default policy needs it)
        return sm.label_file(src, dst, key=key, producer=PRODUCER, content_id="job-" + dst.stem, **kw)


@pytest.mark.parametrize("name", ALL)
def test_label_then_inspect_round_trip(name, sources, key, tmp_path):
    src = sources[name]
    before = sha(src)
    dst = tmp_path / ("labeled_" + name)
    seen = []
    report = label(src, dst, key, progress=seen.append)
    assert sha(src) == before, "the input was modified"
    assert dst.exists() and sorted(p.name for p in tmp_path.iterdir()) == [dst.name]
    assert report.record.produce_id == "job-" + dst.stem and report.record.label == "1"
    assert report.payload == sm.pipeline.payload_for("job-" + dst.stem)
    back = read_record(dst)
    assert back == report.record
    info = sm.inspect_file(dst, key=key)
    assert info.record == report.record and info.record_verified is True
    assert info.platform_label == "1"
    assert sm.inspect_file(dst, key=sm.Key.from_bytes(bytes(32))).record_verified is False
    # media survive: same frame count and timing, same picture size, same audio length (codec padding aside)
    sv, sa = stream_summary(src)
    dv, da = stream_summary(dst)
    if sv:
        assert dv[0] == sv[0] and dv[3:] == sv[3:]
        assert dv[1] == pytest.approx(sv[1], abs=0.05) and dv[2] == pytest.approx(sv[2], abs=0.05)
    if sa:
        assert da == pytest.approx(sa, abs=0.1)
    if name in CLIPS:
        assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    # the explicit labels are really there
    if sv:
        assert "visible label" in report.applied
        d = info.detections["image" if name in STILLS else "video"]
        assert d.found and d.payload == report.payload and d.false_alarm < 1e-9
        assert label_region_change(src, dst) > 10  # the label box top-left (mean |diff| in luma levels)
    if sa:
        assert "audible prompt" in report.applied
        assert tone_ratio(src, dst, 800.0) > 3  # the 800 Hz rhythm prompt in the first second
        assert "audio watermark" in report.applied
        d = info.detections.get("audio")
        if da >= 5.0:  # shorter clips are too short to carry the whole audio payload period
            assert d.found and d.payload == report.payload and d.false_alarm < 1e-9, d


def _first_gray(path):
    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="gray").astype(float)


def label_region_change(src, dst):
    a, b = _first_gray(src), _first_gray(dst)
    h, w = a.shape
    return float(np.abs(a - b)[: int(h * 0.12), : int(w * 0.25)].mean())


def _head_audio(path, seconds=1.0):
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].codec_context.sample_rate
        chunks, n = [], 0
        for f in c.decode(audio=0):
            x = f.to_ndarray()
            x = x.reshape(-1, f.samples) if f.format.is_planar else x.reshape(f.samples, -1).T
            chunks.append(x.astype(float).mean(axis=0) / (32768.0 if x.dtype.kind == "i" else 1.0))
            n += f.samples
            if n >= seconds * rate:
                break
    return np.concatenate(chunks)[: int(seconds * rate)], rate


def tone_ratio(src, dst, freq):
    def band(path):
        x, rate = _head_audio(path)
        spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
        f = np.fft.rfftfreq(x.size, 1 / rate)
        return spec[(f > freq - 6) & (f < freq + 6)].sum() + 1e-9
    return band(dst) / band(src)


def test_unlabeled_file_inspects_as_no_label(sources, key):
    info = sm.inspect_file(sources["h264_aac.mp4"], key=key)
    assert info.record is None and info.record_verified is None and info.platform_label is None
    assert sm.platform_label(None, user_declared=True) == "2"
    assert sm.platform_label(None, detected=True) == "3"
    assert sm.platform_label(sm.AigcRecord(label="3"), user_declared=True) == "2"


def test_relabel_by_distributor_keeps_producer(sources, key, tmp_path):
    first = tmp_path / "first.mp4"
    label(sources["h264_aac.mp4"], first, key)
    platform_key = sm.Key.from_bytes(b"platform-key-0123456789abcdefghij")
    second = tmp_path / "second.mp4"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = sm.label_file(first, second, key=platform_key, producer="PlatformCo", content_id="plat-1",
                          label="3", propagator="PlatformCo", propagate_id="plat-1")
    rec = read_record(second)
    assert rec == r.record
    assert rec.label == "1" and rec.content_producer == PRODUCER and rec.produce_id == "job-first"
    assert rec.content_propagator == "PlatformCo" and rec.propagate_id == "plat-1"
    assert sm.inspect_file(second, key=key).record_verified is True  # the producer's signature still holds


def _bad_inputs(sources, d):
    good = open(sources["h264_aac.mp4"], "rb").read()
    cases = {
        "empty.mp4": b"",
        "truncated.mp4": good[: len(good) // 3],
        "garbage.mp4": b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 40,
        # streams whose codec the demuxer cannot name (PyAV gives them no codec context)
        "unknown_audio_codec.mp4": good.replace(b"mp4a", b"xxxx").replace(b"esds", b"xxxx"),
        "unknown_video_codec.mp4": good.replace(b"avc1", b"xxxx").replace(b"avcC", b"xxxx"),
        "notmedia.txt": b"just some text\n" * 10,
        "truncated.png": open(sources["still.png"], "rb").read()[:500],
        "truncated.jpg": open(sources["still.jpg"], "rb").read()[:400],
        "truncated.wav": open(sources["tone.wav"], "rb").read()[:30],
        "truncated.mkv": open(sources["h265_mp3.mkv"], "rb").read()[:-len(open(sources["h265_mp3.mkv"], "rb").read()) // 3],
        "truncated.webm": open(sources["vp9_opus.webm"], "rb").read()[:-len(open(sources["vp9_opus.webm"], "rb").read()) // 3],
        "truncated.mp3": open(sources["tone.mp3"], "rb").read()[: len(open(sources["tone.mp3"], "rb").read()) // 2],
        "truncated.flac": open(sources["tone.flac"], "rb").read()[: len(open(sources["tone.flac"], "rb").read()) // 2],
    }
    paths = {}
    for name, data in cases.items():
        p = d / name
        p.write_bytes(data)
        paths[name] = p
    return paths


def test_bad_inputs_give_media_errors_and_leave_nothing(sources, key, tmp_path):
    ind = tmp_path / "in"
    ind.mkdir()
    outd = tmp_path / "out"
    outd.mkdir()
    for name, p in _bad_inputs(sources, ind).items():
        before = p.read_bytes()
        with pytest.raises(MediaError) as info:
            label(p, outd / ("o_" + name.replace(".txt", ".mp4")), key)
        assert "\n" not in str(info.value) and "Errno" not in str(info.value)
        if not name.startswith("truncated"):  # inspect reads what a truncated file still holds
            with pytest.raises(MediaError):
                sm.inspect_file(p, key=key)
        assert p.read_bytes() == before
        assert list(outd.iterdir()) == [], f"{name}: something was left at dst"
    with pytest.raises(MediaError, match="not found"):
        label(ind / "missing.mp4", outd / "o.mp4", key)


def test_failure_keeps_existing_dst(sources, key, tmp_path):
    dst = tmp_path / "dst.mp4"
    dst.write_bytes(b"previous content")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(open(sources["h264_aac.mp4"], "rb").read()[:2000])
    with pytest.raises(MediaError):
        label(bad, dst, key, overwrite=True)  # allowed to replace dst, but the job fails
    assert dst.read_bytes() == b"previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4", "dst.mp4"]


KILLED_JOB = r"""
import sys, warnings
import synthmark as sm
warnings.simplefilter("ignore")
sm.label_file(sys.argv[1], sys.argv[2], key=sm.Key.from_bytes(b"file-jobs-test-key-0123456789abc"),
              producer="synthmark-test", content_id="killed", progress=lambda fraction: print(fraction, flush=True))
"""


def test_killed_job_leaves_no_final_name_and_its_temp_is_swept(key, tmp_path):
    """A label_file killed (SIGKILL) mid-transcode leaves only its hidden temporary file, never a file
    under the final name; the next job for that target removes it. Temporary files of live processes
    and of other hosts are left alone."""
    src = samples.make_clip(tmp_path / "long.mp4", seconds=20.0, width=320, height=240)
    out = tmp_path / "out"
    out.mkdir()
    dst = out / "labeled.mp4"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_JOB, str(src), str(dst)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline(), proc.stderr.read()  # the first progress report: transcoding
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 1 and left[0].startswith(".labeled.") and ".part" in left[0], left
    live = out / f".labeled.{os.getpid()}-00000000-00000000.live.part.mp4"
    live.write_bytes(b"x")  # our own pid: still running, whatever its hashes
    other_host = out / left[0].replace(left[0].split(".")[2].split("-")[1], "ffffffff")
    other_host.write_bytes(b"y")
    label(src, dst, key)
    assert sorted(p.name for p in out.iterdir()) == sorted(["labeled.mp4", live.name, other_host.name])
    assert sm.inspect_file(dst).record is not None


def test_muxer_dropping_the_tag_is_an_error(sources, key, tmp_path, monkeypatch):
    import synthmark.io.transcode as tc

    monkeypatch.setitem(tc.MUXER_OPTIONS, "mp4", {})  # without use_metadata_tags FFmpeg drops AIGC silently
    with pytest.raises(MetadataError, match="dropped"):
        label(sources["h264_aac.mp4"], tmp_path / "o.mp4", key)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(sources, key, tmp_path):
    src = sources["h264_aac.mp4"]
    with pytest.raises(MetadataError, match="producer"):
        sm.label_file(src, tmp_path / "o.mp4", key=key, producer="ACME Corp", content_id="x")
    with pytest.raises(InvalidArgumentError, match="content_id"):
        sm.label_file(src, tmp_path / "o.mp4", key=key, producer="ACME", content_id="")
    with pytest.raises(TypeError):
        sm.label_file(src, tmp_path / "o.mp4", key=b"k" * 32, producer="ACME", content_id="x")
    with pytest.raises(InvalidArgumentError, match="differ"):
        sm.label_file(src, src, key=key, producer="ACME", content_id="x")
    assert list(tmp_path.iterdir()) == []


def test_options_codec_and_bitrate(sources, key, tmp_path):
    dst = tmp_path / "o.mkv"
    label(sources["h265_mp3.mkv"], dst, key, video_codec="libx265", video_bitrate=300_000, audio_codec="libopus")
    with av.open(str(dst)) as c:
        assert c.streams.video[0].codec_context.name == "hevc"
        assert c.streams.audio[0].codec_context.name == "opus"
    assert read_record(dst).label == "1"


# -- command line ------------------------------------------------------------------------------------
def test_cli_label_inspect_and_errors(sources, tmp_path, capsys):
    keyfile = tmp_path / "k.key"
    assert main(["keygen", str(keyfile)]) == 0
    out = tmp_path / "o.mp4"
    audit = tmp_path / "audit.db"
    assert main(["label", sources["h264_aac.mp4"], str(out), "--key", str(keyfile), "--producer", PRODUCER,
                 "--content-id", "cli-1", "-q", "--audit", str(audit), "--user-ref", "user-1"]) == 0
    with sm.AuditLog(audit, read_only=True) as log:
        assert log.verify().ok
    capsys.readouterr()
    assert main(["inspect", str(out), "--key", str(keyfile), "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert d["record"]["ProduceID"] == "cli-1" and d["record_verified"] is True and d["platform_label"] == "1"
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    cases = [
        ["label", str(bad), str(tmp_path / "x.mp4"), "--key", str(keyfile), "--producer", "P", "--content-id", "c", "--no-audit"],
        ["label", sources["h264_aac.mp4"], str(tmp_path / "x.mp4"), "--key", str(tmp_path / "nokey"), "--producer", "P", "--content-id", "c", "--no-audit"],
        ["label", sources["h264_aac.mp4"], str(tmp_path / "x.mp4"), "--key", str(keyfile), "--producer", "P Q", "--content-id", "c", "--no-audit"],
        ["inspect", str(tmp_path / "missing.mp4")],
        ["inspect", str(keyfile)],
    ]
    for argv in cases:
        assert main(argv) != 0
        err = capsys.readouterr().err
        assert err.startswith("synthmark: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "x.mp4").exists()


def test_cli_demo_runs_without_input():
    proc = subprocess.run([sys.executable, "-m", "synthmark", "demo", "--seconds", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "metadata: Label 1" in proc.stdout and "verifies with this key" in proc.stdout
    assert "platform Label: none" in proc.stdout  # the unlabeled original
    assert "platform Label: 3 (suspected" in proc.stdout  # the re-upload without metadata, from the watermark


# -- audit -------------------------------------------------------------------------------------------
def test_audit_event_is_durable_before_publish(sources, key, tmp_path):
    from synthmark.audit import AuditLog

    dst = tmp_path / "o.mp4"
    with AuditLog(tmp_path / "audit.db") as log:
        report = label(sources["h264_aac.mp4"], dst, key, audit=log)
        records = list(log.records())
        assert log.verify().ok
    assert "audit" in report.applied
    ev = records[-1].event
    assert ev.output_sha256 == sha(dst) and ev.content_id == "job-o" and ev.media_type == "video"
    assert ev.labels["metadata"]["Label"] == "1"
    assert key.secret_bytes().hex() not in json.dumps(ev.to_dict())


def test_failing_audit_store_publishes_nothing(sources, key, tmp_path):
    from synthmark.audit import AuditLog
    from synthmark.errors import AuditError

    ro_path = tmp_path / "audit.db"
    AuditLog(ro_path).close()
    out = tmp_path / "out"
    out.mkdir()
    with AuditLog(ro_path, read_only=True) as ro:
        with pytest.raises(AuditError):
            label(sources["h264_aac.mp4"], out / "o.mp4", key, audit=ro)
    assert list(out.iterdir()) == []


# -- the watermark survives a plain transcode that drops all metadata --------------------------------
def plain_transcode(src, dst, vcodec="libx264", acodec="aac", crf="23"):
    """A re-upload: plain PyAV decode + encode, different quality, no metadata carried over."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = []
        if inp.streams.video:
            iv = inp.streams.video[0]
            ov = out.add_stream(vcodec, rate=iv.average_rate or 25)
            ov.width, ov.height, ov.pix_fmt = iv.codec_context.width, iv.codec_context.height, "yuv420p"
            ov.options = {"crf": crf, "preset": "veryfast"} if vcodec == "libx264" else {}
            streams.append((iv, ov))
        if inp.streams.audio:
            ia = inp.streams.audio[0]
            oa = out.add_stream(acodec, rate=ia.codec_context.sample_rate)
            oa.layout = "stereo" if ia.codec_context.layout.nb_channels == 2 else "mono"
            oa.format = "flt" if acodec == "libopus" else "fltp"
            streams.append((ia, oa))
        enc = dict((i.index, o) for i, o in streams)
        n = 0
        for packet in inp.demux(*[i for i, _ in streams]):
            for frame in packet.decode():
                frame.pts = None
                if packet.stream.type == "video":
                    frame.pict_type = 0
                    frame.pts, frame.time_base = n, 1 / Fraction(ov.average_rate or 25)
                    n += 1
                for p in enc[packet.stream.index].encode(frame):
                    out.mux(p)
        for _, o in streams:
            for p in o.encode(None):
                out.mux(p)


@pytest.mark.parametrize("name, target", [("wm_h264_aac.mp4", "re.mp4"), ("wm_vp9_opus.webm", "re.mkv")])
def test_video_watermark_survives_metadata_stripping_transcode(name, target, sources, key, tmp_path):
    labeled = tmp_path / ("l_" + name)
    report = label(sources[name], labeled, key)
    assert "video watermark" in report.applied
    re = tmp_path / target
    plain_transcode(labeled, re)
    assert read_record(re) is None  # the metadata is gone
    info = sm.inspect_file(re, key=key)
    d = info.detections["video"]
    assert d.found and d.payload == report.payload and d.false_alarm < 1e-6
    assert info.platform_label == "3" and info.record is None  # suspected AI, from the watermark alone
    assert not sm.inspect_file(re, key=sm.Key.from_bytes(bytes(32))).detections["video"].found
    assert not sm.inspect_file(sources[name], key=key).detections["video"].found


def test_image_watermark_survives_png_to_jpeg(sources, key, tmp_path):
    labeled = tmp_path / "l.png"
    report = label(sources["still.png"], labeled, key)
    assert "image watermark" in report.applied
    with av.open(str(labeled)) as c:
        frame = next(c.decode(video=0))
    jpg = tmp_path / "re.jpg"
    with av.open(str(jpg), "w", format="image2", options={"update": "1"}) as c:
        s = c.add_stream("mjpeg", rate=1)
        s.width, s.height, s.pix_fmt = frame.width, frame.height, "yuvj420p"
        s.codec_context.qscale = 4
        s.options = {"qmin": "4", "qmax": "4"}
        f = frame.reformat(format="yuvj420p")
        f.pts = 0
        for p in list(s.encode(f)) + list(s.encode(None)):
            c.mux(p)
    assert read_record(jpg) is None
    info = sm.inspect_file(jpg, key=key)
    assert info.detections["image"].found and info.detections["image"].payload == report.payload


@pytest.mark.parametrize("name, acodec, target", [("tone.wav", "libmp3lame", "re.mp3"),
                                                   ("tone.mp3", "aac", "re.m4a")])  # MP3 -> MP3 -> AAC
def test_audio_watermark_survives_metadata_stripping_transcode(name, acodec, target, sources, key, tmp_path):
    labeled = tmp_path / ("l_" + name)
    report = label(sources[name], labeled, key)
    re = tmp_path / target
    plain_transcode(labeled, re, acodec=acodec)
    assert read_record(re) is None
    info = sm.inspect_file(re, key=key)
    d = info.detections["audio"]
    assert d.found and d.payload == report.payload and d.false_alarm < 1e-6, d
    assert info.platform_label == "3"


def test_labeled_mp3_is_encoded_at_the_watermark_bitrate(sources, key, tmp_path):
    """label_file's own MP3 encode, like its AAC, gets >= 96 kb/s per channel (LAME's default 128 kb/s
    stereo cost the MP3 -> labeled MP3 -> AAC job above its payload); an explicit audio_bitrate wins."""
    def bit_rate(path):
        with av.open(str(path)) as c:
            return c.streams.audio[0].bit_rate

    assert bit_rate(sources["tone.mp3"]) == 128_000
    label(sources["tone.mp3"], tmp_path / "l.mp3", key)
    assert bit_rate(tmp_path / "l.mp3") == 192_000
    label(sources["tone.mp3"], tmp_path / "l128.mp3", key, audio_bitrate=128_000)
    assert bit_rate(tmp_path / "l128.mp3") == 128_000


def test_frame_too_small_for_labels_is_a_clean_error(key, tmp_path):
    src = samples.make_clip(tmp_path / "tiny.mp4", seconds=0.4, width=48, height=32)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(sm.errors.FrameTooSmallError):
        label(src, out / "o.mp4", key)
    assert list(out.iterdir()) == []
