"""AIGC record in PNG: XMP in an iTXt chunk ``XML:com.adobe.xmp`` (also reads tEXt/iTXt ``AIGC``).

Byte-level chunk rewrite: image chunks are copied verbatim (no re-encode); CRCs are computed for the
chunks written. An existing record is replaced, never appended to.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import MediaError, MetadataError
from . import xmp

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
AIGC_KEYWORD = b"AIGC"


def iter_chunks(data: bytes):
    """Yield (type, body, start, end) for every chunk; raise MediaError on a damaged layout."""
    if not data.startswith(SIGNATURE):
        raise MediaError("not a PNG file (bad signature)")
    pos = len(SIGNATURE)
    seen_iend = False
    while pos < len(data):
        if pos + 12 > len(data):
            raise MediaError("PNG is truncated (incomplete chunk header)")
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise MediaError(f"PNG is truncated (chunk {ctype!r} runs past the end of the file)")
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(ctype + body) != crc:
            raise MediaError(f"PNG is corrupt (CRC mismatch in chunk {ctype!r})")
        yield ctype, body, pos, end
        pos = end
        if ctype == b"IEND":
            seen_iend = True
            break
    if not seen_iend:
        raise MediaError("PNG is truncated (no IEND chunk)")


def make_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _itxt_parse(body: bytes):
    """(keyword, text) of an iTXt chunk; None if malformed."""
    try:
        kw, rest = body.split(b"\x00", 1)
        comp_flag, comp_method = rest[0], rest[1]
        rest = rest[2:]
        _lang, rest = rest.split(b"\x00", 1)
        _tkw, text = rest.split(b"\x00", 1)
        if comp_flag:
            if comp_method != 0:
                return None
            text = zlib.decompress(text)
        return kw, text.decode("utf-8")
    except (ValueError, IndexError, zlib.error, UnicodeDecodeError):
        return None


def _itxt_body(keyword: bytes, text: str) -> bytes:
    return keyword + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + text.encode("utf-8")


def _text_value(ctype: bytes, body: bytes):
    if ctype == b"tEXt":
        kw, _, text = body.partition(b"\x00")
        return kw, text.decode("latin-1")
    if ctype == b"zTXt":
        kw, _, rest = body.partition(b"\x00")
        try:
            return kw, zlib.decompress(rest[1:]).decode("latin-1")
        except zlib.error:
            return None
    if ctype == b"iTXt":
        return _itxt_parse(body)
    return None


def read(data: bytes) -> str | None:
    """The record's JSON text, or None. XMP wins over a tEXt ``AIGC`` chunk."""
    found_xmp = found_text = None
    for ctype, body, _s, _e in iter_chunks(data):
        kv = _text_value(ctype, body)
        if kv is None:
            continue
        kw, text = kv
        if kw == XMP_KEYWORD and found_xmp is None:
            found_xmp = xmp.find_record_text(text)
        elif kw == AIGC_KEYWORD and found_text is None:
            found_text = text
    return found_xmp if found_xmp is not None else found_text


def write(data: bytes, json_text: str) -> bytes:
    """``data`` with the record set. Image chunks are copied byte for byte."""
    out = [SIGNATURE]
    old_packet = None
    inserted = False
    pieces = []
    for ctype, body, s, e in iter_chunks(data):
        kv = _text_value(ctype, body) if ctype in (b"tEXt", b"zTXt", b"iTXt") else None
        if kv is not None and kv[0] == AIGC_KEYWORD:
            continue  # a second record carrier: dropped, the XMP one holds the record
        if kv is not None and kv[0] == XMP_KEYWORD:
            if old_packet is None:
                old_packet = kv[1]
                pieces.append(None)  # the XMP chunk goes back where it was
            continue
        pieces.append(data[s:e])
        if ctype == b"IHDR" and not inserted:
            pieces.append(None)
            inserted = True
    if not inserted:
        raise MediaError("PNG is corrupt (no IHDR chunk)")
    new_chunk = make_chunk(b"iTXt", _itxt_body(XMP_KEYWORD, xmp.set_record_text(old_packet, json_text)))
    placed = False
    for p in pieces:
        if p is None:
            if not placed:
                out.append(new_chunk)
                placed = True
        else:
            out.append(p)
    if not placed:
        raise MetadataError("PNG: could not place the XMP chunk")
    return b"".join(out)


def image_chunks(data: bytes) -> bytes:
    """Concatenated IHDR/PLTE/IDAT bodies: what must stay identical across metadata writes."""
    return b"".join(body for ctype, body, _s, _e in iter_chunks(data) if ctype in (b"IHDR", b"PLTE", b"IDAT"))
