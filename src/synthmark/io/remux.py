"""Lossless remux (stream copy) with new container metadata: MP4/MOV (``moov/udta/meta`` keys, via
``movflags=use_metadata_tags``) and Matroska/WebM (a global SimpleTag). No stream is re-encoded.
"""

from __future__ import annotations

import os

import av

from ..errors import MediaError

#: tags are untrusted bytes: text that is not UTF-8 is read with U+FFFD in place of the bad bytes (an
#: AIGC record damaged so is then malformed: MetadataError), never a UnicodeDecodeError
METADATA_ERRORS = "replace"

#: muxer options that make a container keep custom metadata keys
MUXER_OPTIONS = {
    "mp4": {"movflags": "use_metadata_tags"},
    "mov": {"movflags": "use_metadata_tags"},
    "ipod": {"movflags": "use_metadata_tags"},
}


def read_container_metadata(path) -> dict:
    try:
        with av.open(os.fspath(path), metadata_errors=METADATA_ERRORS) as c:
            return dict(c.metadata)
    except av.FFmpegError as exc:
        raise MediaError(f"cannot open {os.fspath(path)}: {exc.strerror or exc} (corrupt, truncated or unsupported)") from None


def remux(src, dst, muxer: str, metadata: dict) -> None:
    """Copy every stream of ``src`` into ``dst`` with container ``metadata`` merged over the source's."""
    try:
        with av.open(os.fspath(src), metadata_errors=METADATA_ERRORS) as inp, av.open(
            os.fspath(dst), "w", format=muxer, options=MUXER_OPTIONS.get(muxer, {})
        ) as out:
            out.metadata.update(inp.metadata)
            for k in list(out.metadata):
                if k.upper() == "AIGC":
                    del out.metadata[k]
            out.metadata.update(metadata)
            mapping = {}
            for s in inp.streams:
                if s.type not in ("video", "audio", "subtitle"):
                    continue
                try:
                    o = out.add_stream_from_template(s)
                except (ValueError, av.FFmpegError):
                    continue  # a stream the target container cannot hold
                mapping[s.index] = o
            if not mapping:
                raise MediaError(f"no stream of {os.fspath(src)} can be copied into {muxer}")
            for packet in inp.demux(*[inp.streams[i] for i in mapping]):
                if packet.size == 0:  # demuxer flush packet
                    continue
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
    except av.FFmpegError as exc:
        raise MediaError(f"cannot remux {os.fspath(src)}: {exc.strerror or exc}") from None
