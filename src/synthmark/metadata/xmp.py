"""The AIGC record inside an XMP packet (PNG iTXt, JPEG APP1).

Property ``TC260:AIGC`` in namespace ``http://www.tc260.org.cn/ns/AIGC/1.0/``. Written as an element
whose text is the JSON record; read as element or attribute. Other XMP properties in an existing
packet are kept: the record is replaced in place or added as one more ``rdf:Description``.
"""

from __future__ import annotations

import html
import re

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"

_ELEMENT = re.compile(r"<(?P<p>[A-Za-z_][\w.-]*):AIGC\b[^>]*?(?:/>|>(?P<v>.*?)</(?P=p):AIGC\s*>)", re.S)
_ATTRIBUTE = re.compile(r"\s(?P<p>[A-Za-z_][\w.-]*):AIGC\s*=\s*(?P<q>[\"'])(?P<v>.*?)(?P=q)", re.S)
_OUR_DESCRIPTION = re.compile(
    r"<rdf:Description\b[^>]*xmlns:(?P<p>[\w.-]+)=[\"']" + re.escape(TC260_NS) + r"[\"'][^>]*?(?:/>|>.*?</rdf:Description\s*>)",
    re.S,
)


def _prefixes(packet: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"xmlns:([\w.-]+)\s*=\s*[\"']" + re.escape(TC260_NS) + "[\"']", packet)}


def find_record_text(packet: str) -> str | None:
    """The JSON text of the AIGC property in an XMP packet, or None."""
    prefixes = _prefixes(packet) or {"TC260"}
    for m in _ELEMENT.finditer(packet):
        if m.group("p") in prefixes and m.group("v") is not None:
            v = m.group("v").strip()
            # <TC260:AIGC><rdf:Alt>... is not used by anyone we know of; plain text only
            return html.unescape(v)
    for m in _ATTRIBUTE.finditer(packet):
        if m.group("p") in prefixes:
            return html.unescape(m.group("v"))
    return None


def _description(json_text: str) -> str:
    return (
        f'<rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}">'
        f"<TC260:AIGC>{html.escape(json_text, quote=False)}</TC260:AIGC>"
        "</rdf:Description>"
    )


def new_packet(json_text: str) -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        + _description(json_text)
        + "</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )


def set_record_text(packet: str | None, json_text: str) -> str:
    """``packet`` with its AIGC property set to ``json_text`` (one property; others kept)."""
    if not packet or "</rdf:RDF>" not in packet:
        return new_packet(json_text)
    # Drop every existing AIGC property (ours as a whole description, others' as element/attribute).
    packet = _OUR_DESCRIPTION.sub("", packet)
    for prefix in _prefixes(packet):
        packet = re.sub(rf"<{re.escape(prefix)}:AIGC\b[^>]*?(?:/>|>.*?</{re.escape(prefix)}:AIGC\s*>)", "", packet, flags=re.S)
        packet = re.sub(rf"\s{re.escape(prefix)}:AIGC\s*=\s*([\"']).*?\1", "", packet, flags=re.S)
    i = packet.index("</rdf:RDF>")
    return packet[:i] + _description(json_text) + packet[i:]
