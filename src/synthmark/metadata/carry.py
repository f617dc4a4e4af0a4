"""Foreign metadata of a still carried from the source onto the labeled output.

A labeled still is a new encode of the picture, so the encoder's file holds none of the source's
blocks. ``carry(src, out, kind)`` puts them back: for JPEG every APPn segment (JFIF, Exif, XMP, ICC,
IPTC/APP13, ...) and COM; for PNG the text chunks, pHYs, gAMA, cHRM, sRGB, iCCP, cICP, mDCV, cLLI, eXIf
and tIME, bKGD/sBIT when the bit depth is kept, and chunks it does not know that are safe to copy.
The AIGC record is then written into the carried XMP packet, so other XMP properties are kept.

EXIF Orientation is applied to the pixels by the pipeline before labeling (the visible label must
read upright in every viewer, and the watermark must sit in the orientation people see, which is
also what a platform stores when it bakes the rotation in or strips the tag). So the carried EXIF
gets Orientation 1, its pixel dimensions follow the new picture, and its thumbnail (a picture of
the unlabeled source, in the old orientation) is cut off. An ICC profile whose colour space is not
the output's (a GRAY or CMYK source comes out RGB / YCbCr) is not carried.
"""

from __future__ import annotations

import re
import struct
import zlib

from . import jpeg, png

EXIF_HEADER = b"Exif\x00\x00"
# Blocks that describe the source's encoding rather than its content, so they would be false on ours:
# APP14 "Adobe" (colour transform of the source's scan), APP2 "MPF" (offsets of pictures appended after
# the source's end-of-image, which are not carried).
_JPEG_SKIP_PREFIXES = {0xEE: (b"Adobe",), 0xE2: (b"MPF\x00",)}
PNG_CARRIED = (b"tEXt", b"zTXt", b"iTXt", b"pHYs", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"eXIf", b"tIME",
               # what the pixel values mean for HDR / wide gamut (coding-independent code points, mastering
               # display, content light level; the labeled picture keeps the source's values and meaning)
               b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi")
#: samples at the image's bit depth (or palette indices): carried only when the output keeps the source's
#: bit depth and colour type and has no palette
PNG_SAME_FORMAT = (b"bKGD", b"sBIT")


def _png_safe_to_copy(ctype: bytes) -> bool:
    """A chunk this module does not know that the PNG rules let an editor copy into a file whose picture
    it changed (section 14.2): ancillary (bit 5 of byte 0) and safe-to-copy (bit 5 of byte 3). Standard
    chunks tied to the source's samples (tRNS, hIST, sPLT, ...), APNG frames and C2PA manifests (caBX) are
    marked unsafe-to-copy, so they are dropped."""
    return len(ctype) == 4 and bool(ctype[0] & 0x20) and bool(ctype[3] & 0x20)
_ORIENTATION, _EXIF_IFD, _PIXEL_X, _PIXEL_Y = 0x0112, 0x8769, 0xA002, 0xA003
_THUMB_OFFSET, _THUMB_LENGTH = 0x0201, 0x0202


class _Tiff:
    """Bounds-checked reads and in-place patches of a TIFF (EXIF) block; None on anything malformed."""

    def __init__(self, data: bytes):
        self.b = bytearray(data)
        self.e = {b"II": "<", b"MM": ">"}.get(bytes(self.b[:2]))

    def u16(self, pos):
        return struct.unpack_from(self.e + "H", self.b, pos)[0] if 0 <= pos and pos + 2 <= len(self.b) else None

    def u32(self, pos):
        return struct.unpack_from(self.e + "I", self.b, pos)[0] if 0 <= pos and pos + 4 <= len(self.b) else None

    def entries(self, ifd):
        """(entry offset, tag, type, count) of one IFD, and the offset of its next-IFD pointer."""
        n = self.u16(ifd)
        if n is None or ifd + 2 + 12 * n + 4 > len(self.b):
            return [], None
        out = [(ifd + 2 + 12 * i, self.u16(ifd + 2 + 12 * i), self.u16(ifd + 4 + 12 * i), self.u32(ifd + 6 + 12 * i))
               for i in range(n)]
        return out, ifd + 2 + 12 * n

    def ifd0(self):
        if self.e is None or self.u16(2) != 42:
            return None
        return self.u32(4)

    def value(self, entry, typ):
        return self.u16(entry + 8) if typ == 3 else self.u32(entry + 8)

    def set_value(self, entry, typ, v):
        if typ == 3 and v < 65536:
            struct.pack_into(self.e + "H", self.b, entry + 8, v)
        elif typ == 4:
            struct.pack_into(self.e + "I", self.b, entry + 8, v)


def tiff_orientation(tiff: bytes) -> int:
    """EXIF Orientation (1..8) of a TIFF block; 1 when absent or malformed."""
    t = _Tiff(tiff)
    ifd = t.ifd0()
    if ifd is None:
        return 1
    for entry, tag, typ, count in t.entries(ifd)[0]:
        if tag == _ORIENTATION and typ == 3 and count == 1:
            v = t.value(entry, typ)
            return v if v in range(1, 9) else 1
    return 1


def tiff_normalised(tiff: bytes, width: int, height: int) -> bytes:
    """The TIFF block with Orientation 1, PixelX/YDimension = (width, height) and no thumbnail."""
    t = _Tiff(tiff)
    ifd = t.ifd0()
    if ifd is None:
        return tiff
    entries, next_ptr = t.entries(ifd)
    for entry, tag, typ, count in entries:
        if tag == _ORIENTATION and typ == 3 and count == 1:
            t.set_value(entry, typ, 1)
        elif tag == _EXIF_IFD and typ in (4, 13) and count == 1:
            for e2, tag2, typ2, count2 in t.entries(t.value(entry, 4))[0]:
                if tag2 in (_PIXEL_X, _PIXEL_Y) and typ2 in (3, 4) and count2 == 1:
                    t.set_value(e2, typ2, width if tag2 == _PIXEL_X else height)
    ifd1 = t.u32(next_ptr) if next_ptr is not None else None
    if ifd1:
        thumb = dict((tag, t.value(e, typ)) for e, tag, typ, count in t.entries(ifd1)[0]
                     if tag in (_THUMB_OFFSET, _THUMB_LENGTH) and typ in (3, 4) and count == 1)
        off, n = thumb.get(_THUMB_OFFSET), thumb.get(_THUMB_LENGTH)
        if off is not None and n is not None and off + n <= len(t.b):
            t.b[off:off + n] = bytes(n)  # the unlabeled picture's bytes do not stay behind, unlinked
        struct.pack_into(t.e + "I", t.b, next_ptr, 0)
    return bytes(t.b)


_JPEG_ICC = b"ICC_PROFILE\x00"


def _icc_space(profile_head: bytes) -> bytes | None:
    """The data colour space of an ICC profile (header bytes 16..20: b'RGB ', b'GRAY', b'CMYK', ...)."""
    return bytes(profile_head[16:20]) if len(profile_head) >= 20 else None


def _png_icc_space(body: bytes) -> bytes | None:
    """The colour space of an iCCP chunk's profile (name, 0, method 0, zlib data); None if unreadable."""
    _name, sep, rest = body.partition(b"\x00")
    if not sep or rest[:1] != b"\x00":
        return None
    try:
        return _icc_space(zlib.decompressobj().decompress(rest[1:], 20))  # the header only, never the whole
    except zlib.error:
        return None


def _jpeg_icc_space(src: bytes) -> bytes | None:
    """The colour space of a JPEG's ICC profile (its first APP2 ICC_PROFILE segment); None without one."""
    for marker, body, _s, _e in jpeg.iter_segments(src):
        if marker == 0xE2 and body.startswith(_JPEG_ICC) and body[len(_JPEG_ICC):len(_JPEG_ICC) + 1] == b"\x01":
            return _icc_space(body[len(_JPEG_ICC) + 2:])
    return None


def _jpeg_exif(body: bytes) -> bool:
    return body.startswith(EXIF_HEADER)


def orientation(data: bytes, kind: str) -> int:
    """EXIF Orientation (1..8) of a JPEG or PNG file's bytes; 1 when it has none."""
    if kind == "jpeg":
        for marker, body, _s, _e in jpeg.iter_segments(data):
            if marker == 0xE1 and _jpeg_exif(body):
                return tiff_orientation(body[len(EXIF_HEADER):])
    elif kind == "png":
        for ctype, body, _s, _e in png.iter_chunks(data):
            if ctype == b"eXIf":
                return tiff_orientation(body)
    return 1


_XMP_ORIENTATION = re.compile(rb"(tiff:Orientation\s*=\s*[\"']|<tiff:Orientation>\s*)[1-8]")


def _xmp_oriented(packet: bytes) -> bytes:
    return _XMP_ORIENTATION.sub(rb"\g<1>1", packet)


def carry(src: bytes, out: bytes, kind: str) -> bytes:
    """``out`` (the encoder's file of the labeled picture) with the source's metadata blocks; see the
    module docstring. The picture data of ``out`` is copied byte for byte."""
    if kind == "jpeg":
        return _carry_jpeg(src, out)
    if kind == "png":
        return _carry_png(src, out)
    return out


def _carry_jpeg(src: bytes, out: bytes) -> bytes:
    size = jpeg.dimensions(out)
    # the labeled picture is always YCbCr (3 components): a GRAY or CMYK profile would be misapplied to it
    icc_ok = _jpeg_icc_space(src) in (b"RGB ", None)
    meta = []
    for marker, body, s, e in jpeg.iter_segments(src):
        if marker == "SOS" or not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            continue
        if any(body.startswith(p) for p in _JPEG_SKIP_PREFIXES.get(marker, ())):
            continue
        if marker == 0xE2 and body.startswith(_JPEG_ICC) and not icc_ok:
            continue
        if marker == 0xE1 and _jpeg_exif(body) and size is not None:
            body = EXIF_HEADER + tiff_normalised(body[len(EXIF_HEADER):], *size)
        elif marker == 0xE1 and body.startswith(jpeg.XMP_HEADER):
            body = _xmp_oriented(body)
        meta.append(_segment(marker, body))
    # the encoder's own APPn/COM blocks are replaced by the source's; its tables and scans kept verbatim
    rest = [out[s:e] for marker, _b, s, e in jpeg.iter_segments(out)
            if marker == "SOS" or not (0xE0 <= marker <= 0xEF or marker == 0xFE)]
    return b"\xff\xd8" + b"".join(meta) + b"".join(rest)


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def _carry_png(src: bytes, out: bytes) -> bytes:
    out_chunks = list(png.iter_chunks(out))
    ihdr = next((c for c in out_chunks if c[0] == b"IHDR"), None)
    src_chunks = list(png.iter_chunks(src))
    src_ihdr = next((c for c in src_chunks if c[0] == b"IHDR"), None)
    if ihdr is None or src_ihdr is None:
        return out
    width, height = struct.unpack(">II", ihdr[1][:8])
    # (bit depth, colour type) kept and no palette: samples at the source's depth still mean the same
    same_format = ihdr[1][8:10] == src_ihdr[1][8:10] and ihdr[1][9] != 3
    known = set(PNG_CARRIED) | set(PNG_SAME_FORMAT)
    meta, tail = [], []
    seen_idat = False
    for ctype, body, s, e in src_chunks:
        if ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"eXIf":
            meta.append(png.make_chunk(ctype, tiff_normalised(body, width, height)))
        elif ctype == b"iTXt" and body.startswith(png.XMP_KEYWORD + b"\x00\x00"):  # uncompressed XMP
            meta.append(png.make_chunk(ctype, _xmp_oriented(body)))
        elif ctype == b"iCCP" and _png_icc_space(body) != (b"GRAY" if ihdr[1][9] in (0, 4) else b"RGB "):
            continue  # a profile of another colour space (a grey source comes out RGB) would be invalid
        elif ctype in PNG_CARRIED or (ctype in PNG_SAME_FORMAT and same_format):
            meta.append(src[s:e])
        elif ctype not in known and _png_safe_to_copy(ctype):
            (tail if seen_idat else meta).append(src[s:e])  # on its side of IDAT, as the rules ask
    carried = {c[4:8] for c in meta + tail}
    # the encoder's own copies of what is carried (FFmpeg writes back cICP / mDCV it decoded) are replaced
    rest = [out[s:e] for ctype, _b, s, e in out_chunks
            if ctype != b"IHDR" and ctype not in PNG_CARRIED and ctype not in carried]
    last_idat = max((i for i, r in enumerate(rest) if r[4:8] == b"IDAT"), default=len(rest) - 2)
    rest[last_idat + 1:last_idat + 1] = tail
    return png.SIGNATURE + out[ihdr[2]:ihdr[3]] + b"".join(meta) + b"".join(rest)
