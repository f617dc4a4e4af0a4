"""Labeling a still keeps the metadata the label does not replace: camera-style JPEG (EXIF with
Orientation/Make/Model, ICC, XMP, IPTC, dpi) and PNG (text chunks, pHYs, gAMA, cHRM, sRGB, iCCP).
The files are built in code with Pillow from a real photograph."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

import synthmark as sm
from synthmark.metadata import carry, jpeg, png, read_record

PHOTO = Path(__file__).parent / "data" / "chelsea.jpg"
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"'
       ' tiff:Orientation="{o}"><dc:creator><rdf:Seq><rdf:li>Jane Doe</rdf:li></rdf:Seq></dc:creator>'
       '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
# IPTC-IIM By-line (2:80) inside a Photoshop 3.0 image resource block 0x0404, as cameras and editors write it
_IIM = b"\x1c\x02\x50" + struct.pack(">H", 8) + b"Jane Doe"
IPTC = b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(_IIM)) + _IIM


@pytest.fixture(scope="module")
def key():
    return sm.Key.from_bytes(b"still-metadata-test-key-01234567")


@pytest.fixture(scope="module")
def photo():
    return Image.open(PHOTO).convert("RGB")  # 451x300


def camera_jpeg(path, photo, orientation):
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0110] = orientation, "Canon", "Canon EOS 5D Mark IV"
    exif.get_ifd(0x8769).update({0xA002: photo.width, 0xA003: photo.height, 0x9003: "2026:05:01 10:00:00"})
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=92, exif=exif, icc_profile=ICC, xmp=XMP.format(o=orientation).encode(), dpi=(300, 300))
    data = buf.getvalue()
    i = data.index(b"\xff\xdb")  # IPTC (APP13) before the tables, as Photoshop places it
    data = data[:i] + b"\xff\xed" + struct.pack(">H", len(IPTC) + 2) + IPTC + data[i:]
    Path(path).write_bytes(data)
    return path


def label(src, dst, key):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sm.label_file(src, dst, key=key, producer="ACME", content_id="still-1")


def segments(data):
    return [(m, b) for m, b, _s, _e in jpeg.iter_segments(data) if m != "SOS"]


def psnr(a, b):
    return 10 * np.log10(255.0**2 / np.mean((a.astype(float) - b.astype(float)) ** 2))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_camera_jpeg_keeps_its_metadata_and_is_shown_upright(orientation, photo, key, tmp_path):
    src = camera_jpeg(tmp_path / "IMG_0001.jpg", photo, orientation)
    dst = tmp_path / "labeled.jpg"
    report = label(src, dst, key)
    out = Image.open(dst)
    exif = out.getexif()
    assert exif[0x010F] == "Canon" and exif[0x0110] == "Canon EOS 5D Mark IV"
    assert exif.get_ifd(0x8769)[0x9003] == "2026:05:01 10:00:00"
    # the orientation is applied to the pixels: stored = displayed, tag 1, dimensions follow
    shown = np.asarray(ImageOps.exif_transpose(Image.open(src)).convert("RGB"))
    assert exif[0x0112] == 1 and out.size == (shown.shape[1], shown.shape[0])
    assert tuple(exif.get_ifd(0x8769)[t] for t in (0xA002, 0xA003)) == out.size
    got = np.asarray(out.convert("RGB"))
    assert psnr(got, shown) > 25  # the label covers a corner only
    if orientation in (2, 3, 4):  # same shape, other orientation: clearly worse
        assert psnr(got, np.asarray(Image.open(src).convert("RGB"))) < psnr(got, shown) - 5
    assert out.info["icc_profile"] == ICC
    assert out.info["dpi"] == (300, 300)
    data = dst.read_bytes()
    assert (0xED, IPTC) in segments(data)
    xmp = out.info["xmp"].decode()
    assert "Jane Doe" in xmp and 'tiff:Orientation="1"' in xmp  # merged: foreign properties and ours
    assert read_record(dst) == report.record
    assert sm.inspect_file(dst, key=key).detections["image"].found
    assert (f"EXIF Orientation {orientation} applied" in " ".join(report.notes)) == (orientation != 1)


def test_exif_thumbnail_of_the_unlabeled_picture_is_dropped():
    """IFD1 (the thumbnail) is unlinked and its bytes zeroed: it shows the picture without the label."""
    thumb = b"\xff\xd8THUMBNAIL-OF-UNLABELED-PICTURE\xff\xd9"
    ifd0 = struct.pack(">H", 1) + struct.pack(">HHII", 0x0112, 3, 1, 6 << 16) + struct.pack(">I", 26)
    ifd1 = struct.pack(">H", 2) + struct.pack(">HHII", 0x0201, 4, 1, 56) + struct.pack(">HHII", 0x0202, 4, 1, len(thumb)) + b"\0" * 4
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd0 + ifd1 + thumb
    assert carry.tiff_orientation(tiff) == 6
    out = carry.tiff_normalised(tiff, 10, 20)
    assert len(out) == len(tiff) and carry.tiff_orientation(out) == 1
    assert b"UNLABELED" not in out and struct.unpack(">I", out[22:26])[0] == 0


def _chunk_bodies(data, types):
    return [(t, b) for t, b, _s, _e in png.iter_chunks(data) if t in types]


@pytest.mark.parametrize("colour", ["icc", "srgb"])
def test_png_keeps_text_dpi_and_colour_chunks(colour, photo, key, tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_itxt("Description", "Katze auf dem Sofa \u00fc", lang="de")
    info.add_text("Comment", "compressed note", zip=True)
    buf = io.BytesIO()
    photo.save(buf, "PNG", pnginfo=info, dpi=(300, 300), **({"icc_profile": ICC} if colour == "icc" else {}))
    data = buf.getvalue()
    extra = png.make_chunk(b"gAMA", struct.pack(">I", 45455)) + png.make_chunk(
        b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    if colour == "srgb":
        extra = png.make_chunk(b"sRGB", b"\x00") + extra
    data = data[:33] + extra + data[33:]  # after IHDR
    src = tmp_path / "scan.png"
    src.write_bytes(data)
    dst = tmp_path / "labeled.png"
    report = label(src, dst, key)
    carried = (b"tEXt", b"zTXt", b"iTXt", b"pHYs", b"gAMA", b"cHRM", b"sRGB", b"iCCP")
    want = _chunk_bodies(data, carried)
    got = [c for c in _chunk_bodies(dst.read_bytes(), carried) if not c[1].startswith(b"XML:com.adobe.xmp\x00")]
    assert got == want
    out = Image.open(dst)
    assert out.info["Author"] == "Jane Doe" and out.info["Comment"] == "compressed note"
    assert out.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert out.info.get("icc_profile") == (ICC if colour == "icc" else None)
    assert read_record(dst) == report.record


def test_png_exif_orientation_is_applied_too(photo, key, tmp_path):
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "Pixel"
    src = tmp_path / "phone.png"
    photo.save(src, "PNG", exif=exif)
    dst = tmp_path / "labeled.png"
    report = label(src, dst, key)
    out = Image.open(dst)
    assert out.size == (photo.height, photo.width)
    assert out.getexif()[0x0112] == 1 and out.getexif()[0x010F] == "Pixel"
    shown = np.asarray(ImageOps.exif_transpose(Image.open(src)).convert("RGB"))
    assert psnr(np.asarray(out.convert("RGB")), shown) > 25
    assert read_record(dst) == report.record


def test_png_keeps_hdr_colour_chunks_and_safe_to_copy_chunks(photo, key, tmp_path):
    """cICP / mDCV / cLLI (what the pixel values mean: transfer, primaries, mastering display) are kept like
    gAMA / cHRM; bKGD and sBIT when the output has the source's bit depth and colour type; chunks this
    code does not know follow the PNG rules for editors (section 14.2): an ancillary chunk marked
    safe-to-copy is kept on its side of IDAT, one marked unsafe-to-copy is dropped."""
    buf = io.BytesIO()
    photo.save(buf, "PNG")
    data = buf.getvalue()
    before = (png.make_chunk(b"cICP", bytes([9, 16, 0, 1])) + png.make_chunk(b"mDCV", bytes(range(24)))
              + png.make_chunk(b"cLLI", struct.pack(">II", 10_000_000, 4_000_000))
              + png.make_chunk(b"bKGD", struct.pack(">3H", 255, 255, 255)) + png.make_chunk(b"sBIT", b"\x08\x08\x08")
              + png.make_chunk(b"prVt", b"vendor data, safe to copy") + png.make_chunk(b"prVT", b"unsafe to copy"))
    after = png.make_chunk(b"tlRn", b"after the picture, safe to copy")
    iend = data.rindex(b"IEND") - 4
    data = data[:33] + before + data[33:iend] + after + data[iend:]
    src = tmp_path / "hdr.png"
    src.write_bytes(data)
    dst = tmp_path / "labeled.png"
    report = label(src, dst, key)
    out = dst.read_bytes()
    types = [t for t, _b, _s, _e in png.iter_chunks(out)]
    bodies = dict((t, b) for t, b, _s, _e in png.iter_chunks(out))
    src_bodies = dict((t, b) for t, b, _s, _e in png.iter_chunks(data))
    for t in (b"cICP", b"mDCV", b"cLLI", b"bKGD", b"sBIT", b"prVt", b"tlRn"):
        assert bodies.get(t) == src_bodies[t], t
    assert b"prVT" not in types
    first_idat, last_idat = types.index(b"IDAT"), len(types) - 1 - types[::-1].index(b"IDAT")
    assert types.index(b"prVt") < first_idat and types.index(b"cICP") < first_idat
    assert last_idat < types.index(b"tlRn") < types.index(b"IEND")
    assert read_record(dst) == report.record


def test_png_bit_depth_dependent_chunks_dropped_when_the_format_changes(key, tmp_path):
    """A 16-bit source comes out 8-bit: its bKGD (16-bit samples) and sBIT would be wrong, so they go."""
    rgb16 = (np.arange(128 * 192 * 3, dtype=np.uint32).reshape(128, 192, 3) * 37 % 65536).astype(">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in rgb16)
    ihdr = struct.pack(">IIBBBBB", 192, 128, 16, 2, 0, 0, 0)
    data = (png.SIGNATURE + png.make_chunk(b"IHDR", ihdr) + png.make_chunk(b"sBIT", b"\x0c\x0c\x0c")
            + png.make_chunk(b"bKGD", struct.pack(">3H", 4095, 0, 0)) + png.make_chunk(b"gAMA", struct.pack(">I", 45455))
            + png.make_chunk(b"IDAT", __import__("zlib").compress(raw)) + png.make_chunk(b"IEND", b""))
    src = tmp_path / "deep.png"
    src.write_bytes(data)
    dst = tmp_path / "labeled.png"
    label(src, dst, key)
    out = dst.read_bytes()
    types = [t for t, _b, _s, _e in png.iter_chunks(out)]
    if out[24:26] != data[24:26]:  # bit depth / colour type changed
        assert b"bKGD" not in types and b"sBIT" not in types
    assert b"gAMA" in types


def _icc_for(space: bytes) -> bytes:
    """The sRGB profile with another data colour space in its header (bytes 16..20): what a grey or CMYK
    scan carries. Only the header matters here."""
    return ICC[:16] + space + ICC[20:]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_icc_profile_of_another_colour_space_is_not_carried(fmt, photo, key, tmp_path):
    """A grey source comes out as an RGB (PNG) / YCbCr (JPEG) picture: its GRAY profile would be invalid
    there (libpng rejects a GRAY iCCP on an RGB PNG; viewers misapply it), so it is dropped. An RGB
    profile on an RGB source is carried (tests above)."""
    grey = photo.convert("L")
    src = tmp_path / ("grey." + fmt.lower())
    grey.save(src, fmt, icc_profile=_icc_for(b"GRAY"), dpi=(300, 300))
    assert Image.open(src).info["icc_profile"][16:20] == b"GRAY"
    dst = tmp_path / ("labeled." + fmt.lower())
    report = label(src, dst, key)
    out = Image.open(dst)
    assert out.mode in ("RGB", "YCbCr") and out.info.get("icc_profile") is None
    assert out.info["dpi"] == pytest.approx((300, 300), abs=0.01)  # the rest is still carried
    assert read_record(dst) == report.record
