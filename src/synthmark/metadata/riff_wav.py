"""AIGC record in WAV: a RIFF chunk with id ``AIGC`` (before the ``data`` chunk).

Byte-level: the sample data is copied verbatim; the RIFF size is recomputed and odd-sized chunks get
their pad byte.
"""

from __future__ import annotations

import struct

from ..errors import MediaError

CHUNK_ID = b"AIGC"


def iter_chunks(data: bytes):
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise MediaError("not a RIFF/WAVE file")
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        end = pos + 8 + size
        if end > len(data):
            raise MediaError(f"WAV is truncated (chunk {cid!r} runs past the end of the file)")
        padded = end + (size & 1)
        yield cid, data[pos + 8:end], pos, min(padded, len(data))
        pos = padded
    if pos < len(data) and data[pos:].strip(b"\x00"):
        raise MediaError("WAV is corrupt (trailing bytes after the last chunk)")


def read(data: bytes) -> str | None:
    for cid, body, _s, _e in iter_chunks(data):
        if cid == CHUNK_ID:
            return body.rstrip(b"\x00").decode("utf-8", errors="replace")
    return None


def write(data: bytes, json_text: str) -> bytes:
    body = json_text.encode("ascii")
    chunk = CHUNK_ID + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")
    pieces = []
    placed = False
    saw_data = False
    for cid, _b, s, e in iter_chunks(data):
        if cid == CHUNK_ID:
            continue
        if cid == b"data":
            saw_data = True
            if not placed:
                pieces.append(chunk)
                placed = True
        pieces.append(data[s:e])
    if not saw_data:
        raise MediaError("WAV is corrupt (no data chunk)")
    rest = b"".join(pieces)
    return b"RIFF" + struct.pack("<I", 4 + len(rest)) + b"WAVE" + rest


def sample_data(data: bytes) -> bytes:
    return b"".join(body for cid, body, _s, _e in iter_chunks(data) if cid in (b"fmt ", b"data"))
