"""AIGC record in audio tag formats, through mutagen: MP3 (ID3v2 ``TXXX:AIGC``), FLAC (Vorbis comment
``AIGC``), Ogg Vorbis/Opus (Vorbis comment ``AIGC``).

mutagen rewrites only the tag blocks; the audio frames are copied untouched (no re-encode).
"""

from __future__ import annotations

import os

from ..errors import MediaError, MetadataError, SynthmarkError

try:  # mutagen is a runtime dependency; import lazily so a broken install names itself clearly
    import mutagen
    import mutagen.flac
    import mutagen.id3
    import mutagen.oggopus
    import mutagen.oggvorbis
except ImportError:  # pragma: no cover
    mutagen = None


def _need():
    if mutagen is None:  # pragma: no cover
        raise MetadataError("mutagen is not installed (pip install mutagen): needed for MP3/FLAC/Ogg tags")


def _malformed(kind: str, path, exc: BaseException) -> MediaError:
    """mutagen parses untrusted bytes and some damage escapes it as IndexError, struct.error, ..."""
    detail = exc if isinstance(exc, mutagen.MutagenError) else f"malformed ({type(exc).__name__}: {exc})"
    return MediaError(f"cannot read the {kind.upper()} tags of {os.fspath(path)}: {detail}")


def _open(kind: str, path):
    _need()
    try:
        if kind == "mp3":
            try:
                return mutagen.id3.ID3(path)
            except mutagen.id3.ID3NoHeaderError:
                return mutagen.id3.ID3()
        if kind == "flac":
            f = mutagen.flac.FLAC(path)
            if f.tags is None:
                f.add_tags()
            return f
        if kind == "ogg":
            damage = None
            for cls in (mutagen.oggopus.OggOpus, mutagen.oggvorbis.OggVorbis):
                try:
                    return cls(path)
                except mutagen.MutagenError:
                    continue
                except Exception as exc:  # noqa: BLE001 - damage inside an Opus/Vorbis stream (see _malformed)
                    damage = exc
            if damage is not None:
                raise _malformed(kind, path, damage)
            raise MediaError(f"unsupported Ogg stream (not Opus or Vorbis): {path}")
    except SynthmarkError:
        raise
    except Exception as exc:  # noqa: BLE001 - MutagenError, or damage that escapes mutagen (see _malformed)
        raise _malformed(kind, path, exc) from None
    raise MetadataError(f"no tag writer for {kind}")  # pragma: no cover


def read(kind: str, path) -> str | None:
    tags = _open(kind, path)
    try:
        if kind == "mp3":
            frames = tags.getall("TXXX:AIGC")
            return str(frames[0].text[0]) if frames and frames[0].text else None
        values = tags.tags.get("AIGC") if tags.tags is not None else None
        return str(values[0]) if values else None
    except Exception as exc:  # noqa: BLE001 - see _malformed
        raise _malformed(kind, path, exc) from None


def write(kind: str, path, json_text: str) -> None:
    """Set the record in ``path`` in place (call it on a temporary copy)."""
    tags = _open(kind, path)
    try:
        if kind == "mp3":
            tags.delall("TXXX:AIGC")
            tags.add(mutagen.id3.TXXX(encoding=mutagen.id3.Encoding.LATIN1, desc="AIGC", text=[json_text]))
            tags.save(path)
        else:
            tags.tags["AIGC"] = [json_text]  # replaces every AIGC comment by this one
            tags.save()
    except Exception as exc:  # noqa: BLE001 - MutagenError, or damage that escapes mutagen
        raise MetadataError(f"cannot write the {kind.upper()} tag: {exc}") from None
