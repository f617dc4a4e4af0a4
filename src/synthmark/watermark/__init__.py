"""Keyed imperceptible watermarks (implicit content labels): one module per medium."""

from .video import VideoDetector, VideoWatermarker, detect_frames, watermark_frames

__all__ = ["VideoDetector", "VideoWatermarker", "detect_frames", "watermark_frames"]
