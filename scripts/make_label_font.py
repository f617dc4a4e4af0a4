#!/usr/bin/env python3
"""Build the small bundled label font: Noto Sans CJK SC Bold subset to the default labels + ASCII.

Dev-time only (needs fontTools from the ``dev`` extra and the Debian package fonts-noto-cjk):

    apt-get install -y fonts-noto-cjk && pip install fonttools
    python scripts/make_label_font.py

Writes src/synthmark/labels/fonts/NotoSansSC-Bold-subset.otf and OFL.txt (the SIL Open Font License
1.1 text, with the copyright notice read from the font's own name table). Noto declares no Reserved
Font Name, so the subset may keep its name. Bold is used because thin CJK strokes disappear first at
small sizes.
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "synthmark" / "labels" / "fonts"
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
COPYRIGHT_FILE = Path("/usr/share/doc/fonts-noto-cjk/copyright")
FACE = "Noto Sans CJK SC Bold"
# The default and suggested label wordings (labeling-rules.md section 2) plus printable ASCII.
LABEL_TEXTS = ["AI生成", "人工智能生成", "人工智能生成合成", "合成", "AI合成", "AI生成合成"]
ASCII = "".join(chr(c) for c in range(0x20, 0x7F))


def pick_face(ttc: Path):
    coll = TTCollection(str(ttc))
    for font in coll.fonts:
        if font["name"].getDebugName(4) == FACE:
            return font
    raise SystemExit(f"{FACE!r} not found in {ttc}")


def ofl_text() -> str:
    """The SIL OFL 1.1 body from Debian's machine-readable copyright file."""
    raw = COPYRIGHT_FILE.read_text(encoding="utf-8")
    m = re.search(r"^License: SIL-1\.1\n((?: .*\n)+)", raw, flags=re.M)
    if not m:
        raise SystemExit("OFL text not found in " + str(COPYRIGHT_FILE))
    lines = [ln[1:] for ln in m.group(1).splitlines()]
    return "\n".join("" if ln == "." else ln for ln in lines).strip() + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args()

    font = pick_face(args.source)
    chars = sorted(set("".join(LABEL_TEXTS) + ASCII))
    opts = subset.Options()
    opts.layout_features = ["kern", "palt", "liga"]
    opts.name_IDs = ["*"]  # keep copyright, licence and licence-URL records
    opts.name_languages = [0x409]
    opts.notdef_outline = False  # a missing glyph renders empty; labels.visible rejects such text
    opts.hinting = True
    opts.desubroutinize = True
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=[ord(c) for c in chars])
    sub.subset(font)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / "NotoSansSC-Bold-subset.otf"
    font.save(str(out))
    name = font["name"]
    notice = (
        f"{out.name}: a subset of {FACE} ({name.getDebugName(5)}), glyphs: {''.join(chars).strip()}\n"
        f"Built by scripts/make_label_font.py from {args.source.name} (Debian fonts-noto-cjk).\n\n"
        f"{name.getDebugName(0)}\n\n"
    )
    (args.out_dir / "OFL.txt").write_text(notice + ofl_text(), encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(chars)} characters)")


if __name__ == "__main__":
    main()
