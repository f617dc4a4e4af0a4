"""The result of a watermark detection, shared by every medium."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Detection:
    """What a detector found.

    ``found`` is True when the key's watermark is present with false-alarm probability below the
    detector's threshold. ``payload`` is the decoded 64-bit payload when its CRC verified (it can be
    None while ``found`` is True: the mark is present but too damaged to read). ``false_alarm`` is the
    probability that unmarked content (or another key's mark) scores at least this high.
    """

    found: bool
    payload: int | None
    false_alarm: float
    score: float = 0.0
    details: dict = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        p = "None" if self.payload is None else f"0x{self.payload:016x}"
        return f"Detection(found={self.found}, payload={p}, false_alarm={self.false_alarm:.3g}, score={self.score:.2f})"
