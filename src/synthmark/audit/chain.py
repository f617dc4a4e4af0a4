"""The hash chain over audit records, independent of the store.

Each record is ``(seq, kind, recorded_at, body, prev_hash)`` plus its own ``hash``:
``SHA-256(canonical_json({"v", "seq", "kind", "recorded_at", "body", "prev_hash"}))``.
``prev_hash`` is the previous record's hash (64 zeros for seq 1). With a log key, each record also
carries ``mac = HMAC-SHA256(K_log, hash)`` where ``K_log`` is derived from the key's secret with a
domain label, so the watermark key itself never touches the log. Only ``key.id`` is stored.

Because ``seq`` is inside the hash, a record that is altered, deleted (a gap, or a successor whose
``prev_hash`` no longer matches) or moved (its hash was computed at another ``seq``) is named by
``verify_rows``. A purge deletes a prefix and appends an *anchor* record (kind ``"anchor"``) that
states the last purged seq and hash; the walk then starts from that anchor's statement.

Limits, stated plainly: without a log key, someone with write access can recompute the whole chain;
with a key they cannot, but they can still drop the newest records together with the head marker's
newer values (replaying an older marker) or empty the log. Only checkpoints kept outside the store
(checkpoint.py) bound that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .events import AuditEvent, canonical_json

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1
_MAC_DOMAIN = b"synthmark/audit-log-mac/v1"
_HEAD_DOMAIN = b"synthmark/audit-head/v1\x00"


@dataclass(frozen=True)
class AuditRecord:
    """One stored record: an event (``kind='event'``) or a purge anchor (``kind='anchor'``)."""

    seq: int
    kind: str
    event_id: str
    event_time: str
    recorded_at: str
    body: str  # canonical JSON of the event (or of the anchor statement)
    prev_hash: str
    hash: str
    mac: str | None = None

    @property
    def data(self) -> dict:
        return json.loads(self.body)

    @property
    def event(self) -> AuditEvent | None:
        """The AuditEvent, or None for an anchor record."""
        return AuditEvent.from_json(self.body) if self.kind == "event" else None

    def to_dict(self) -> dict:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "event_id": self.event_id,
            "event_time": self.event_time,
            "recorded_at": self.recorded_at,
            "body": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "mac": self.mac,
        }


def record_hash(seq: int, kind: str, recorded_at: str, body: dict, prev_hash: str) -> str:
    material = {
        "v": CHAIN_VERSION,
        "seq": seq,
        "kind": kind,
        "recorded_at": recorded_at,
        "body": body,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(material)).hexdigest()


def mac_key(secret: bytes) -> bytes:
    """The log MAC key derived from a provider key's secret (domain-separated)."""
    return hmac.new(secret, _MAC_DOMAIN, hashlib.sha256).digest()


def record_mac(log_mac_key: bytes, hash_hex: str) -> str:
    return hmac.new(log_mac_key, bytes.fromhex(hash_hex), hashlib.sha256).hexdigest()


def head_marker(rec: AuditRecord, log_mac_key: bytes | None) -> str:
    """The store's head marker (seq and hash of the newest record), MAC'd apart from the record
    itself when the log is signed, so truncating the newest records is caught by ``verify``."""
    d = {"seq": rec.seq, "hash": rec.hash}
    if log_mac_key is not None:
        d["mac"] = hmac.new(log_mac_key, _HEAD_DOMAIN + canonical_json(d), hashlib.sha256).hexdigest()
    return canonical_json(d).decode("ascii")


def head_disagreement(seq: int, hash_hex: str, marker: str | None, log_mac_key: bytes | None) -> str | None:
    """Why the stored head marker does not describe the newest record (seq, hash), or None when it
    does. An empty store without a marker is a new log. With ``log_mac_key`` the marker's MAC is checked."""
    if marker is None:
        return None if seq == 0 else f"the head marker is missing, but records up to seq {seq} remain"
    try:
        d = json.loads(marker)
        mseq, mhash = int(d["seq"]), str(d["hash"])
    except (ValueError, KeyError, TypeError):
        return "the head marker is malformed"
    if (mseq, mhash) != (seq, hash_hex):
        newest = f"the newest record is seq {seq}" if seq else "the store holds no record"
        if mseq == seq:
            newest = f"record seq {seq} has another hash"
        return f"the head marker names seq {mseq}, but {newest}"
    if log_mac_key is not None:
        want = json.loads(head_marker(AuditRecord(mseq, "", "", "", "", "", "", mhash), log_mac_key))["mac"]
        if not hmac.compare_digest(want, str(d.get("mac"))):
            return "the head marker does not verify with the log key"
    return None


def build_record(
    seq: int, kind: str, event_id: str, event_time: str, recorded_at: str, body: dict, prev_hash: str,
    log_mac_key: bytes | None,
) -> AuditRecord:
    h = record_hash(seq, kind, recorded_at, body, prev_hash)
    return AuditRecord(
        seq=seq,
        kind=kind,
        event_id=event_id,
        event_time=event_time,
        recorded_at=recorded_at,
        body=canonical_json(body).decode("utf-8"),
        prev_hash=prev_hash,
        hash=h,
        mac=record_mac(log_mac_key, h) if log_mac_key is not None else None,
    )


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain. ``bool(result)`` is ``result.ok``."""

    ok: bool
    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_hash: str = GENESIS_HASH
    macs_checked: bool = False
    bad_seq: int | None = None
    bad_event_id: str | None = None
    reason: str = ""
    anchors: int = 0
    notes: tuple = field(default=(), compare=False)
    checkpoints: int = 0  # external checkpoints the chain was found to match

    def __bool__(self) -> bool:
        return self.ok

    def summary(self) -> str:
        if self.ok:
            span = f"seq {self.first_seq}..{self.last_seq}" if self.records else "empty log"
            mac = "MACs checked" if self.macs_checked else "MACs not checked"
            cps = f", {self.checkpoints} checkpoint(s) matched" if self.checkpoints else ""
            return f"OK: {self.records} records ({span}), chain intact, {mac}{cps}, head {self.head_hash}"
        who = f"record seq {self.bad_seq}" + (f" (event {self.bad_event_id})" if self.bad_event_id else "")
        return f"BROKEN at {who}: {self.reason}"


def verify_rows(
    rows: Iterable[AuditRecord], anchors: Iterable[AuditRecord] = (), log_mac_key: bytes | None = None,
    signed: bool = False, head: str | None = None,
) -> VerifyResult:
    """Walk ``rows`` (in seq order) and name the first altered, deleted or moved record.

    ``anchors``: every anchor record currently stored (read before the walk; each is also checked
    when the walk reaches it). ``signed``: the log was created with a key, so every record must
    carry a MAC (checked when ``log_mac_key`` is given). ``head``: the store's head marker read
    before the walk; the walk must reach that record with that hash (else the newest were deleted).
    """
    head_seq = head_hash = None
    if head is not None:
        try:
            hd = json.loads(head)
            head_seq, head_hash = int(hd["seq"]), str(hd["hash"])
            head_mac = hd.get("mac")
        except (ValueError, KeyError, TypeError):
            return VerifyResult(ok=False, reason="the store's head marker is malformed (altered)")
    head_seen = False
    anchor_stmt: dict[int, tuple[str, int]] = {}
    for a in anchors:
        try:
            d = json.loads(a.body)
            anchor_stmt[int(d["purged_through_seq"])] = (str(d["purged_through_hash"]), a.seq)
        except (ValueError, KeyError, TypeError):
            pass  # the walk reports the malformed anchor when it reaches it
    expect_seq: int | None = None
    prev_hash = GENESIS_HASH
    first = last = None
    count = 0
    n_anchors = 0
    pending_anchor: int | None = None  # the anchor that vouches for the start must itself verify

    def broken(rec: AuditRecord, seq: int, why: str, event_id: str | None = "") -> VerifyResult:
        return VerifyResult(
            ok=False, records=count, first_seq=first, last_seq=last, head_hash=prev_hash,
            macs_checked=log_mac_key is not None, bad_seq=seq,
            bad_event_id=(rec.event_id if event_id == "" else event_id), reason=why, anchors=n_anchors,
        )

    for rec in rows:
        if expect_seq is None:
            if rec.seq != 1:
                stmt = anchor_stmt.get(rec.seq - 1)
                if stmt is None:
                    return broken(
                        rec, rec.seq - 1,
                        f"records seq 1..{rec.seq - 1} are missing and no purge anchor accounts for them (deleted)",
                        None,
                    )
                if stmt[0] != rec.prev_hash:
                    return broken(rec, rec.seq, "does not follow the purge anchor's last hash (altered or re-linked)")
                prev_hash = rec.prev_hash
                pending_anchor = stmt[1]
            first = rec.seq
        elif rec.seq != expect_seq:
            if rec.seq < expect_seq:
                return broken(rec, rec.seq, f"sequence goes backwards after seq {expect_seq - 1} (reordered)")
            gap = f"seq {expect_seq}" if rec.seq == expect_seq + 1 else f"seq {expect_seq}..{rec.seq - 1}"
            return broken(rec, expect_seq, f"record {gap} is missing (deleted); next present is seq {rec.seq}", None)
        try:
            body = json.loads(rec.body)
        except ValueError:
            return broken(rec, rec.seq, "body is not valid JSON (altered)")
        if rec.kind not in ("event", "anchor"):
            return broken(rec, rec.seq, f"unknown record kind {rec.kind!r} (altered)")
        if rec.kind == "event" and (
            not isinstance(body, dict) or body.get("event_id") != rec.event_id or body.get("time_utc") != rec.event_time
        ):
            return broken(rec, rec.seq, "event_id/time columns disagree with the hashed body (altered)")
        if record_hash(rec.seq, rec.kind, rec.recorded_at, body, rec.prev_hash) != rec.hash:
            return broken(rec, rec.seq, "content does not match its hash (altered, or moved from another position)")
        if rec.prev_hash != prev_hash:
            return broken(
                rec, rec.seq,
                f"prev_hash does not match record seq {rec.seq - 1} (a record before it was altered, removed or reordered)",
            )
        if signed or rec.mac is not None:
            if rec.mac is None:
                return broken(rec, rec.seq, "MAC missing on a signed log (altered)")
            if log_mac_key is not None and not hmac.compare_digest(record_mac(log_mac_key, rec.hash), rec.mac):
                return broken(rec, rec.seq, "MAC does not verify with the log key (altered or re-hashed)")
        if rec.kind == "anchor":
            n_anchors += 1
            if rec.seq == pending_anchor:
                pending_anchor = None
        if rec.seq == head_seq:
            if rec.hash != head_hash:
                return broken(rec, rec.seq, "hash differs from the store's head marker (altered or replaced)")
            head_seen = True
        prev_hash = rec.hash
        last = rec.seq
        expect_seq = rec.seq + 1
        count += 1
    if head_seq is not None and not head_seen:
        missing = f"seq {head_seq}" if last is None or head_seq == last + 1 else f"seq {(last or 0) + 1}..{head_seq}"
        return VerifyResult(
            ok=False, records=count, first_seq=first, last_seq=last, head_hash=prev_hash,
            macs_checked=log_mac_key is not None, bad_seq=(last or 0) + 1,
            reason=f"the newest record(s) {missing} are missing (deleted); the store's head marker names seq {head_seq}",
        )
    if head_seq is not None and log_mac_key is not None:
        want = json.loads(head_marker(AuditRecord(head_seq, "", "", "", "", "", "", head_hash), log_mac_key))["mac"]
        if head_mac is None or not hmac.compare_digest(want, str(head_mac)):
            return VerifyResult(
                ok=False, records=count, first_seq=first, last_seq=last, head_hash=prev_hash, macs_checked=True,
                bad_seq=head_seq, reason="the store's head marker does not verify with the log key (altered)",
            )
    if pending_anchor is not None:
        return VerifyResult(
            ok=False, records=count, first_seq=first, last_seq=last, head_hash=prev_hash,
            macs_checked=log_mac_key is not None, bad_seq=pending_anchor,
            reason="the purge anchor that vouches for the start of the log is missing from the chain",
        )
    return VerifyResult(
        ok=True, records=count, first_seq=first, last_seq=last, head_hash=prev_hash,
        macs_checked=log_mac_key is not None, anchors=n_anchors,
    )


def iter_pages(fetch_page, page: int = 2000) -> Iterator[AuditRecord]:
    """Keyset pagination helper: ``fetch_page(after_seq, limit)`` returns records with seq > after_seq."""
    after = 0
    while True:
        rows = fetch_page(after, page)
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        if len(rows) < page:
            return
