"""Explicit labels for text: a notice at the start or end holding an AI element ("AI" / "人工智能") and a
generation element ("生成" / "合成"), labeling-rules.md section 2. "AI" alone is not a label."""

from __future__ import annotations

from ..errors import InvalidArgumentError, InvalidTypeError

AI_ELEMENTS = ("人工智能", "AI", "ＡＩ")
GENERATION_ELEMENTS = ("生成", "合成")
WINDOW = 24  # characters at each end of the text searched for the label


def _is_label(s: str) -> bool:
    return any(a in s for a in AI_ELEMENTS) and any(g in s for g in GENERATION_ELEMENTS)


def label_text(text: str, position: str = "start", label: str = "AI生成", brackets: tuple[str, str] = ("【", "】")) -> str:
    """`text` with the label notice added at its start or end (unchanged if already labeled there)."""
    if not isinstance(text, str) or not isinstance(label, str):
        raise InvalidTypeError("text and label must be str")
    if position not in ("start", "end"):
        raise InvalidArgumentError(f"position: expected 'start' or 'end', got {position!r}")
    if not _is_label(label) or len(label) + sum(map(len, brackets)) > WINDOW:
        raise InvalidArgumentError(
            f"label: {label!r} must hold an AI element {AI_ELEMENTS} and a generation element {GENERATION_ELEMENTS} "
            f"and be at most {WINDOW} characters"
        )
    notice = f"{brackets[0]}{label}{brackets[1]}"
    if position == "start":
        return text if _is_label(text.lstrip()[:WINDOW]) else notice + text
    return text if _is_label(text.rstrip()[-WINDOW:]) else text + notice


def has_text_label(text: str, window: int = WINDOW) -> bool:
    """Whether a label with both elements sits within `window` characters of the start or the end."""
    if not isinstance(text, str):
        raise InvalidTypeError(f"text: expected str, got {type(text).__name__}")
    s = text.strip()
    return _is_label(s[:window]) or _is_label(s[-window:])
