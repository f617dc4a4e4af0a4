"""AIGC record in WAV: a RIFF chunk with id ``AIGC`` (before the ``data`` chunk).

Byte-level: the sample data is copied verbatim; the RIFF size is recomputed and odd-sized chunks get
their pad byte.

A WAV written to a pipe (FFmpeg, sox) cannot seek back to fill in its sizes, so its RIFF and ``data``
sizes say 0xFFFFFFFF: its ``data`` runs to the end of the file, as FFmpeg reads it. Writing the record
into such a file gives it its real sizes.
"""

from __future__ import annotations

import io
import struct

from ..errors import MediaError, MetadataError

CHUNK_ID = b"AIGC"
#: the size a streamed WAV declares for what it could not measure
STREAMED = 0xFFFFFFFF
#: an AIGC chunk larger than this is not a record (records are a few hundred bytes)
MAX_RECORD_BYTES = 1 << 20


def iter_chunks(data: bytes):
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise MediaError("not a RIFF/WAVE file")
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        end = pos + 8 + size
        if end > len(data):
            if cid == b"data" and size == STREAMED:
                yield cid, data[pos + 8:], pos, len(data)
                return
            raise MediaError(f"WAV is truncated (chunk {cid!r} runs past the end of the file)")
        padded = end + (size & 1)
        yield cid, data[pos + 8:end], pos, min(padded, len(data))
        pos = padded
    if pos < len(data) and data[pos:].strip(b"\x00"):
        raise MediaError("WAV is corrupt (trailing bytes after the last chunk)")


def read(data: bytes) -> str | None:
    return read_file(io.BytesIO(data))


def read_file(f) -> str | None:
    """The record's text from an open binary file, reading chunk headers only (not the samples)."""
    n = f.seek(0, io.SEEK_END)
    f.seek(0)
    if n < 12 or f.read(4) != b"RIFF" or (f.read(4), f.read(4))[1] != b"WAVE":
        raise MediaError("not a RIFF/WAVE file")
    pos = 12
    while pos + 8 <= n:
        f.seek(pos)
        cid, size = struct.unpack("<4sI", f.read(8))
        end = pos + 8 + size
        if end > n:
            if cid == b"data" and size == STREAMED:
                return None  # streamed: the samples run to the end, nothing follows them
            raise MediaError(f"WAV is truncated (chunk {cid!r} runs past the end of the file)")
        if cid == CHUNK_ID:
            if size > MAX_RECORD_BYTES:
                raise MetadataError(f"WAV: the AIGC chunk has {size} bytes (a record is at most {MAX_RECORD_BYTES})")
            return f.read(size).rstrip(b"\x00").decode("utf-8", errors="replace")
        pos = end + (size & 1)
    if pos < n and f.read(n - pos).strip(b"\x00"):
        raise MediaError("WAV is corrupt (trailing bytes after the last chunk)")
    return None


def write(data: bytes, json_text: str) -> bytes:
    body = json_text.encode("ascii")
    chunk = CHUNK_ID + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")
    pieces = []
    placed = False
    saw_data = False
    for cid, body, s, e in iter_chunks(data):
        if cid == CHUNK_ID:
            continue
        if cid == b"data":
            saw_data = True
            if not placed:
                pieces.append(chunk)
                placed = True
            # its real size (a streamed WAV declares 0xFFFFFFFF), and its pad byte
            if len(body) >= STREAMED:
                raise MediaError("WAV: more than 4 GiB of samples does not fit a RIFF size (RF64 is not supported)")
            pieces.append(b"data" + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b""))
            continue
        pieces.append(data[s:e])
    if not saw_data:
        raise MediaError("WAV is corrupt (no data chunk)")
    rest = b"".join(pieces)
    return b"RIFF" + struct.pack("<I", 4 + len(rest)) + b"WAVE" + rest


def sample_data(data: bytes) -> bytes:
    return b"".join(body for cid, body, _s, _e in iter_chunks(data) if cid in (b"fmt ", b"data"))
