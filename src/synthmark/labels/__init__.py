"""Explicit labels (labeling-rules.md section 2): visible text on images and video frames, an audible prompt
in audio, and a notice in text. Policy lives here; compositing and mixing run in synthmark._core."""

from __future__ import annotations

from .audible import AudibleLabel
from .text import has_text_label, label_text
from .visible import VisibleLabel, label_image

__all__ = ["AudibleLabel", "VisibleLabel", "has_text_label", "label_image", "label_text"]
