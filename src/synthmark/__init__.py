"""synthmark: labels AI-generated media for China's AIGC labeling rules (GB 45438-2025).

Explicit labels (visible text, audible prompt, text notice), implicit labels (AIGC metadata record and
a keyed watermark that survives re-encoding, scaling and cropping), and tamper-evident audit logs.
"""

from __future__ import annotations

from . import errors
from .detection import Detection
from .keys import Key
from .labels import AudibleLabel, VisibleLabel, has_text_label, label_image, label_text
from .metadata import AigcRecord, read_record, write_record
from .pipeline import Report, inspect_file, label_file, platform_label
from .audit import AuditEvent, AuditLog, on_labeled  # audit log and hooks
from .watermark.video import VideoDetector, VideoWatermarker, detect_frames, watermark_frames
from .watermark.audio import AudioWatermarker, detect_audio, watermark_audio  # audio watermark
from .session import LiveSession  # live streams: per-frame labels + audited session
from .warmup import warm_up  # compile/cache the kernels ahead of traffic
from .policy import Policy, get_policy, set_policy  # the host's compliance policy (user_ref, consent)

__version__ = "0.1.0"

__all__ = [
    "AudibleLabel",
    "VisibleLabel",
    "has_text_label",
    "label_image",
    "label_text",
    "AuditEvent",
    "AuditLog",
    "on_labeled",
    "Detection",
    "Key",
    "VideoDetector",
    "VideoWatermarker",
    "detect_frames",
    "watermark_frames",
    "errors",
    "AigcRecord",
    "Report",
    "inspect_file",
    "label_file",
    "platform_label",
    "read_record",
    "write_record",
    "__version__",
    "AudioWatermarker",
    "detect_audio",
    "watermark_audio",
    "warm_up",
    "LiveSession",
    "Policy",
    "get_policy",
    "set_policy",
]
