"""The audio watermark on real synthesized speech (espeak-ng, flite, festival; see tests/speech.py)
through real codecs (PyAV), tempo changes and a telephone chain."""

from __future__ import annotations

import numpy as np
import pytest

import synthmark as sm

from . import speech
from .audio_signals import atempo, codec_roundtrip, phone_chain

FS = 48000
KEY = sm.Key(b"speech-test-key-0123456789abcdef")
PAYLOAD = 0x5EEC_4A11_0BAD_F00D

if not speech.available():  # .ci/run installs them; a developer machine without them fails loudly
    pytest.fail("espeak-ng, flite and festival (with its voices) are needed: see .ci/run", pytrace=False)


@pytest.fixture(scope="module")
def marked():
    """16 s utterances of four voices (male and female, English and Mandarin, three engines), marked."""
    out = {}
    for i, name in enumerate(("espeak-cmn-f5", "espeak-en-gb-m3", "flite-slt", "festival-ked")):
        x = speech.utterance(name, 16.0, FS, seed=900 + i)
        out[name] = (x, sm.watermark_audio(x, FS, key=KEY, payload=PAYLOAD))
    return out


def test_speech_material():
    x = speech.utterance("espeak-cmn-m3", 12.0, FS, seed=3)
    y = speech.utterance("espeak-cmn-m3", 12.0, 16000, seed=3)
    assert x.dtype == np.float32 and len(x) == 12 * FS and len(y) == 12 * 16000
    assert 0.3 <= np.max(np.abs(x)) <= 0.9
    blocks = np.abs(x[: len(x) // 4800 * 4800]).reshape(-1, 4800).max(axis=1)
    assert np.mean(blocks == 0.0) > 0.03  # pauses (digital silence) between sentences
    assert np.mean(blocks > 0.05) > 0.6  # mostly speech
    assert {v.gender for v in speech.HELD_OUT} == {"M", "F"} and {v.lang for v in speech.HELD_OUT} == {"en", "zh"}
    assert not {v.name for v in speech.TUNE} & {v.name for v in speech.HELD_OUT}


def test_snr_floor_on_real_speech(marked):
    for name, (x, y) in marked.items():
        d = y.astype(np.float64) - x
        xe = (x.astype(np.float64) ** 2).reshape(-1, FS // 20).mean(1)
        de = (d ** 2).reshape(-1, FS // 20).mean(1)
        live = xe > 1e-6
        assert 10 * np.log10(xe[live].sum() / de[live].sum()) >= 35.0, name


def test_aac_96k_reads_the_payload(marked):
    for name in ("espeak-cmn-f5", "flite-slt"):
        y = marked[name][1]
        z = codec_roundtrip(y[2 * FS: 12 * FS], FS, "aac", 96_000)[:, 0]
        det = sm.detect_audio(z, FS, key=KEY, search_speed=False)
        assert det.payload == PAYLOAD, (name, det.details)


def test_tempo_change_keeping_pitch(marked):
    """FFmpeg atempo +-2% on 10 s windows: found through the detector's tempo hypotheses, at the
    right tempo (the payload is read from some windows only: bench/results/robustness_speech.md)."""
    for name in ("espeak-cmn-f5", "flite-slt"):
        y = marked[name][1]
        for tempo in (1.02, 0.98):
            det = sm.detect_audio(atempo(y[1 * FS: 11 * FS], FS, tempo), FS, key=KEY)
            assert det.found and det.payload in (None, PAYLOAD), (name, tempo, det.details)
            assert abs(det.details["tempo"] - tempo) < 0.004 and det.details["speed"] == 1.0


def test_phone_chain(marked):
    y = marked["festival-ked"][1]
    det = sm.detect_audio(phone_chain(y[3 * FS: 13 * FS], FS), FS, key=KEY, search_speed=False)
    assert det.payload == PAYLOAD, det.details


def test_unmarked_speech_and_wrong_key_find_nothing(marked):
    """Unmarked speech and another key: nothing found (two clips with the full speed and tempo
    search, the others at speed 1 only, to stay quick)."""
    other = sm.Key(b"speech-test-other-key-0123456789")
    for i, (name, (x, y)) in enumerate(marked.items()):
        search = i < 2
        for det in (sm.detect_audio(x[: 10 * FS], FS, key=KEY, search_speed=search),
                    sm.detect_audio(y[: 10 * FS], FS, key=other, search_speed=search)):
            assert not det.found and det.payload is None, name
            assert det.false_alarm > 1e-4, name
