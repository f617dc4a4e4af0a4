"""The AIGC metadata record (GB 45438 Annex E) and its carriers, one module per format family.

``read_record(path)`` and ``write_record(path, record)`` pick the carrier from the file's magic bytes
(never its extension). Every write goes to a temporary file in the same directory, is read back and
compared, and only then replaces the file: a carrier that drops the tag raises ``MetadataError`` and
leaves the original untouched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import MediaError, MetadataError
from ..io.atomic import publish, remove_quietly, temp_path_for
from . import jpeg, png, riff_wav, tags
from .record import FIELD_NAMES, LABELS, AigcRecord, check_value, is_provider_code, reserved_code1

__all__ = [
    "AigcRecord",
    "FIELD_NAMES",
    "LABELS",
    "check_value",
    "is_provider_code",
    "reserved_code1",
    "sniff",
    "read_record",
    "write_record",
]

_BYTES_KINDS = {"png": png, "jpeg": jpeg, "wav": riff_wav}
_TAG_KINDS = ("mp3", "flac", "ogg")
_CONTAINER_KINDS = {"mp4": "mp4", "mov": "mov", "matroska": "matroska", "webm": "webm"}


def sniff(path) -> str:
    """The format family of ``path`` from its first bytes.

    One of png, jpeg, wav, mp3, flac, ogg, mp4, mov, matroska, webm. Raises MediaError for a
    missing, empty or unrecognised file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except FileNotFoundError:
        raise MediaError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise MediaError(f"not a file: {path}") from None
    except OSError as exc:
        raise MediaError(f"cannot read {path}: {exc.strerror}") from None
    if not head:
        raise MediaError(f"file is empty: {path}")
    if head.startswith(png.SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "matroska"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"free", b"wide"):
        return "mov"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return "mp3"
    raise MediaError(f"unsupported or unrecognised file format: {path}")


def _read_text(path: Path, kind: str, container_metadata: dict | None = None) -> str | None:
    if kind == "wav":  # headers only: a WAV can be gigabytes of samples
        with open(path, "rb") as f:
            return riff_wav.read_file(f)
    if kind in _BYTES_KINDS:
        return _BYTES_KINDS[kind].read(path.read_bytes())
    if kind in _TAG_KINDS:
        return tags.read(kind, path)
    from ..io.remux import read_container_metadata

    md = read_container_metadata(path) if container_metadata is None else container_metadata
    for k, v in md.items():
        if k.upper() == "AIGC" or k.upper().endswith(":AIGC"):
            return v
    return None


def read_record(path, *, container_metadata: dict | None = None) -> AigcRecord | None:
    """The file's AIGC record, or None if it has none. MetadataError if the record is malformed.

    ``container_metadata``: the container tags of an MP4/MOV/MKV/WebM file when the caller already
    opened it (``synthmark.io.transcode.probe(path)["metadata"]``), so the file is not opened again."""
    path = Path(path)
    text = _read_text(path, sniff(path), container_metadata)
    return None if text is None else AigcRecord.parse(text)


def _write_text(src: Path, dst: Path, kind: str, json_text: str) -> None:
    if kind in _BYTES_KINDS:
        dst.write_bytes(_BYTES_KINDS[kind].write(src.read_bytes(), json_text))
    elif kind in _TAG_KINDS:
        shutil.copyfile(src, dst)
        tags.write(kind, dst, json_text)
    else:
        from ..io.remux import remux

        remux(src, dst, _CONTAINER_KINDS[kind], {"AIGC": json_text})


def write_record(path, record: AigcRecord, *, merge: bool = True) -> AigcRecord:
    """Set the file's one AIGC record; return the record written.

    With ``merge`` (the default) the new record is merged over an existing one by the update rules
    (``Label`` never downgraded; another producer's fields kept). Images, WAV and MP3/FLAC are edited
    at the byte/tag level (no re-encode); MP4/MOV/MKV/WebM are remuxed with stream copy.
    """
    if not isinstance(record, AigcRecord):
        raise MetadataError(f"record: expected AigcRecord, got {type(record).__name__}")
    path = Path(path)
    kind = sniff(path)
    if merge:
        record = record.merged_over(read_record(path))
    json_text = record.to_json()
    tmp = temp_path_for(path)
    try:
        _write_text(path, tmp, kind, json_text)
        back = _read_text(tmp, kind)
        if back is None:
            raise MetadataError(f"{kind}: the AIGC record was dropped on write (read back nothing)")
        if AigcRecord.parse(back) != record:
            raise MetadataError(f"{kind}: the AIGC record read back differs from the one written")
        publish(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    return record
