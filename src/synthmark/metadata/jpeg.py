"""AIGC record in JPEG: XMP in an APP1 segment (``http://ns.adobe.com/xap/1.0/``).

Byte-level segment rewrite: everything from the start-of-scan marker on (the entropy-coded picture)
is copied verbatim, so the picture is never re-encoded.
"""

from __future__ import annotations

import struct

from ..errors import MediaError, MetadataError
from . import xmp

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_SEGMENT = 65533  # payload bytes of one marker segment (length field counts itself)


def iter_segments(data: bytes):
    """Yield (marker, body, start, end) for the header segments up to SOS; then ("SOS", None, pos, len)."""
    if not data.startswith(b"\xff\xd8"):
        raise MediaError("not a JPEG file (no SOI marker)")
    pos = 2
    while True:
        if pos + 4 > len(data):
            raise MediaError("JPEG is truncated (headers end early)")
        if data[pos] != 0xFF:
            raise MediaError(f"JPEG is corrupt (expected a marker at offset {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            raise MediaError("JPEG is corrupt (end of image before any scan)")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise MediaError("JPEG is truncated (a segment runs past the end of the file)")
        if marker == 0xDA:
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise MediaError("JPEG is truncated (no end-of-image marker)")
            yield "SOS", None, pos, len(data)
            return
        yield marker, data[pos + 4:end], pos, end
        pos = end


#: start-of-frame markers (every coding process); their body starts precision, height, width
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the frame header, read before any decoding; None if there is none."""
    for marker, body, _s, _e in iter_segments(data):
        if marker in SOF_MARKERS and len(body) >= 5:
            height, width = struct.unpack(">HH", body[1:5])
            return width, height
    return None


def read(data: bytes) -> str | None:
    for marker, body, _s, _e in iter_segments(data):
        if marker == 0xE1 and body.startswith(XMP_HEADER):
            try:
                packet = body[len(XMP_HEADER):].decode("utf-8")
            except UnicodeDecodeError:
                continue
            found = xmp.find_record_text(packet)
            if found is not None:
                return found
    return None


def write(data: bytes, json_text: str) -> bytes:
    pieces: list = []
    old_packet = None
    insert_at = None
    for marker, body, s, e in iter_segments(data):
        if marker == "SOS":
            if insert_at is None:
                insert_at = len(pieces)
            pieces.append(data[s:e])
            break
        if marker == 0xE1 and body.startswith(XMP_HEADER):
            if old_packet is None:
                try:
                    old_packet = body[len(XMP_HEADER):].decode("utf-8")
                except UnicodeDecodeError:
                    old_packet = None
                insert_at = len(pieces)
            continue  # every XMP segment is replaced by exactly one
        if insert_at is None and marker not in (0xE0, 0xE1):
            insert_at = len(pieces)  # after JFIF (APP0) and Exif (APP1), before the rest
        pieces.append(data[s:e])
    payload = XMP_HEADER + xmp.set_record_text(old_packet, json_text).encode("utf-8")
    if len(payload) > _MAX_SEGMENT:
        raise MetadataError(f"JPEG: the XMP packet ({len(payload)} bytes) does not fit in one APP1 segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    pieces.insert(insert_at, segment)
    return b"\xff\xd8" + b"".join(pieces)


def scan_data(data: bytes) -> bytes:
    """Quantisation/Huffman tables, frame header and the entropy-coded scans: must stay identical."""
    keep = []
    for marker, body, s, e in iter_segments(data):
        if marker == "SOS" or marker in (0xDB, 0xC4, 0xC0, 0xC1, 0xC2, 0xDD):
            keep.append(data[s:e])
    return b"".join(keep)
