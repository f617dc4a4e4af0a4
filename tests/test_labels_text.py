"""Text labels: both elements required, at the start or the end."""

from __future__ import annotations

import pytest

import synthmark as sm
from synthmark.errors import InvalidArgumentError, InvalidTypeError


def test_label_text_start_and_end():
    body = "今天天气很好。" * 20
    start = sm.label_text(body)
    assert start.startswith("【AI生成】") and start.endswith(body)
    end = sm.label_text(body, position="end", label="人工智能生成合成")
    assert end.endswith("【人工智能生成合成】")
    assert sm.has_text_label(start) and sm.has_text_label(end)
    assert sm.label_text(start) == start  # idempotent


@pytest.mark.parametrize(
    "text,expected",
    [
        ("AI生成：这是一段文字", True),
        ("这是一段很长的文字" * 10 + "（由人工智能生成）", True),
        ("本内容由AI合成", True),
        ("AI写的文章" + "正文" * 30, False),  # AI element only
        ("生成" + "正文" * 30, False),  # generation element only
        ("正文" * 30 + "AI生成" + "正文" * 30, False),  # only in the middle
        ("", False),
    ],
)
def test_has_text_label(text, expected):
    assert sm.has_text_label(text) is expected


def test_bad_labels():
    with pytest.raises(InvalidArgumentError, match="AI element"):
        sm.label_text("x", label="AI")
    with pytest.raises(InvalidArgumentError, match="position"):
        sm.label_text("x", position="middle")
    with pytest.raises(InvalidTypeError):
        sm.has_text_label(b"AI\xe7")
