"""The GB 45438 Annex E record (the implicit "AIGC" metadata label).

One record per file. Values are plain JSON strings of printable ASCII without space, ``"`` or ``\\``,
at most 2048 characters each. ``Label``: "1" AI-generated, "2" possibly AI-generated (declared by a
user), "3" suspected AI-generated (found by detection). The record is written in its inner form
``{"Label":"1","ContentProducer":...}``; both the inner and the wrapped ``{"AIGC":{...}}`` forms are read.
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass, fields, replace

from ..errors import InvalidTypeError, MetadataError

MAX_VALUE_CHARS = 2048
#: Field names in the order of the standard; the JSON keys of the record.
FIELD_NAMES = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
_ATTRS = ("label", "content_producer", "produce_id", "reserved_code1",
          "content_propagator", "propagate_id", "reserved_code2")
_ATTR_OF = dict(zip(FIELD_NAMES, _ATTRS))
_NAME_OF = dict(zip(_ATTRS, FIELD_NAMES))
LABELS = ("1", "2", "3")
# '!' (0x21) .. '~' (0x7E), minus '"' (0x22) and '\\' (0x5C).
_ALLOWED = re.compile(r'[!#-\[\]-~]*\Z')
_PROVIDER_CODE = re.compile(r"00(11[0-9A-Z]{18}|[0-9A-Z]{20})[12][0-9A-Z]{4}\Z")
_RC1_DOMAIN = b"synthmark/aigc-reserved-code1/v1\x00"


def check_value(field: str, value) -> str:
    """Check one field value against the character set and length rules; return it."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"AIGC {field}: expected str, got {type(value).__name__}")
    if len(value) > MAX_VALUE_CHARS:
        raise MetadataError(f"AIGC {field}: longer than {MAX_VALUE_CHARS} characters ({len(value)})")
    if not _ALLOWED.match(value):
        bad = next(c for c in value if not _ALLOWED.match(c))
        raise MetadataError(
            f"AIGC {field}: character {bad!r} not allowed "
            "(printable ASCII only, without space, '\"' or '\\\\')"
        )
    return value


def is_provider_code(code: str) -> bool:
    """True if ``code`` has the shape of a TC260 provider code.

    27 characters, digits and capital letters: ``00`` + subject code (``11`` + an 18-character unified
    social credit code for an organisation) + extension (``1`` generation / ``2`` distribution, then a
    4-character model or app code). Only the shape is checked; codes outside the scheme are allowed
    everywhere else in synthmark.
    """
    return isinstance(code, str) and len(code) == 27 and bool(_PROVIDER_CODE.match(code))


@dataclass(frozen=True)
class AigcRecord:
    """An AIGC metadata record. Attributes are the snake_case forms of the standard's field names."""

    label: str = "1"
    content_producer: str = ""
    produce_id: str = ""
    reserved_code1: str = ""
    content_propagator: str = ""
    propagate_id: str = ""
    reserved_code2: str = ""

    def __post_init__(self):
        for f in fields(self):
            check_value(_NAME_OF[f.name], getattr(self, f.name))
        if self.label not in LABELS:
            raise MetadataError(f"AIGC Label: expected one of 1, 2, 3, got {self.label!r}")

    # -- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {name: getattr(self, attr) for name, attr in zip(FIELD_NAMES, _ATTRS)}

    def to_json(self) -> str:
        """The inner form, compact plain JSON, keys in the standard's order."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_dict(cls, d: dict) -> "AigcRecord":
        if not isinstance(d, dict):
            raise MetadataError(f"AIGC record: expected a JSON object, got {type(d).__name__}")
        kwargs = {}
        for name, value in d.items():
            attr = _ATTR_OF.get(name)
            if attr is None:
                continue  # unknown keys from other writers are ignored
            if not isinstance(value, str):
                raise MetadataError(f"AIGC {name}: expected a JSON string, got {type(value).__name__}")
            kwargs[attr] = value
        if "label" not in kwargs:
            raise MetadataError("AIGC record: no Label field")
        return cls(**kwargs)

    @classmethod
    def parse(cls, text) -> "AigcRecord":
        """Parse a record value: the inner object, or one wrapped as ``{"AIGC": {...}}``."""
        if isinstance(text, (bytes, bytearray)):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                raise MetadataError("AIGC record: not UTF-8 text") from None
        if not isinstance(text, str):
            raise InvalidTypeError(f"AIGC record: expected str or bytes, got {type(text).__name__}")
        text = text.strip().rstrip("\x00")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MetadataError(f"AIGC record: not valid JSON ({exc.msg} at offset {exc.pos})") from None
        if isinstance(obj, dict) and "Label" not in obj and isinstance(obj.get("AIGC"), dict):
            obj = obj["AIGC"]
        return cls.from_dict(obj)

    # -- update rules ----------------------------------------------------------------------------
    def merged_over(self, existing: "AigcRecord | None") -> "AigcRecord":
        """This record written over ``existing``: the one record a file should then hold.

        ``Label`` is never downgraded ("1" stays "1"). If ``existing`` names another producer, its
        producer fields are kept and only the propagator fields of this record are taken (a
        distributor cannot overwrite the producer's record).
        """
        if existing is None:
            return self
        label = min(self.label, existing.label)  # "1" is the strongest claim
        if existing.content_producer and existing.content_producer != self.content_producer:
            return replace(existing, label=label, content_propagator=self.content_propagator,
                           propagate_id=self.propagate_id, reserved_code2=self.reserved_code2)
        return replace(self, label=label)

    def relabeled(self, propagator: str, propagate_id: str, *, label: str | None = None,
                  reserved_code2: str = "") -> "AigcRecord":
        """A distributing platform's update: producer fields kept, propagator fields set."""
        new_label = self.label if label is None else min(self.label, check_label(label))
        return replace(self, label=new_label, content_propagator=propagator,
                       propagate_id=propagate_id, reserved_code2=reserved_code2)

    # -- ReservedCode1 ---------------------------------------------------------------------------
    def signed(self, key, payload: int | None) -> "AigcRecord":
        """This record with ``ReservedCode1`` set to the provider's keyed signature."""
        return replace(self, reserved_code1=reserved_code1(key, self, payload))

    def verify(self, key, payload: int | None) -> bool:
        """True if ``ReservedCode1`` is the signature ``key`` makes over this record and ``payload``."""
        if not self.reserved_code1:
            return False
        return hmac.compare_digest(self.reserved_code1, reserved_code1(key, self, payload))


def check_label(label) -> str:
    if label not in LABELS:
        raise MetadataError(f"AIGC Label: expected one of 1, 2, 3, got {label!r}")
    return label


def _signature_message(record: AigcRecord, payload: int | None) -> bytes:
    # Label is left out on purpose: it may only ever be raised, by anyone, without breaking the
    # producer's signature. Fields are NUL-separated (NUL is outside the allowed character set).
    p = "-" if payload is None else f"{int(payload):016x}"
    return _RC1_DOMAIN + b"\x00".join(
        s.encode("ascii") for s in (record.content_producer, record.produce_id, p)
    )


def _hmac_hex(secret: bytes, msg: bytes) -> str:
    from .. import _core  # the key bytes go to the native core and nowhere else

    return _core.hmac_sha256(secret, msg).hex()


def reserved_code1(key, record: AigcRecord, payload: int | None) -> str:
    """Hex HMAC-SHA256 with the provider key over ContentProducer, ProduceID and the watermark payload."""
    from ..keys import Key

    if not isinstance(key, Key):
        raise InvalidTypeError(f"key: expected synthmark.Key, got {type(key).__name__}")
    return _hmac_hex(key.secret_bytes(), _signature_message(record, payload))
