"""AIGC metadata record: rules of the record, and every carrier (write/read/update round trips)."""

from __future__ import annotations

import json
import struct

import pytest

import synthmark as sm
from synthmark import samples
from synthmark.errors import MediaError, MetadataError
from synthmark.metadata import AigcRecord, is_provider_code, jpeg, png, read_record, riff_wav, sniff, write_record
from synthmark.metadata.record import check_value, reserved_code1

PRODUCER = "001191440300708461136T1XGW3"


@pytest.fixture(scope="module")
def key():
    return sm.Key.from_bytes(bytes(range(32)))


def rec(**kw):
    base = dict(label="1", content_producer=PRODUCER, produce_id="job-42",
                content_propagator=PRODUCER, propagate_id="job-42")
    base.update(kw)
    return AigcRecord(**base)


# -- the record ------------------------------------------------------------------------------------
def test_to_json_is_inner_compact_plain_json_in_standard_order():
    text = rec().to_json()
    assert text.startswith('{"Label":"1","ContentProducer":"001191440300708461136T1XGW3"')
    assert " " not in text
    assert list(json.loads(text)) == ["Label", "ContentProducer", "ProduceID", "ReservedCode1",
                                      "ContentPropagator", "PropagateID", "ReservedCode2"]


def test_parse_reads_inner_and_wrapped_forms():
    r = rec()
    assert AigcRecord.parse(r.to_json()) == r
    assert AigcRecord.parse('{"AIGC":' + r.to_json() + "}") == r
    assert AigcRecord.parse(r.to_json().encode()) == r
    # other writers: missing optional fields, extra keys
    assert AigcRecord.parse('{"Label":"2","ContentProducer":"x","Extra":"y"}') == AigcRecord(label="2", content_producer="x")


@pytest.mark.parametrize("bad, field", [
    ('{"Label":"1","ContentProducer":"a b"}', "ContentProducer"),
    ('{"Label":"1","ProduceID":"a\\"b"}', "ProduceID"),
    ('{"Label":"1","ProduceID":"a\\\\b"}', "ProduceID"),
    ('{"Label":"1","ProduceID":"\\u4e2d"}', "ProduceID"),
    ('{"Label":"4"}', "Label"),
    ('{"Label":1}', "Label"),
    ('{"ContentProducer":"x"}', "Label"),
])
def test_parse_rejects_bad_records_naming_the_field(bad, field):
    with pytest.raises(MetadataError, match=field):
        AigcRecord.parse(bad)


@pytest.mark.parametrize("text", ["", "not json", "[1,2]", '{"AIGC":"x"}'])
def test_parse_rejects_non_records(text):
    with pytest.raises(MetadataError):
        AigcRecord.parse(text)


def test_character_set_and_length():
    assert check_value("X", "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')) 
    for bad in (" ", "\t", '"', "\\", "\x7f", "é", "\n"):
        with pytest.raises(MetadataError, match="ContentProducer"):
            AigcRecord(content_producer="ok" + bad)
    AigcRecord(produce_id="a" * 2048)
    with pytest.raises(MetadataError, match="ProduceID.*2048"):
        AigcRecord(produce_id="a" * 2049)
    with pytest.raises(TypeError):
        AigcRecord(produce_id=5)


def test_label_never_downgraded_and_propagator_relabel():
    producer_rec = rec(label="1")
    platform = AigcRecord(label="3", content_producer="Platform", produce_id="p-9",
                          content_propagator="Platform", propagate_id="p-9")
    merged = platform.merged_over(producer_rec)
    assert merged.label == "1"
    assert (merged.content_producer, merged.produce_id) == (PRODUCER, "job-42")
    assert (merged.content_propagator, merged.propagate_id) == ("Platform", "p-9")
    assert rec(label="3").merged_over(rec(label="2")).label == "2"
    assert rec(label="1").merged_over(rec(label="3")).label == "1"
    r = producer_rec.relabeled("Platform", "p-1", label="3")
    assert r.label == "1" and r.content_producer == PRODUCER and r.content_propagator == "Platform"


def test_provider_code_shape():
    assert is_provider_code(PRODUCER)
    assert not is_provider_code(PRODUCER.lower())
    assert not is_provider_code(PRODUCER[:-1])
    assert not is_provider_code("101191440300708461136T1XGW3")  # must start with 00
    assert not is_provider_code("001191440300708461136T3XGW3")  # extension type 1 or 2
    AigcRecord(content_producer="not-a-code")  # shape is not required


def test_reserved_code1_is_keyed_over_producer_fields_and_payload(key):
    r = rec().signed(key, 0x1234)
    assert len(r.reserved_code1) == 64 and int(r.reserved_code1, 16) >= 0
    assert r.verify(key, 0x1234)
    assert not r.verify(key, 0x1235)
    assert not r.verify(sm.Key.from_bytes(bytes(32)), 0x1234)
    forged = AigcRecord(**{**r.__dict__, "produce_id": "job-43"})
    assert not forged.verify(key, 0x1234)
    assert not rec().verify(key, 0x1234)  # no signature at all
    assert reserved_code1(key, r, 0x1234) == r.reserved_code1
    import hashlib
    import hmac

    msg = b"synthmark/aigc-reserved-code1/v1\x00" + f"{PRODUCER}\x00job-42\x00{0x1234:016x}".encode()
    assert r.reserved_code1 == hmac.new(key.secret_bytes(), msg, hashlib.sha256).hexdigest()
    assert key.secret_bytes().hex() not in r.to_json()


# -- carriers ----------------------------------------------------------------------------------------
def _make(kind, path):
    if kind == "png":
        return samples.make_image(path, codec="png")
    if kind == "jpeg":
        return samples.make_image(path, codec="mjpeg")
    if kind == "wav":
        return samples.make_audio(path, codec="pcm_s16le", seconds=0.5)
    if kind == "mp3":
        return samples.make_audio(path, codec="libmp3lame", seconds=0.5)
    if kind == "flac":
        return samples.make_audio(path, codec="flac", seconds=0.5)
    if kind == "ogg":
        return samples.make_audio(path, codec="libopus", seconds=0.5, format="ogg")
    if kind == "m4a":
        return samples.make_audio(path, codec="aac", seconds=0.5, format="ipod")
    if kind == "mp4":
        return samples.make_clip(path, seconds=0.4, width=128, height=96)
    if kind == "mov":
        return samples.make_clip(path, seconds=0.4, width=128, height=96)
    if kind == "matroska":
        return samples.make_clip(path, seconds=0.4, width=128, height=96, vcodec="libx265")
    if kind == "webm":
        return samples.make_clip(path, seconds=0.4, width=128, height=96, vcodec="libvpx-vp9", acodec="libopus")
    raise AssertionError(kind)


EXT = {"png": "png", "jpeg": "jpg", "wav": "wav", "mp3": "mp3", "flac": "flac", "ogg": "opus", "m4a": "m4a",
       "mp4": "mp4", "mov": "mov", "matroska": "mkv", "webm": "webm"}
SNIFFED = {"m4a": "mp4"}


def _payload_bytes(kind, path):
    """The bytes that must not change when only the metadata is written."""
    data = path.read_bytes()
    if kind == "png":
        return png.image_chunks(data)
    if kind == "jpeg":
        return jpeg.scan_data(data)
    if kind == "wav":
        return riff_wav.sample_data(data)
    if kind == "mp3":
        if data.startswith(b"ID3"):
            size = 0
            for b in data[6:10]:
                size = (size << 7) | b
            data = data[10 + size:]
        return data
    raise AssertionError(kind)


@pytest.fixture(scope="module", params=list(EXT))
def media(request, tmp_path_factory):
    kind = request.param
    path = tmp_path_factory.mktemp(kind) / f"sample.{EXT[kind]}"
    _make(kind, path)
    return kind, path


def test_carrier_round_trip_update_and_single_record(media, key):
    kind, path = media
    assert sniff(path) == SNIFFED.get(kind, kind)
    assert read_record(path) is None
    first = rec().signed(key, 7)
    assert write_record(path, first) == first
    assert read_record(path) == first
    second = AigcRecord(label="3", content_producer="OtherCo", produce_id="z",
                        content_propagator="Platform", propagate_id="p-1")
    written = write_record(path, second)
    back = read_record(path)
    assert back == written
    assert back.label == "1" and back.content_producer == PRODUCER and back.reserved_code1 == first.reserved_code1
    assert back.content_propagator == "Platform" and back.propagate_id == "p-1"
    # exactly one record: the JSON appears once in the file
    data = path.read_bytes()
    assert data.count(b"ContentProducer") == 1, kind


@pytest.mark.parametrize("kind", ["png", "jpeg", "wav", "mp3"])
def test_no_reencode(kind, tmp_path, key):
    path = tmp_path / f"s.{EXT[kind]}"
    _make(kind, path)
    before = _payload_bytes(kind, path)
    write_record(path, rec().signed(key, 1))
    write_record(path, rec(label="2", produce_id="again"))
    assert _payload_bytes(kind, path) == before
    assert read_record(path).produce_id == "again"


def test_png_reads_text_chunk_and_wrapped_xmp(tmp_path):
    path = tmp_path / "t.png"
    samples.make_image(path)
    data = path.read_bytes()
    r = rec(label="2")
    chunk = png.make_chunk(b"tEXt", b"AIGC\x00" + ('{"AIGC":' + r.to_json() + "}").encode())
    i = data.index(b"IDAT") - 4
    path.write_bytes(data[:i] + chunk + data[i:])
    assert read_record(path) == r
    write_record(path, rec(label="1"))
    data = path.read_bytes()
    assert b"tEXt" not in data  # the second carrier is replaced by the one XMP record
    assert data.count(b"ContentProducer") == 1 and read_record(path).label == "1"


def test_xmp_attribute_form_and_other_properties_kept(tmp_path):
    path = tmp_path / "t.jpg"
    samples.make_image(path, codec="mjpeg")
    r = rec()
    esc = r.to_json().replace('"', "&quot;")
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/jpeg"/>'
              f'<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" TC260:AIGC="{esc}"/>'
              "</rdf:RDF></x:xmpmeta>").encode()
    seg = jpeg.XMP_HEADER + packet
    data = path.read_bytes()
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(seg) + 2) + seg + data[2:])
    assert read_record(path) == r
    write_record(path, rec(produce_id="new"))
    data = path.read_bytes()
    assert b'dc:format="image/jpeg"' in data
    assert data.count(b"ContentProducer") == 1 and read_record(path).produce_id == "new"


def test_wav_chunk_layout(tmp_path):
    path = tmp_path / "t.wav"
    samples.make_audio(path, codec="pcm_s16le", seconds=0.2)
    write_record(path, rec(produce_id="odd1"))  # odd-length JSON -> pad byte
    data = path.read_bytes()
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert len(rec(produce_id="odd1").to_json()) % 2 == 1
    ids = [cid for cid, *_ in riff_wav.iter_chunks(data)]
    assert ids.count(b"AIGC") == 1 and ids.index(b"AIGC") < ids.index(b"data")


def test_bad_files(tmp_path):
    empty = tmp_path / "e.png"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        read_record(empty)
    with pytest.raises(MediaError, match="not found"):
        read_record(tmp_path / "missing.png")
    junk = tmp_path / "j.bin"
    junk.write_bytes(b"hello world, not media")
    with pytest.raises(MediaError, match="unsupported"):
        write_record(junk, rec())
    good = tmp_path / "g.png"
    samples.make_image(good)
    data = good.read_bytes()
    trunc = tmp_path / "t.png"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="truncated"):
        write_record(trunc, rec())
    assert trunc.read_bytes() == data[: len(data) // 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.png", "g.png", "j.bin", "t.png"]  # no temp left


def test_malformed_record_in_file_is_a_metadata_error(tmp_path):
    path = tmp_path / "m.wav"
    samples.make_audio(path, codec="pcm_s16le", seconds=0.2)
    data = riff_wav.write(path.read_bytes(), '{"Label":"1","ContentProducer":"a b"}')
    path.write_bytes(data)
    with pytest.raises(MetadataError, match="ContentProducer"):
        read_record(path)


def test_write_rejects_non_record(tmp_path):
    path = tmp_path / "x.png"
    samples.make_image(path)
    with pytest.raises(MetadataError):
        write_record(path, {"Label": "1"})
